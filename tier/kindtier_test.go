package tier

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/contract"
)

// operatorJournal stands in for the operator's GET /_opconform/journal: it answers the
// entries after since (the reads themselves it does not journal, as the operator does not),
// and counts the entries it sent.
type operatorJournal struct {
	entries []contract.Entry
	sent    int
	fail    bool
}

func (o *operatorJournal) add(user string, class contract.Class) {
	o.entries = append(o.entries, contract.Entry{Seq: uint64(len(o.entries) + 1), RemoteUser: user, Class: class})
}

func (o *operatorJournal) read(since uint64, out *[]contract.Entry) (uint64, error) {
	if o.fail {
		return 0, errors.New("operator harness endpoint: i/o timeout")
	}
	for _, e := range o.entries {
		if e.Seq > since {
			*out = append(*out, e)
		}
	}
	o.sent += len(*out)
	return 7, nil
}

func TestKindJournalReadsEachEntryOnce(t *testing.T) {
	g := NewWithT(t)
	op := &operatorJournal{}
	j := &kindJournal{read: op.read}
	var want []uint64
	for round := range 5 {
		op.add(kindAdmin, contract.ClassOperatorGet)
		op.add("system:anonymous", contract.ClassOperatorDiscovery) // not the admin, whose kubeconfig clients use
		op.add(kindAdmin, contract.ClassOperatorGet)
		want = append(want, op.entries[len(op.entries)-3].Seq, op.entries[len(op.entries)-1].Seq)
		if round == 2 {
			op.fail = true
			g.Expect(seqs(j.entries())).To(Equal(want[:4]), "a failed read keeps what earlier reads gave, and adds nothing")
			op.fail = false
		}
		g.Expect(seqs(j.entries())).To(Equal(want), "round %d: the clients' requests so far, in order", round)
	}
	g.Expect(op.sent).To(Equal(len(op.entries)), "every entry crossed once")
	g.Expect(j.dropped.Load()).To(Equal(uint64(7)), "dropped is the operator's last answer")
}

func seqs(entries []contract.Entry) []uint64 {
	out := []uint64{}
	for _, e := range entries {
		out = append(out, e.Seq)
	}
	return out
}

package journal

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/contract"
)

func TestJournalKeepsTheNewestAndCountsWhatItDrops(t *testing.T) {
	g := NewWithT(t)
	j := New(3)
	for i := 0; i < 5; i++ {
		j.Add(contract.Entry{Path: "/" + string(rune('a'+i))})
	}
	var paths []string
	for _, e := range j.Entries() {
		paths = append(paths, e.Path)
	}
	g.Expect(paths).To(Equal([]string{"/c", "/d", "/e"}), "the newest three")
	g.Expect(j.Dropped()).To(BeEquivalentTo(2))
	g.Expect(j.Since(4)).To(HaveLen(1), "since is a cursor over sequence numbers")
	g.Expect(j.Since(4)[0].Seq).To(BeEquivalentTo(5))
	g.Expect(j.Since(1)).To(HaveLen(3), "a cursor older than what is kept gets what is kept")
	g.Expect(j.Since(5)).To(BeEmpty())

	off := New(-1)
	off.Add(contract.Entry{})
	g.Expect(off.Entries()).To(BeEmpty())
	g.Expect(off.Dropped()).To(BeEquivalentTo(1), "a journal that keeps nothing counts everything dropped")
	g.Expect((&Journal{}).Add(contract.Entry{})).To(BeEquivalentTo(1), "the zero value works")
}

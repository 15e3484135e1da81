package contract

import (
	"strings"
)

// What the requirements' checks share; the checks are in checks_*.go by group: headers,
// session, refusal, compatibility (and the journal).

// where returns the entries that keep holds for, in order.
func where(entries []Entry, keep func(Entry) bool) []Entry {
	var out []Entry
	for _, e := range entries {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// clientSide is what the client sent and received, as the harness recorded it on the
// client's side of the wire; without such a record (the harness's own probes), the journal.
func (o Observation) clientSide() []Entry {
	if o.Sent != nil {
		return o.Sent
	}
	return o.Entries
}

// asReceived is the client's side of the journal's entry i: the recorded request with the
// same method and path, as many of them before it. Without a client-side record, or when it
// lacks the request (JOURNAL-COMPLETE's to say), it is the journal's entry.
func (o Observation) asReceived(i int) Entry {
	e := o.Entries[i]
	if o.Sent == nil {
		return e
	}
	same := func(x Entry) bool { return x.Method == e.Method && x.Path == e.Path }
	k := len(where(o.Entries[:i], same))
	for _, sent := range where(o.Sent, same) {
		if k == 0 {
			return sent
		}
		k--
	}
	return e
}

// operatorEntries are the entries that reached the operator.
func operatorEntries(o Observation) []Entry {
	return where(o.Entries, func(e Entry) bool { return e.Class.IsOperator() })
}

func values(e Entry, name string) []string { return e.Headers[strings.ToLower(name)] }

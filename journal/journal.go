package journal

import (
	"sort"
	"sync"

	"github.com/opconform/opconform/contract"
)

// DefaultCapacity is how many entries a journal keeps by default: far more than a
// cell of a run sends, a bound for a fake operator that runs for long (the binary, or the kind
// tier's pod, which the aggregator keeps checking).
const DefaultCapacity = 50_000

// Journal records entries; it is safe for concurrent use. It keeps at most its capacity, the
// newest; what it had to drop it counts, so that a reader knows its journal is not whole.
// The zero value keeps DefaultCapacity entries.
type Journal struct {
	mu  sync.Mutex
	seq uint64
	// capacity is the most entries kept; 0 means DefaultCapacity, < 0 none.
	capacity int
	// entries holds pointers so that growing the slice copies words, not entries; the
	// oldest is first.
	entries []*contract.Entry
	dropped uint64
}

// New returns a journal that keeps at most capacity entries (0: the default; a
// negative capacity keeps none and counts every entry as dropped).
func New(capacity int) *Journal { return &Journal{capacity: capacity} }

// Add records e, giving it the next sequence number, which it returns. The server records
// its requests itself; a recording proxy records what it forwards.
func (j *Journal) Add(e contract.Entry) uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	limit := j.capacity
	if limit == 0 {
		limit = DefaultCapacity
	}
	if limit < 0 {
		j.dropped++
		return e.Seq
	}
	if len(j.entries) >= limit {
		// drop the oldest; the array is reallocated (and the dropped entries freed) when
		// append runs out of room
		n := len(j.entries) - limit + 1
		clear(j.entries[:n])
		j.entries = j.entries[n:]
		j.dropped += uint64(n)
	}
	j.entries = append(j.entries, &e)
	return e.Seq
}

// Amend changes the entry with sequence number seq, if it is still there.
func (j *Journal) Amend(seq uint64, change func(*contract.Entry)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := len(j.entries) - 1; i >= 0; i-- {
		if j.entries[i].Seq == seq {
			change(j.entries[i])
			return
		}
	}
}

// Entries returns a copy of every entry kept, in arrival order.
func (j *Journal) Entries() []contract.Entry { return j.Since(0) }

// Since returns a copy of the entries kept whose sequence number is above seq, in arrival
// order: a reader pages with the last sequence number it has read.
func (j *Journal) Since(seq uint64) []contract.Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	i := sort.Search(len(j.entries), func(i int) bool { return j.entries[i].Seq > seq })
	out := make([]contract.Entry, len(j.entries)-i)
	for k, e := range j.entries[i:] {
		out[k] = *e
	}
	return out
}

// Dropped is how many entries the journal could not keep, since it started.
func (j *Journal) Dropped() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.dropped
}

// Reset forgets every entry; sequence numbers keep counting.
func (j *Journal) Reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = nil
}

// Select returns the entries that pass f.
func (j *Journal) Select(f contract.Filter) []contract.Entry {
	var out []contract.Entry
	for _, e := range j.Entries() {
		if f.Match(e) {
			out = append(out, e)
		}
	}
	return out
}

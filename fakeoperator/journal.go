package fakeoperator

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/contract"
)

// DefaultJournalCapacity is how many entries a journal keeps by default: far more than a
// cell of a run sends, a bound for a fake operator that runs for long (the binary, or the kind
// tier's pod, which the aggregator keeps checking).
const DefaultJournalCapacity = 50_000

// Journal records entries; it is safe for concurrent use. It keeps at most its capacity, the
// newest; what it had to drop it counts, so that a reader knows its journal is not whole.
// The zero value keeps DefaultJournalCapacity entries.
type Journal struct {
	mu  sync.Mutex
	seq uint64
	// capacity is the most entries kept; 0 means DefaultJournalCapacity, < 0 none.
	capacity int
	// entries holds pointers so that growing the slice copies words, not entries; the
	// oldest is first.
	entries []*contract.Entry
	dropped uint64
}

// NewJournal returns a journal that keeps at most capacity entries (0: the default; a
// negative capacity keeps none and counts every entry as dropped).
func NewJournal(capacity int) *Journal { return &Journal{capacity: capacity} }

// Add records e, giving it the next sequence number, which it returns. The server records
// its requests itself; a recording proxy records what it forwards.
func (j *Journal) Add(e contract.Entry) uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	limit := j.capacity
	if limit == 0 {
		limit = DefaultJournalCapacity
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

// amend changes the entry with sequence number seq, if it is still there.
func (j *Journal) amend(seq uint64, change func(*contract.Entry)) {
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

// JournalDroppedHeader is the answer header of GET /_opconform/journal that says how many
// entries the journal had to drop since it started: a reader that sees it above zero knows
// that what it reads is not the whole journal.
const JournalDroppedHeader = "Opconform-Journal-Dropped"

// serveJournal answers GET /_opconform/journal (filters fingerprint, hostname, class and the
// cursor since=SEQ as query parameters; the count of dropped entries in JournalDroppedHeader)
// and DELETE /_opconform/journal (reset).
func (s *Server) serveJournal(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		var since uint64
		if v := q.Get("since"); v != "" {
			var err error
			if since, err = strconv.ParseUint(v, 10, 64); err != nil {
				writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "query parameter since="+strconv.Quote(v)+" is not a sequence number (a decimal u64)")
				return
			}
		}
		f := contract.Filter{
			Fingerprint: q.Get("fingerprint"), Hostname: q.Get("hostname"),
			HostnameHeader: s.headers.Hostname, Class: contract.Class(q.Get("class")),
		}
		entries := []contract.Entry{}
		for _, e := range s.journal.Since(since) {
			if f.Match(e) {
				entries = append(entries, e)
			}
		}
		w.Header().Set(JournalDroppedHeader, strconv.FormatUint(s.journal.Dropped(), 10))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(entries)
	case http.MethodDelete:
		s.journal.Reset()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "the journal answers GET and DELETE")
	}
}

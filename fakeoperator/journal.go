package fakeoperator

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/opconform/opconform/contract"
)

// Journal records entries; it is safe for concurrent use and loses nothing.
type Journal struct {
	mu  sync.Mutex
	seq uint64
	// entries holds pointers so that growing the slice copies words, not entries.
	entries []*contract.Entry
}

// Add records e, giving it the next sequence number, which it returns. The server records
// its requests itself; a recording proxy records what it forwards.
func (j *Journal) Add(e contract.Entry) uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
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

// Entries returns a copy of every entry, in arrival order.
func (j *Journal) Entries() []contract.Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]contract.Entry, len(j.entries))
	for i, e := range j.entries {
		out[i] = *e
	}
	return out
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

// serveJournal answers GET /_opconform/journal (filters fingerprint, hostname, class as query
// parameters) and DELETE /_opconform/journal (reset).
func (s *Server) serveJournal(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		entries := s.journal.Select(contract.Filter{
			Fingerprint: q.Get("fingerprint"), Hostname: q.Get("hostname"),
			HostnameHeader: s.headers.Hostname, Class: contract.Class(q.Get("class")),
		})
		if entries == nil {
			entries = []contract.Entry{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(entries)
	case http.MethodDelete:
		s.journal.Reset()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "the journal answers GET and DELETE")
	}
}

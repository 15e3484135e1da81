package fakeoperator

import (
	"encoding/json"
	"net/http"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/contract"
)

// JournalDroppedHeader is the answer header of GET /_opconform/journal that says how many
// entries the journal had to drop since it started: a reader that sees it above zero knows
// that what it reads is not the whole journal.
const JournalDroppedHeader = "Opconform-Journal-Dropped"

// InstanceHeader is the answer header of POST /_opconform/reset that carries the operator's
// Options.Instance, when it has one.
const InstanceHeader = "Opconform-Instance"

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

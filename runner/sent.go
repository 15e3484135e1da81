package runner

import (
	"net/http"

	"k8s.io/client-go/rest"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/fakeoperator"
)

// sentRecorder is the harness's own record of what a reference client sent, taken on the
// client's side of the wire: a transport below the client's header layer, so that it sees
// every request as it leaves, with all its headers, WebSocket upgrades included. The
// operator's journal is compared with it (JOURNAL-COMPLETE), not trusted.
type sentRecorder struct {
	journal *fakeoperator.Journal
	headers contract.HeaderNames
}

func newSentRecorder(headers contract.HeaderNames) *sentRecorder {
	return &sentRecorder{journal: fakeoperator.NewJournal(0), headers: headers.OrDefault()}
}

// config returns a copy of cfg whose requests are recorded; a client wraps its header layer
// around it, so the recorder sees what the layer added.
func (s *sentRecorder) config(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			s.journal.Add(contract.RequestEntry(req, s.headers, credentials.HeaderFingerprint))
			return rt.RoundTrip(req)
		})
	})
	return out
}

// roundTripFunc is a function as an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

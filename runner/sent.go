package runner

import (
	"errors"
	"net/http"
	"slices"
	"sync"

	"k8s.io/client-go/rest"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

// sentRecorder is the harness's own record of what a reference client sent, taken on the
// client's side of the wire: a transport below the client's header layer, so that it sees
// every request as it leaves, with all its headers, WebSocket upgrades included, and the
// code it was answered with (0 while there is none: no answer came, or none yet). The
// operator's journal is compared with it (JOURNAL-COMPLETE), not trusted.
type sentRecorder struct {
	headers contract.HeaderNames
	mu      sync.Mutex
	entries []contract.Entry
}

func newSentRecorder(headers contract.HeaderNames) *sentRecorder {
	return &sentRecorder{headers: headers.OrDefault()}
}

// config returns a copy of cfg whose requests are recorded; a client wraps its header layer
// around it, so the recorder sees what the layer added.
func (s *sentRecorder) config(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			i := s.add(contract.RequestEntry(req, s.headers, credentials.HeaderFingerprint))
			resp, err := rt.RoundTrip(req)
			if code := answerCode(resp, err); code != 0 {
				s.answered(i, code)
			}
			return resp, err
		})
	})
	return out
}

func (s *sentRecorder) add(e contract.Entry) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = append(s.entries, e)
	return len(s.entries) - 1
}

func (s *sentRecorder) answered(i, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[i].Code = code
}

// Entries returns a copy of what was recorded, in order.
func (s *sentRecorder) Entries() []contract.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.entries)
}

// answerCode is the code a request was answered with: its response's, or for a refused
// WebSocket upgrade the Status's (-1 when the refusal was no Status); 0 when no answer came.
func answerCode(resp *http.Response, err error) int {
	if resp != nil {
		return resp.StatusCode
	}
	var upgrade *httpstream.UpgradeFailureError
	if !errors.As(err, &upgrade) {
		return 0
	}
	if code := upgradeCode(err); code != 0 {
		return code
	}
	return -1
}

// roundTripFunc is a function as an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

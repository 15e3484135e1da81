package journal

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

// Transport is the harness's own record of what a reference client sent, taken on the
// client's side of the wire: a transport below the client's header layer, so that it sees
// every request as it leaves, with all its headers, WebSocket upgrades included, and the
// code it was answered with (0 while there is none: no answer came, or none yet). The
// operator's journal is compared with it (JOURNAL-COMPLETE), not trusted.
type Transport struct {
	headers contract.HeaderNames
	mu      sync.Mutex
	entries []contract.Entry
}

// NewTransport returns an empty record for clients of the contract's header names.
func NewTransport(headers contract.HeaderNames) *Transport {
	return &Transport{headers: headers.OrDefault()}
}

// Config returns a copy of cfg whose requests are recorded; a client wraps its header layer
// around it, so the recorder sees what the layer added.
func (s *Transport) Config(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			i := s.add(contract.RequestEntry(req, s.headers, credentials.HeaderFingerprint))
			resp, err := rt.RoundTrip(req)
			code, answer := received(resp, err)
			if code != 0 {
				s.answered(i, code, answer)
			}
			return resp, err
		})
	})
	return out
}

func (s *Transport) add(e contract.Entry) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = append(s.entries, e)
	return len(s.entries) - 1
}

func (s *Transport) answered(i, code int, answer *contract.Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &s.entries[i]
	e.Code, e.Answer, e.Duration = code, answer, time.Since(e.Time)
}

// Entries returns a copy of what was recorded, in order.
func (s *Transport) Entries() []contract.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.entries)
}

// received is what the client received: its answer's code, or for a refused WebSocket
// upgrade the code client-go read (from the Status, else from the handshake's status line;
// -1 when neither said); 0 when no answer came. An error answer comes with what it said (its
// body is read, at most maxErrorBody bytes, and put back for the client).
func received(resp *http.Response, err error) (int, *contract.Answer) {
	if resp != nil {
		if resp.StatusCode < 400 {
			return resp.StatusCode, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		return resp.StatusCode, contract.ReadAnswer(resp.Header.Get("Content-Type"), body)
	}
	var upgrade *httpstream.UpgradeFailureError
	if !errors.As(err, &upgrade) {
		return 0, nil
	}
	var se *apierrors.StatusError
	if errors.As(upgrade.Cause, &se) {
		st := se.ErrStatus
		return int(st.Code), contract.NewAnswer("", &contract.AnswerStatus{Code: int(st.Code), Reason: string(st.Reason), Message: st.Message}, nil)
	}
	code := -1
	if m := handshakeStatus.FindStringSubmatch(upgrade.Cause.Error()); m != nil {
		code, _ = strconv.Atoi(m[1])
	}
	return code, contract.NewAnswer("", nil, []byte(upgrade.Cause.Error()))
}

// handshakeStatus finds the status line client-go adds to a failed handshake's error
// ("websocket: bad handshake (401 Unauthorized): …").
var handshakeStatus = regexp.MustCompile(`bad handshake \((\d{3}) `)

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

// roundTripFunc is a function as an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

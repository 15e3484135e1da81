package fakeoperator

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/contract"
)

// call is one request on its way through the server.
type call struct {
	w     *recorder
	r     *http.Request
	route contract.Route
	entry contract.Entry
	start time.Time
	// query is the parsed URL query; queryErr is set when it did not parse.
	query    url.Values
	queryErr error
	// cert is what the certificate header held, nil when absent.
	cert *presented
	// params are the connect parameters (from the query or the connect-params header).
	params url.Values
	// sessionID is the parsed x-session-id of a connect.
	sessionID uint64
	recorded  bool
}

// recorder remembers the status code a handler wrote, and journals its call once, before
// the head goes out: a request is journalled before its client can see any of its answer,
// so that a client that has read a refusal (and exited) finds it in the journal.
type recorder struct {
	http.ResponseWriter
	code   int
	server *Server
	call   *call
}

func (r *recorder) head() { r.server.record(r.call) }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
		r.head()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
		r.head()
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (WebSocket hijack).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack takes over the connection for handlers that need it directly.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// ServeHTTP journals the request, applies faults, front-proxy authentication and the
// profile's header checks, then hands it to its resource handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Done()
	c := s.newCall(w, r)
	defer s.record(c) // a request that wrote no answer
	if c.route.Class == contract.ClassHarness {
		c.recorded = true // the harness's own requests are no client's: not journalled
		s.serveHarness(c)
		return
	}
	if s.applyFault(c) || !s.authenticate(c) || !s.enforce(c) {
		return
	}
	s.dispatch(c)
}

func (s *Server) newCall(w http.ResponseWriter, r *http.Request) *call {
	// one allocation for the call and its recorder
	both := &struct {
		c call
		w recorder
	}{c: call{r: r, start: time.Now()}, w: recorder{ResponseWriter: w, server: s}}
	c := &both.c
	c.w, both.w.call = &both.w, c
	if r.URL.RawQuery != "" {
		c.query, c.queryErr = url.ParseQuery(r.URL.RawQuery)
	}
	upgrade := websocket.IsWebSocketUpgrade(r)
	connect := c.query.Get("connect") == "true"
	c.route = contract.Classify(contract.Request{Method: r.Method, Path: r.URL.Path, Connect: connect, Upgrade: upgrade})
	if values := r.Header.Values(s.keys.Certificate); len(values) > 0 {
		c.cert = s.examineCertificate(values)
	}
	c.entry = contract.Entry{
		Time:          time.Now(), // wall clock: when it happened, whatever the injected clock says
		Method:        r.Method,
		Path:          r.URL.Path,
		Class:         c.route.Class,
		Upgrade:       upgrade,
		Headers:       s.journalHeaders(r.Header),
		ClientVersion: r.Header.Get(s.keys.Version),
		Decision:      contract.DecisionServed,
	}
	if len(c.query) > 0 {
		c.entry.Query = c.query
	}
	if c.cert != nil {
		c.entry.Certificate = &contract.CertificateVerdict{Fingerprint: c.cert.fingerprint, Verdict: c.cert.verdictAt(s.clock.Now()), Values: c.cert.values}
		if c.cert.cert != nil {
			c.entry.Certificate.UserID = c.cert.cert.UserID
		}
	}
	if c.route.Class.IsConnect() {
		c.entry.SessionID = r.Header.Get(s.keys.SessionID)
	}
	return c
}

// journalHeaders copies h for the journal: the certificate header by fingerprint.
func (s *Server) journalHeaders(h http.Header) map[string][]string {
	return contract.JournalHeaders(h, s.headers.Certificate, func(v string) string { return s.verdicts.lookup(v, s.authority).fingerprint })
}

// record adds the call's entry to the journal, once, and returns its sequence number.
func (s *Server) record(c *call) uint64 {
	if c.recorded {
		return 0
	}
	c.recorded = true
	if s.profile.LosesCredentialRequests && c.entry.Class == contract.ClassCredentialRequest {
		return 0 // the broken journal
	}
	if c.entry.RemoteUser != "" && slices.Contains(s.opts.JournalSkipUsers, c.entry.RemoteUser) {
		return 0
	}
	c.entry.Code = c.w.code
	c.entry.Duration = time.Since(c.start)
	if c.entry.Query != nil && len(c.entry.Query) == 0 {
		c.entry.Query = nil
	}
	seq := s.journal.Add(c.entry)
	if log := s.opts.Logger.V(2); log.Enabled() {
		log.Info("request", "method", c.entry.Method, "path", c.entry.Path, "class", c.entry.Class, "code", c.entry.Code)
	}
	return seq
}

// refuse answers with a contract refusal.
func (s *Server) refuse(c *call, code int, reason metav1.StatusReason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.entry.Decision, c.entry.Reason, c.entry.Message = contract.DecisionRefused, string(reason), msg
	s.opts.Logger.V(1).Info("refused", "path", c.entry.Path, "class", c.entry.Class, "reason", reason, "message", msg)
	if s.profile.RefusesWithoutStatus {
		// the broken operator journals its reason, but what goes out is plain text: only
		// the client's side of the wire can tell
		http.Error(c.w, msg, code)
		return
	}
	writeStatus(c.w, code, reason, msg)
}

// fail answers with an ordinary API error (not found, bad request, …).
func (s *Server) fail(c *call, code int, reason metav1.StatusReason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.entry.Reason, c.entry.Message = string(reason), msg
	writeStatus(c.w, code, reason, msg)
}

// notFound answers 404 the way kube-apiserver does for an unknown path or object.
func (s *Server) notFound(c *call, what string) {
	s.fail(c, http.StatusNotFound, metav1.StatusReasonNotFound, "%s not found", what)
}

func (s *Server) dispatch(c *call) {
	switch c.route.Class {
	case contract.ClassDiscovery:
		s.serveDiscovery(c)
	case contract.ClassCoreRead:
		s.serveCore(c)
	case contract.ClassOperatorDiscovery:
		s.serveOperatorDiscovery(c)
	case contract.ClassOperatorGet:
		s.serveOperator(c)
	case contract.ClassCredentialRequest:
		s.serveCredentials(c)
	case contract.ClassTargetList, contract.ClassTargetGet:
		s.serveTargets(c)
	case contract.ClassCopyTargetList, contract.ClassCopyTargetCreate, contract.ClassCopyTargetGet:
		s.serveCopyTargets(c)
	case contract.ClassSessionList, contract.ClassSessionDelete:
		s.serveSessions(c)
	case contract.ClassTargetConnect, contract.ClassCopyTargetConnect, contract.ClassPing:
		s.serveConnect(c)
	case contract.ClassBranchCredentials, contract.ClassPreviewSecrets, contract.ClassQueueSplitList, contract.ClassQueueSplitGet,
		contract.ClassEventWatch, contract.ClassPreviewList, contract.ClassPreviewGet:
		s.serveEndpoint(c)
	default:
		s.fail(c, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource (%s %s)", c.r.Method, c.r.URL.Path)
	}
}

// serveHarness answers the harness's own endpoints, at HarnessPrefix or, through an
// aggregator, at HarnessGroupPrefix.
func (s *Server) serveHarness(c *call) {
	path := c.r.URL.Path
	if name, ok := strings.CutPrefix(path, contract.HarnessGroupPrefix); ok {
		path = contract.HarnessPrefix + name // through the aggregator
	}
	switch path {
	case contract.HarnessPrefix + "journal":
		s.serveJournal(c.w, c.r)
		return
	case contract.HarnessPrefix + "issuing":
		s.serveIssuing(c.w, c.r)
		return
	case contract.HarnessPrefix + "reset":
		if c.r.Method != http.MethodPost {
			writeStatus(c.w, http.StatusMethodNotAllowed, "MethodNotAllowed", "reset answers POST")
			return
		}
		if err := s.resetClock(c.r.URL.Query()); err != nil {
			writeStatus(c.w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error())
			return
		}
		s.Reset()
		if s.opts.Instance != "" {
			c.w.Header().Set(InstanceHeader, s.opts.Instance)
		}
		c.w.WriteHeader(http.StatusNoContent)
		return
	}
	s.notFound(c, "harness endpoint "+c.r.URL.Path)
}

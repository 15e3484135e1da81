package tier

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/fakeoperator"
)

// Recorder is a recording proxy: clients talk to it as to the cluster, it forwards every
// request to the cluster's apiserver with the cluster's credentials and journals it in the
// fake operator's journal format. It gives a real operator, which keeps no journal for us,
// one all the same. Certificates are journalled by fingerprint; their verdict is
// "unjudged" (the proxy does not hold the operator's licence).
type Recorder struct {
	srv     *httptest.Server
	journal *fakeoperator.Journal
	headers contract.HeaderNames
	// Config is what clients get: the proxy's URL and CA, no credentials of their own.
	Config *rest.Config
}

// NewRecorder starts a recording proxy in front of target (the cluster) on a loopback port.
func NewRecorder(target *rest.Config, headers contract.HeaderNames) (*Recorder, error) {
	u, err := url.Parse(target.Host)
	if err != nil {
		return nil, fmt.Errorf("recorder: cluster URL %q: %w", target.Host, err)
	}
	rt, err := rest.TransportFor(target)
	if err != nil {
		return nil, fmt.Errorf("recorder: cluster transport: %w", err)
	}
	r := &Recorder{journal: &fakeoperator.Journal{}, headers: headers.OrDefault()}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = u.Host
			pr.Out.Header.Del("Authorization") // the cluster's credentials, not the client's
		},
		Transport:     rt,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "recorder: forwarding to the cluster: "+err.Error(), http.StatusBadGateway)
		},
	}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.serve(w, req, proxy)
	}))
	r.Config = &rest.Config{Host: r.srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: r.caPEM()}, Timeout: 30 * time.Second}
	return r, nil
}

func (r *Recorder) caPEM() []byte {
	return credentials.EncodeCertificatePEM(r.srv.Certificate().Raw)
}

// serve journals req and forwards it; the entry is recorded when the answer's head is
// written (for upgrades, before the connection turns into a WebSocket).
func (r *Recorder) serve(w http.ResponseWriter, req *http.Request, proxy *httputil.ReverseProxy) {
	start := time.Now()
	q, _ := url.ParseQuery(req.URL.RawQuery)
	upgrade := req.Header.Get("Upgrade") != ""
	e := contract.Entry{
		Time: start, Method: req.Method, Path: req.URL.Path,
		Class:         contract.Classify(req.Method, req.URL.Path, q.Get("connect") == "true", upgrade).Class,
		Upgrade:       upgrade,
		Headers:       contract.JournalHeaders(req.Header.Clone(), r.headers.Certificate, fingerprintValue),
		ClientVersion: req.Header.Get(r.headers.Version),
		Decision:      contract.DecisionServed,
	}
	if len(q) > 0 {
		e.Query = q
	}
	if vs := req.Header.Values(r.headers.Certificate); len(vs) > 0 {
		e.Certificate = &contract.CertificateVerdict{Fingerprint: fingerprintValue(vs[0]), Verdict: contract.Unjudged, Values: len(vs)}
	}
	if e.Class.IsConnect() {
		e.SessionID = req.Header.Get(r.headers.SessionID)
	}
	rec := &recordingWriter{ResponseWriter: w, record: func(code int) {
		e.Code, e.Duration = code, time.Since(start)
		if code == http.StatusUnauthorized || code == http.StatusForbidden {
			e.Decision = contract.DecisionRefused
		}
		r.journal.Add(e)
	}}
	proxy.ServeHTTP(rec, req)
	rec.finish()
}

// fingerprintValue names a certificate header value without repeating it.
func fingerprintValue(v string) string {
	if der, err := credentials.DecodeHeader(v); err == nil {
		return credentials.Fingerprint(der)
	}
	return credentials.Fingerprint([]byte(v))
}

// recordingWriter calls record once, with the status code, when the head is written.
type recordingWriter struct {
	http.ResponseWriter
	once   sync.Once
	record func(code int)
}

func (w *recordingWriter) WriteHeader(code int) {
	w.once.Do(func() { w.record(code) })
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { w.record(http.StatusOK) })
	return w.ResponseWriter.Write(b)
}

// finish records a request that wrote no head (a dropped connection).
func (w *recordingWriter) finish() { w.once.Do(func() { w.record(0) }) }

// Hijack records the upgrade (the proxy hijacks only after the cluster answered 101) and
// hands the connection to the proxy.
func (w *recordingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.once.Do(func() { w.record(http.StatusSwitchingProtocols) })
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the server's writer (Flush).
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Journal returns the recorded entries.
func (r *Recorder) Journal() []contract.Entry { return r.journal.Entries() }

// Close stops the proxy.
func (r *Recorder) Close() { r.srv.Close() }

package journal

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
)

// Proxy is a recording proxy: clients talk to it as to the cluster, it forwards every
// request to the cluster's apiserver with the cluster's credentials and journals it as the
// fake operator journals what reaches it. It gives a real operator, which keeps no journal for us,
// one all the same. Certificates are journalled by fingerprint; their verdict is
// "unjudged" (the proxy does not hold the operator's licence).
type Proxy struct {
	srv     *httptest.Server
	journal *Journal
	headers contract.HeaderNames
	// Config is what clients get: the proxy's URL and CA, no credentials of their own.
	Config *rest.Config
}

// NewProxy starts a recording proxy in front of target (the cluster) on a loopback port.
func NewProxy(target *rest.Config, headers contract.HeaderNames) (*Proxy, error) {
	u, err := url.Parse(target.Host)
	if err != nil {
		return nil, fmt.Errorf("recording proxy: cluster URL %q: %w", target.Host, err)
	}
	rt, err := rest.TransportFor(target)
	if err != nil {
		return nil, fmt.Errorf("recording proxy: cluster transport: %w", err)
	}
	r := &Proxy{journal: &Journal{}, headers: headers.OrDefault()}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = u.Host
			pr.Out.Header.Del("Authorization") // the cluster's credentials, not the client's
		},
		Transport:     rt,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			if rec, ok := w.(*recordingWriter); ok {
				rec.unanswered = true // journalled with code 0: the cluster gave no answer
			}
			http.Error(w, "recording proxy: forwarding to the cluster: "+err.Error(), http.StatusBadGateway)
		},
	}
	r.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.serve(w, req, proxy)
	}))
	r.Config = &rest.Config{Host: r.srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: r.caPEM()}, Timeout: 30 * time.Second}
	return r, nil
}

func (r *Proxy) caPEM() []byte {
	return credentials.EncodeCertificatePEM(r.srv.Certificate().Raw)
}

// serve journals req and forwards it; the entry is recorded when the answer's head is
// written (for upgrades, before the connection turns into a WebSocket).
func (r *Proxy) serve(w http.ResponseWriter, req *http.Request, proxy *httputil.ReverseProxy) {
	start := time.Now()
	e := contract.RequestEntry(req, r.headers, credentials.HeaderFingerprint)
	rec := &recordingWriter{ResponseWriter: w}
	rec.record = func(code int, body []byte) {
		if rec.unanswered {
			code, body = 0, nil
		}
		e.Code, e.Duration = code, time.Since(start)
		if code == http.StatusUnauthorized || code == http.StatusForbidden {
			e.Decision = contract.DecisionRefused
		}
		if code >= 400 {
			// what the client receives: the harness's record of the refusal, not the operator's
			e.Answer = contract.ReadAnswer(rec.Header().Get("Content-Type"), body)
			if st := e.Answer.Status; st != nil {
				e.Reason, e.Message = st.Reason, st.Message
			}
		}
		r.journal.Add(e)
	}
	proxy.ServeHTTP(rec, req)
	rec.finish()
}

// recordingWriter calls record once, with the status code: when the head is written, or
// for an error answer, before any of it goes out, with its body (a Kubernetes Status names
// the refusal's reason): the proxy holds an error answer back (up to maxErrorBody bytes)
// until it is complete, so that a client that has read a refusal finds it journalled.
type recordingWriter struct {
	http.ResponseWriter
	once   sync.Once
	record func(code int, body []byte)
	// held is the code of an error answer being held back, and body what it wrote so far.
	held int
	body []byte
	// unanswered is set when the cluster gave no answer: the proxy answers for it.
	unanswered bool
}

// maxErrorBody bounds what is held of an error answer; a longer one is journalled without
// its reason and passed on as it comes.
const maxErrorBody = 64 << 10

func (w *recordingWriter) WriteHeader(code int) {
	if code >= 400 && w.held == 0 {
		w.held = code
		return
	}
	w.once.Do(func() { w.record(code, nil) })
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.held != 0 {
		if len(w.body)+len(b) <= maxErrorBody {
			w.body = append(w.body, b...)
			return len(b), nil
		}
		if err := w.release(nil); err != nil {
			return 0, err
		}
	}
	w.once.Do(func() { w.record(http.StatusOK, nil) })
	return w.ResponseWriter.Write(b)
}

// release journals the held error answer (with its body, when it is whole) and sends it.
func (w *recordingWriter) release(whole []byte) error {
	code, body := w.held, w.body
	w.held, w.body = 0, nil
	w.once.Do(func() { w.record(code, whole) })
	w.ResponseWriter.WriteHeader(code)
	_, err := w.ResponseWriter.Write(body)
	return err
}

// Flush sends what was written, but nothing of an error answer held back.
func (w *recordingWriter) Flush() {
	if w.held == 0 {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// finish sends a held error answer, or records a request that wrote no head (a dropped
// connection).
func (w *recordingWriter) finish() {
	if w.held != 0 {
		_ = w.release(w.body)
		return
	}
	w.once.Do(func() { w.record(0, nil) })
}

// Hijack records the upgrade (the proxy hijacks only after the cluster answered 101) and
// hands the connection to the proxy.
func (w *recordingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.once.Do(func() { w.record(http.StatusSwitchingProtocols, nil) })
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the server's writer (Flush).
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Journal returns the recorded entries.
func (r *Proxy) Journal() []contract.Entry { return r.journal.Entries() }

// Dropped is how many entries the proxy's journal could not keep.
func (r *Proxy) Dropped() uint64 { return r.journal.Dropped() }

// Close stops the proxy.
func (r *Proxy) Close() { r.srv.Close() }

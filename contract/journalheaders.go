package contract

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// redactedHeaders never reach a journal.
var redactedHeaders = map[string]bool{"authorization": true, "proxy-authorization": true, "cookie": true}

// JournalHeaders copies h under lower-cased names for a journal: every value of the
// certificate header is replaced by fingerprint(value), credentials are redacted. The
// copy shares h's value slices (a server never reuses a request's), so h must not change
// afterwards.
func JournalHeaders(h http.Header, certificate string, fingerprint func(string) string) map[string][]string {
	out := make(map[string][]string, len(h))
	certName := strings.ToLower(certificate)
	for k, vs := range h {
		name, ok := lowerNames[k]
		if !ok {
			name = strings.ToLower(k)
		}
		switch {
		case name == certName:
			fps := make([]string, len(vs))
			for i, v := range vs {
				fps[i] = fingerprint(v)
			}
			out[name] = append(out[name], fps...)
		case redactedHeaders[name]:
			out[name] = []string{"<redacted>"}
		default:
			out[name] = vs
		}
	}
	return out
}

// lowerNames spares the allocation of lower-casing the headers every request carries.
var lowerNames = func() map[string]string {
	m := map[string]string{}
	names := append(MirrordHeaders().Contract(), DesignNoteHeaders().Contract()...)
	names = append(names, "accept", "accept-encoding", "user-agent", "content-type", "content-length", "authorization",
		"connection", "upgrade", "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol", "sec-websocket-extensions",
		"x-remote-user", "x-remote-group", "audit-id", "baggage", "traceparent", "x-forwarded-for", "kubectl-command", "kubectl-session")
	for _, n := range names {
		m[http.CanonicalHeaderKey(n)] = n
	}
	return m
}()

// RequestEntry is the journal entry of a request as it leaves a client (a recording transport)
// or passes a recording proxy: method, path, class, query, headers (the certificate by
// fingerprint), version and session headers. Its answer is not known yet.
func RequestEntry(req *http.Request, h HeaderNames, fingerprint func(string) string) Entry {
	q, _ := url.ParseQuery(req.URL.RawQuery)
	upgrade := req.Header.Get("Upgrade") != ""
	e := Entry{
		Time: time.Now(), Method: req.Method, Path: req.URL.Path,
		Class:         Classify(Request{Method: req.Method, Path: req.URL.Path, Connect: q.Get("connect") == "true", Upgrade: upgrade}).Class,
		Upgrade:       upgrade,
		Headers:       JournalHeaders(req.Header.Clone(), h.Certificate, fingerprint),
		ClientVersion: req.Header.Get(h.Version),
		Decision:      DecisionServed,
	}
	if len(q) > 0 {
		e.Query = q
	}
	if vs := req.Header.Values(h.Certificate); len(vs) > 0 {
		e.Certificate = &CertificateVerdict{Fingerprint: fingerprint(vs[0]), Verdict: Unjudged, Values: len(vs)}
	}
	if e.Class.IsConnect() {
		e.SessionID = req.Header.Get(h.SessionID)
	}
	return e
}

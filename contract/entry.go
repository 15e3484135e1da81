package contract

import (
	"strings"
	"time"
)

// Decisions a journal entry records.
const (
	// DecisionServed: the request was handled (whatever its status code).
	DecisionServed = "served"
	// DecisionRefused: the operator refused the request because of the header contract.
	DecisionRefused = "refused"
	// DecisionFault: an injected fault answered the request.
	DecisionFault = "fault"
)

// Unjudged is the verdict of a certificate journalled by a recording proxy, which does not
// hold the operator's licence.
const Unjudged = "unjudged"

// CertificateVerdict is what the server found of a certificate header, without the
// certificate itself.
type CertificateVerdict struct {
	// Fingerprint is the SHA-256 of the decoded DER ("sha256:<hex>"), or of the raw header
	// value when it did not decode.
	Fingerprint string `json:"fingerprint"`
	// Verdict is "valid" or the refusal reason the problem maps to.
	Verdict string `json:"verdict"`
	// UserID is the client's identity (base64 of its public key), for valid certificates.
	UserID string `json:"userID,omitempty"`
	// Values is how many header lines carried the certificate.
	Values int `json:"values"`
}

// Entry is one request as the operator (or a recording proxy) saw it: the unit of a
// journal, and what the evaluator judges.
type Entry struct {
	Seq    uint64              `json:"seq"`
	Time   time.Time           `json:"time"`
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Query  map[string][]string `json:"query,omitempty"`
	Class  Class               `json:"class"`
	// Upgrade is true for WebSocket upgrade requests.
	Upgrade bool `json:"upgrade,omitempty"`
	// Headers holds every request header under its lower-cased name; the certificate header
	// is replaced by its fingerprint and secrets by "<redacted>".
	Headers     map[string][]string `json:"headers"`
	Certificate *CertificateVerdict `json:"certificate,omitempty"`
	// ClientVersion is the version header's value, empty when absent.
	ClientVersion string `json:"clientVersion,omitempty"`
	// SessionID is the x-session-id value on connects.
	SessionID string `json:"sessionID,omitempty"`
	// RemoteUser and RemoteGroups are the identity a verified front proxy asserted.
	RemoteUser   string        `json:"remoteUser,omitempty"`
	RemoteGroups []string      `json:"remoteGroups,omitempty"`
	Decision     string        `json:"decision"`
	Reason       string        `json:"reason,omitempty"`
	Message      string        `json:"message,omitempty"`
	Code         int           `json:"code"`
	Duration     time.Duration `json:"durationNanos"`
	// Answer is an error answer as the client received it; only records taken on the client's
	// side of the wire have it (see Answer).
	Answer *Answer `json:"answer,omitempty"`
}

// Header returns the first journalled value of the named header.
func (e Entry) Header(name string) string {
	if v := e.Headers[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Filter selects entries by client; empty fields match anything.
type Filter struct {
	// Fingerprint matches the certificate fingerprint.
	Fingerprint string
	// Hostname matches the value of the hostname header (given HostnameHeader).
	Hostname string
	// HostnameHeader is the hostname header's name; default x-client-hostname.
	HostnameHeader string
	// Class matches the request class.
	Class Class
}

// Match reports whether e passes f.
func (f Filter) Match(e Entry) bool {
	if f.Fingerprint != "" && (e.Certificate == nil || e.Certificate.Fingerprint != f.Fingerprint) {
		return false
	}
	if f.Hostname != "" {
		h := f.HostnameHeader
		if h == "" {
			h = MirrordHeaders().Hostname
		}
		if e.Header(h) != f.Hostname {
			return false
		}
	}
	return f.Class == "" || e.Class == f.Class
}

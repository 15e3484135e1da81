package contract

import (
	"net/textproto"
	"strings"
)

// HeaderNames maps each header role of the contract to the wire name that carries it. The
// fake operator and the reference client take their names from here, so another naming of
// the same contract is a change of data, not of code.
type HeaderNames struct {
	// Version carries the client's SemVer (x-mirrord-cli-version).
	Version string `json:"version"`
	// Certificate carries padded standard base64 of the client certificate's DER (x-client-der).
	Certificate string `json:"certificate"`
	// Name carries the user's cleaned real name (x-client-name).
	Name string `json:"name,omitempty"`
	// Hostname carries the cleaned host name (x-client-hostname).
	Hostname string `json:"hostname,omitempty"`
	// Info carries `version=<semver>;platform=<os>/<arch>` in the design-note naming; empty
	// in the mirrord naming.
	Info string `json:"info,omitempty"`
	// SessionID carries the decimal u64 session id on target connects (x-session-id).
	SessionID string `json:"sessionID"`
	// ConnectParams carries base64 of the connect query (x-mirrord-connect-params).
	ConnectParams string `json:"connectParams"`
}

// MirrordHeaders returns the names the shipped mirrord client uses (PROTOCOL.md).
func MirrordHeaders() HeaderNames {
	return HeaderNames{
		Version:       "x-mirrord-cli-version",
		Certificate:   "x-client-der",
		Name:          "x-client-name",
		Hostname:      "x-client-hostname",
		SessionID:     "x-session-id",
		ConnectParams: "x-mirrord-connect-params",
	}
}

// DesignNoteHeaders returns the names of the original design note: X-Mirrord-Version,
// X-Client-Certificate and X-Client-Info; session and connect-params names are unchanged.
func DesignNoteHeaders() HeaderNames {
	h := MirrordHeaders()
	h.Version = "x-mirrord-version"
	h.Certificate = "x-client-certificate"
	h.Name = ""
	h.Hostname = ""
	h.Info = "x-client-info"
	return h
}

// OrDefault returns h, or the mirrord names when h is the zero value.
func (h HeaderNames) OrDefault() HeaderNames {
	if h == (HeaderNames{}) {
		return MirrordHeaders()
	}
	return h
}

// Canonical returns the names in Go's canonical form (textproto.CanonicalMIMEHeaderKey),
// empty ones left empty: the keys under which net/http stores them, so that a lookup with
// them need not canonicalize (and allocate) on every request.
func (h HeaderNames) Canonical() HeaderNames {
	c := func(name string) string {
		if name == "" {
			return ""
		}
		return textproto.CanonicalMIMEHeaderKey(name)
	}
	return HeaderNames{Version: c(h.Version), Certificate: c(h.Certificate), Name: c(h.Name), Hostname: c(h.Hostname),
		Info: c(h.Info), SessionID: c(h.SessionID), ConnectParams: c(h.ConnectParams)}
}

// Contract returns the lower-cased names of every header the contract defines, in a fixed
// order, leaving out roles this naming does not use.
func (h HeaderNames) Contract() []string {
	var out []string
	for _, n := range []string{h.Version, h.Certificate, h.Name, h.Hostname, h.Info, h.SessionID, h.ConnectParams} {
		if n != "" {
			out = append(out, strings.ToLower(n))
		}
	}
	return out
}

// Tracing headers the client may send; they are W3C headers, not part of this contract,
// but operators see them and must accept repeats.
const (
	HeaderBaggage     = "baggage"
	HeaderTraceparent = "traceparent"
)

// Subprotocol is the only WebSocket subprotocol the client offers and accepts.
const Subprotocol = "v4.channel.k8s.io"

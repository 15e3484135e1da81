package client

import (
	"encoding/base64"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/Masterminds/semver/v3"
	"k8s.io/client-go/transport"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

// LayerConfig configures a header Layer.
type LayerConfig struct {
	// Version is the client version the headers carry.
	Version *semver.Version
	// Headers are the header names; zero gives the mirrord names.
	Headers contract.HeaderNames
	// Identity is the raw name and host name the identity headers are made of.
	Identity Identity
	// Defect, if set, breaks the layer on purpose.
	Defect Defect
}

// Layer adds the contract's headers to every request of a client-go configuration: plug
// it in with rest.Config.Wrap(layer.Wrap). Which headers go on which requests follows the
// client version's behaviours. It is safe for concurrent use; SetCertificate may be called
// at any time.
type Layer struct {
	cfg        LayerConfig
	keys       contract.HeaderNames // canonical
	behaviours Behaviours
	// the behaviours that decide, per request, which headers go on it
	every, identityOnConnect, certificateOnConnect bool
	// fixed are the version (and info) headers, identity the name and hostname headers: one-
	// element value slices shared by every request
	fixed, identity []headerValue
	// certificate holds the header value once a certificate is set.
	certificate atomic.Pointer[[]string]
}

// NewLayer returns a layer for cfg.
func NewLayer(cfg LayerConfig) *Layer {
	cfg.Headers = cfg.Headers.OrDefault()
	l := &Layer{cfg: cfg, behaviours: BehavioursAt(cfg.Version), keys: cfg.Headers.Canonical()}
	version := cfg.Version.String()
	if cfg.Defect == DefectNonSemVerVersion {
		version = "v" + version
	}
	l.every, l.identityOnConnect, l.certificateOnConnect = l.behaviours[EveryRequest], l.behaviours[IdentityOnConnect], l.behaviours[CertificateOnConnect]
	k := l.keys
	l.fixed = headerValues(headerValue{k.Version, one(version)}, headerValue{k.Info, one("version=" + version + ";platform=" + runtime.GOOS + "/" + runtime.GOARCH)})
	hostname := identityHeader(cfg.Version, cfg.Identity.Hostname)
	if cfg.Defect == DefectOmitHostname {
		hostname = nil
	}
	l.identity = headerValues(headerValue{k.Name, identityHeader(cfg.Version, cfg.Identity.Name)}, headerValue{k.Hostname, hostname})
	return l
}

// Behaviours returns the behaviours of the layer's client version.
func (l *Layer) Behaviours() Behaviours { return l.behaviours }

// SetCertificate makes every later request carry der in the certificate header.
func (l *Layer) SetCertificate(der []byte) {
	v := credentials.EncodeHeader(der)
	if l.cfg.Defect == DefectPEMCertificate {
		v = base64.StdEncoding.EncodeToString(credentials.EncodeCertificatePEM(der))
	}
	vs := one(v)
	l.certificate.Store(&vs)
}

// SetCertificateHeader makes every later request carry value, verbatim, in the certificate
// header: how a harness makes the client present a broken certificate fixture.
func (l *Layer) SetCertificateHeader(value string) {
	vs := []string{value}[:1:1]
	l.certificate.Store(&vs)
}

// Wrap is a transport.WrapperFunc: it returns rt with the headers added.
func (l *Layer) Wrap(rt http.RoundTripper) http.RoundTripper {
	return &roundTripper{layer: l, next: rt}
}

var _ transport.WrapperFunc = (&Layer{}).Wrap

type roundTripper struct {
	layer *Layer
	next  http.RoundTripper
}

// RoundTrip sends a copy of req with the headers appended (never replacing what the caller
// set, as the mirrord client's header layer appends). The caller's request is not touched.
func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	return rt.next.RoundTrip(rt.layer.stamped(req))
}

// WrappedRoundTripper lets client-go's transport helpers see through the layer.
func (rt *roundTripper) WrappedRoundTripper() http.RoundTripper { return rt.next }

// stamped returns a shallow copy of req whose header map holds req's headers plus the
// contract's. It copies by hand rather than with utilnet.CloneRequest, which deep-copies
// every value: here only the request and the map are new. The caller's value slices are
// shared but never appended to in place (a name the caller already set gets a fresh slice),
// and the added values are the layer's own one-element slices, capped so that any append
// downstream copies them.
func (l *Layer) stamped(req *http.Request) *http.Request {
	add, n := l.values(req)
	out := new(http.Request)
	*out = *req
	out.Header = make(http.Header, len(req.Header)+n)
	for k, vs := range req.Header {
		out.Header[k] = vs
	}
	for _, kv := range add[:n] {
		if old, ok := out.Header[kv.key]; ok {
			out.Header[kv.key] = append(old[:len(old):len(old)], kv.value...)
			continue
		}
		out.Header[kv.key] = kv.value
	}
	return out
}

// headerValue is one header to add.
type headerValue struct {
	key   string
	value []string
}

// values returns the headers req must carry (the first n of the array).
func (l *Layer) values(req *http.Request) (out [5]headerValue, n int) {
	// Only connect-scoped behaviour (old versions, one defect) needs the request's class.
	isConnect := false
	if !l.every || l.cfg.Defect == DefectDropCertificateOnConnect {
		connect := strings.Contains(req.URL.RawQuery, "connect=true")
		isConnect = contract.Classify(contract.Request{Method: req.Method, Path: req.URL.Path, Connect: connect}).Class.IsConnect()
	}
	if l.every {
		n += copy(out[n:], l.fixed)
	}
	if l.every || (l.identityOnConnect && isConnect) {
		n += copy(out[n:], l.identity)
	}
	dropped := l.cfg.Defect == DefectDropCertificateOnConnect && isConnect
	if cert := l.certificate.Load(); cert != nil && !dropped && (l.every || (l.certificateOnConnect && isConnect)) {
		out[n] = headerValue{key: l.keys.Certificate, value: *cert}
		n++
	}
	return out, n
}

// headerValues pairs keys with values, leaving out empty ones.
func headerValues(pairs ...headerValue) []headerValue {
	var out []headerValue
	for _, p := range pairs {
		if p.key != "" && p.value != nil {
			out = append(out, p)
		}
	}
	return out
}

// one returns v as a one-element slice with no room to grow, or nil for "".
func one(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}[:1:1]
}

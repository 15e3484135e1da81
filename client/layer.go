package client

import (
	"encoding/base64"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/Masterminds/semver/v3"
	utilnet "k8s.io/apimachinery/pkg/util/net"
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
	// Identity is what the name and hostname headers carry.
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
	behaviours Behaviours
	version    string
	info       string
	// certificate holds the header value once a certificate is set.
	certificate atomic.Pointer[string]
}

// NewLayer returns a layer for cfg.
func NewLayer(cfg LayerConfig) *Layer {
	cfg.Headers = cfg.Headers.OrDefault()
	l := &Layer{cfg: cfg, behaviours: BehavioursAt(cfg.Version), version: cfg.Version.String()}
	if cfg.Defect == DefectNonSemVerVersion {
		l.version = "v" + l.version
	}
	l.info = "version=" + l.version + ";platform=" + runtime.GOOS + "/" + runtime.GOARCH
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
	l.certificate.Store(&v)
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
// set, as the mirrord client's header layer appends).
func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	out := utilnet.CloneRequest(req) // a shallow copy with its own headers
	rt.layer.stamp(out)
	return rt.next.RoundTrip(out)
}

// WrappedRoundTripper lets client-go's transport helpers see through the layer.
func (rt *roundTripper) WrappedRoundTripper() http.RoundTripper { return rt.next }

// stamp appends the headers req must carry.
func (l *Layer) stamp(req *http.Request) {
	h, b := l.cfg.Headers, l.behaviours
	every := b[EveryRequest]
	// Only connect-scoped behaviour (old versions, one defect) needs the request's class.
	isConnect := false
	if !every || l.cfg.Defect == DefectDropCertificateOnConnect {
		connect := strings.Contains(req.URL.RawQuery, "connect=true")
		isConnect = contract.Classify(req.Method, req.URL.Path, connect, false).Class.IsConnect()
	}
	if every {
		req.Header.Add(h.Version, l.version)
		if h.Info != "" {
			req.Header.Add(h.Info, l.info)
		}
	}
	if every || (b[IdentityOnConnect] && isConnect) {
		if l.cfg.Identity.Name != "" && h.Name != "" {
			req.Header.Add(h.Name, l.cfg.Identity.Name)
		}
		if l.cfg.Identity.Hostname != "" && h.Hostname != "" {
			req.Header.Add(h.Hostname, l.cfg.Identity.Hostname)
		}
	}
	cert := l.certificate.Load()
	dropped := l.cfg.Defect == DefectDropCertificateOnConnect && isConnect
	if cert != nil && !dropped && (every || (b[CertificateOnConnect] && isConnect)) {
		req.Header.Add(h.Certificate, *cert)
	}
}

package client

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"

	"k8s.io/client-go/discovery"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/opconform/opconform/contract"
)

// Options configures a Client.
type Options struct {
	// Config is the cluster to talk to, as loaded from a kubeconfig. It is not modified.
	Config *rest.Config
	// Namespace is the target namespace; default "default".
	Namespace string
	// Build is the client's version and defect.
	Build BuildInfo
	// Headers are the contract's header names; zero gives the mirrord names.
	Headers contract.HeaderNames
	// Identity overrides the local user's name and host name (raw: the version's rules clean
	// them).
	Identity *Identity
	// Store is the credential store.
	Store *Store
	// Out receives the commands' output.
	Out io.Writer
	// Now is the clock for certificate validity; default time.Now.
	Now func() time.Time
	// Clock is what waits are measured on (the copy target's poll); default the real clock.
	Clock clock.Clock
	// ConnectTLS, when set, adjusts the TLS configuration of each WebSocket connect: how a
	// harness that runs many commands against one server lets them resume one TLS session
	// (the mirrord CLI's rustls resumes within a process) and picks the TLS version and key
	// exchange. The headers, the only thing the contract is about, are the same either way.
	ConnectTLS func(*tls.Config)
	// CertificateHeader, when not nil, is sent verbatim as the certificate header in place of
	// the prepared certificate: a harness's way to present a broken certificate fixture.
	CertificateHeader *string
}

// Client runs the reference client's commands.
type Client struct {
	opts  Options
	layer *Layer
	// config is opts.Config with the header layer wrapped in.
	config *rest.Config
	host   string
	http   *http.Client
	// certified and plain are the typed Kubernetes clients, built on first use.
	certified, plain *kubeClients
	// refused is set once the operator refused a request: the client sends nothing after.
	refused bool
	// userID is the identity of the prepared certificate's key.
	userID string
	// switchTo is the second certificate of the switch-certificate defect.
	switchTo []byte
}

// UserID returns the user id (base64 of the public key) of the credential the client
// prepared, or "" before one is prepared.
func (c *Client) UserID() string { return c.userID }

// New returns a client for opts.
func New(opts Options) (*Client, error) {
	if opts.Config == nil {
		return nil, fmt.Errorf("client: no cluster configuration")
	}
	if opts.Build.Version == nil {
		return nil, fmt.Errorf("client: %w", ErrNoVersion)
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	identity := LocalIdentity(BehavioursAt(opts.Build.Version))
	if opts.Identity != nil {
		identity = *opts.Identity
	}
	c := &Client{opts: opts}
	c.layer = NewLayer(LayerConfig{Version: opts.Build.Version, Headers: opts.Headers, Identity: identity, Defect: opts.Build.Defect})
	c.config = rest.CopyConfig(opts.Config)
	c.config.Wrap(c.layer.Wrap)
	hc, err := rest.HTTPClientFor(c.config)
	if err != nil {
		return nil, fmt.Errorf("client: building the HTTP client: %w", err)
	}
	c.http = hc
	c.host = c.config.Host
	return c, nil
}

// kubeClients are the typed clients the client uses (a whole clientset would build some
// fifty), on one HTTP client.
type kubeClients struct {
	core      corev1client.CoreV1Interface
	apps      appsv1client.AppsV1Interface
	discovery discovery.DiscoveryInterface
}

// kube returns the typed clients; certified adds the header layer (the operator client's
// requests to kube-apiserver carry the headers too), otherwise they are plain ones. The
// certified ones share the operator client's HTTP client, as the mirrord CLI's requests
// share one kube client and its connection pool; each kind is built once per command.
func (c *Client) kube(certified bool) (*kubeClients, error) {
	cached := &c.plain
	if certified {
		cached = &c.certified
	}
	if *cached != nil {
		return *cached, nil
	}
	cfg, hc := c.opts.Config, c.http
	if certified {
		cfg = c.config
	} else {
		var err error
		if hc, err = rest.HTTPClientFor(cfg); err != nil {
			return nil, fmt.Errorf("client: building the Kubernetes client: %w", err)
		}
	}
	k := &kubeClients{}
	var err error
	if k.core, err = corev1client.NewForConfigAndClient(cfg, hc); err != nil {
		return nil, fmt.Errorf("client: building the Kubernetes client: %w", err)
	}
	if k.apps, err = appsv1client.NewForConfigAndClient(cfg, hc); err != nil {
		return nil, fmt.Errorf("client: building the Kubernetes client: %w", err)
	}
	if k.discovery, err = discovery.NewDiscoveryClientForConfigAndClient(cfg, hc); err != nil {
		return nil, fmt.Errorf("client: building the Kubernetes client: %w", err)
	}
	*cached = k
	return k, nil
}

// identityHost is the host name the CSR's common name is made from (lower-cased by the
// caller): the raw host name, as the mirrord CLI's certificate_common_name reads it, falling
// back to localhost.
func (c *Client) identityHost() string {
	if h := c.layer.cfg.Identity.Hostname; h != "" && h != "unknown" {
		return h
	}
	return "localhost"
}

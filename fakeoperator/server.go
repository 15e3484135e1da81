package fakeoperator

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Masterminds/semver/v3"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/journal"
)

// Server is a fake operator listening on a loopback port.
type Server struct {
	// URL is the base URL, https://127.0.0.1:port, set once the server is started.
	URL string
	// Listener is the server's listener; it may be replaced before Start.
	Listener net.Listener

	opts      Options
	version   *semver.Version
	minClient *semver.Version
	profile   Profile
	features  []Feature
	headers   contract.HeaderNames
	// keys are the same names in canonical form, for lookups (messages name headers)
	keys contract.HeaderNames
	// lastVersion is the last version header parsed
	lastVersion atomic.Pointer[parsedVersion]
	license     License
	authority   *credentials.Authority
	// foreign and otherLicense sign the certificates of IssueForeignAuthority and
	// IssueOtherLicense; issuing holds the current Issuing.
	foreign, otherLicense *credentials.Authority
	issuing               atomic.Value
	inventory             *Inventory
	clock                 *harnessClock
	caPEM                 []byte
	tlsConfig             *tls.Config
	frontProxy            authenticator.Request
	journal               *journal.Journal
	verdicts              *verdictCache
	faults                *faultSet
	state                 *state
	httpServer            *http.Server
	// operatorHead is the MirrordOperator object's fixed part, as JSON up to its status;
	// idleOperator the whole object while no session is open, with its length.
	operatorHead, idleOperator []byte
	idleOperatorLength         []string

	inflight sync.WaitGroup
	// closing is closed by Close: long-running answers (the event stream) end then.
	closing chan struct{}
	mu      sync.Mutex
	started bool
	closed  bool
	conns   map[net.Conn]struct{} // hijacked (WebSocket) connections, closed by Close
}

// NewServer starts and returns a new server. The caller must call Close when done.
func NewServer(opts Options) (*Server, error) {
	s, err := NewUnstartedServer(opts)
	if err != nil {
		return nil, err
	}
	s.Start()
	return s, nil
}

// NewUnstartedServer returns a new server that listens but does not serve until Start.
func NewUnstartedServer(opts Options) (*Server, error) {
	s := &Server{opts: opts, conns: map[net.Conn]struct{}{}, journal: journal.New(opts.JournalCapacity), verdicts: newVerdictCache(), state: newState(),
		closing: make(chan struct{})}
	if err := s.configure(); err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	s.Listener = l
	return s, nil
}

// configure applies defaults and derives everything the handlers read.
func (s *Server) configure() error {
	o := s.opts
	if o.OperatorVersion == "" {
		if o.Profile != "" {
			if p, err := SelectProfile(o.Profile, nil); err == nil {
				o.OperatorVersion = p.DefaultVersion
			}
		}
		if o.OperatorVersion == "" {
			o.OperatorVersion = DefaultOperatorVersion
		}
	}
	v, err := semver.StrictNewVersion(o.OperatorVersion)
	if err != nil {
		return fmt.Errorf("options: OperatorVersion %q is not SemVer: %w", o.OperatorVersion, err)
	}
	s.version = v
	if s.profile, err = SelectProfile(o.Profile, v); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	if o.JournalCapacity == 0 && s.profile.JournalCapacity != 0 {
		s.journal = journal.New(s.profile.JournalCapacity)
	}
	if o.MinClientVersion != "" {
		s.profile.MinClientVersion = o.MinClientVersion
	}
	if s.profile.MinClientVersion != "" {
		if s.minClient, err = semver.StrictNewVersion(s.profile.MinClientVersion); err != nil {
			return fmt.Errorf("options: MinClientVersion %q is not SemVer: %w", s.profile.MinClientVersion, err)
		}
	}
	s.features = Features(v)
	s.headers = o.Headers.OrDefault()
	s.keys = s.headers.Canonical()
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	s.clock = newHarnessClock(o.Clock)
	s.license = defaultLicense(o.License, s.clock.Now())
	if s.authority, err = credentials.NewAuthority(s.license.authorityLicense(), o.LicenseKey); err != nil {
		return fmt.Errorf("options: licence authority: %w", err)
	}
	if s.license.Fingerprint == "" {
		s.license.Fingerprint = s.authority.LicenseFingerprint()
	}
	if s.foreign, err = credentials.NewAuthority(s.license.authorityLicense(), nil); err != nil {
		return fmt.Errorf("options: a foreign authority: %w", err)
	}
	other := s.license.authorityLicense()
	other.SubscriptionID += "-another"
	if s.otherLicense, err = s.authority.ForLicense(other); err != nil {
		return fmt.Errorf("options: another licence's authority: %w", err)
	}
	s.inventory = o.Inventory
	if s.inventory == nil {
		s.inventory = DefaultInventory()
	}
	if o.CertificateValidity == 0 {
		o.CertificateValidity = 24 * time.Hour
	}
	if o.Backdate == 0 {
		o.Backdate = 5 * time.Minute
	}
	if s.faults, err = newFaultSet(o.Faults); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	if err := s.configureTLS(o); err != nil {
		return err
	}
	s.opts = o
	return s.marshalOperator()
}

func (s *Server) configureTLS(o Options) error {
	cert := o.ServingCert
	if cert == nil {
		ca, err := newServingCA(o.Hosts)
		if err != nil {
			return err
		}
		s.caPEM, cert = ca.certPEM, &ca.leaf
	}
	// X25519 rather than Go's default first choice, the post-quantum hybrid
	// X25519MLKEM768: every client offers X25519 (Go's and rustls's send both key shares),
	// the key exchange is no part of the contract, and ML-KEM (encapsulation here,
	// decapsulation in the client) was 7% of the big matrix's CPU, as clients connect afresh
	// for every command and every WebSocket
	s.tlsConfig = &tls.Config{
		Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"},
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256},
	}
	if o.FrontProxy != nil {
		auth, err := newFrontProxyAuthenticator(*o.FrontProxy)
		if err != nil {
			return fmt.Errorf("options: FrontProxy: %w", err)
		}
		s.frontProxy = auth
		s.tlsConfig.ClientAuth = tls.RequestClientCert
	}
	return nil
}

func defaultLicense(l License, now time.Time) License {
	if l.Organization == "" {
		l.Organization = "Acme"
	}
	if l.Plan == "" {
		l.Plan = "enterprise"
	}
	if l.Name == "" {
		l.Name = l.Organization + "'s " + strings.ToUpper(l.Plan[:1]) + l.Plan[1:] + " License"
	}
	if l.SubscriptionID == "" {
		l.SubscriptionID = "sub-" + strings.ToLower(l.Organization)
	}
	if l.ExpireAt.IsZero() {
		l.ExpireAt = now.AddDate(1, 0, 0)
	}
	return l
}

// Start starts serving TLS on the listener. It panics if called twice, like httptest.
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		panic("fakeoperator: Server already started")
	}
	s.started = true
	s.URL = "https://" + s.Listener.Addr().String()
	s.httpServer = &http.Server{
		Handler:           s,
		TLSConfig:         s.tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	tlsListener := tls.NewListener(s.Listener, s.tlsConfig)
	go func() {
		if err := s.httpServer.Serve(tlsListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.opts.Logger.Error(err, "serving stopped")
		}
	}()
	s.opts.Logger.Info("fake operator serving", "url", s.URL, "profile", s.profile.Name, "version", s.version.String())
}

// Close stops the server at once: it closes the listener and every connection, WebSocket
// sessions included, and waits (at most closeWait) for running handlers to return. It is
// safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.closing)
	conns := s.conns
	s.conns = nil
	started := s.started
	s.mu.Unlock()
	if !started {
		_ = s.Listener.Close()
		return
	}
	_ = s.httpServer.Close()
	for c := range conns {
		_ = c.Close()
	}
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
		s.opts.Logger.Info("handlers still running after close", "waited", closeWait.String())
	}
}

// closeWait bounds how long Close waits for handlers.
const closeWait = 10 * time.Second

// trackConn registers a hijacked connection so Close can end it; it reports false (and
// the caller must close the connection) when the server is already closed.
func (s *Server) trackConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrackConn(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// CAPEM returns the PEM of the CA that signed the serving certificate (nil when the
// certificate was given in Options).
func (s *Server) CAPEM() []byte { return s.caPEM }

// LicenseCAPEM returns the PEM of the licence authority that signs client certificates.
func (s *Server) LicenseCAPEM() []byte { return s.authority.CertPEM() }

// Authority returns the licence authority, e.g. to issue certificates in tests.
func (s *Server) Authority() *credentials.Authority { return s.authority }

// License returns the licence the operator reports.
func (s *Server) License() License { return s.license }

// Profile returns the operator profile in force.
func (s *Server) Profile() Profile { return s.profile }

// Version returns the operator version.
func (s *Server) Version() *semver.Version { return s.version }

// Features returns the advertised supported_features.
func (s *Server) Features() []Feature { return append([]Feature(nil), s.features...) }

// Journal returns the server's journal.
func (s *Server) Journal() *journal.Journal { return s.journal }

// Client returns an HTTP client that trusts the server's CA.
func (s *Server) Client() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.caPEM)
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		Timeout:   30 * time.Second,
	}
}

// RESTConfig returns a client-go configuration for the server as the whole API endpoint.
func (s *Server) RESTConfig() *rest.Config {
	return &rest.Config{Host: s.URL, TLSClientConfig: rest.TLSClientConfig{CAData: s.caPEM}, Timeout: 30 * time.Second}
}

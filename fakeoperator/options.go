package fakeoperator

import (
	"crypto/ed25519"
	"crypto/tls"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

// Options configures a Server. The zero value gives a current operator (version
// DefaultOperatorVersion) with a generated Enterprise licence and a small inventory. Options
// are read when the server is created; changing them afterwards has no effect.
type Options struct {
	// Addr is the listen address; default 127.0.0.1:0 (a random loopback port).
	Addr string
	// OperatorVersion is the operator's SemVer; it selects the profile unless Profile is set.
	OperatorVersion string
	// Profile names a profile explicitly (see Profiles); broken profiles are chosen this way.
	Profile string
	// MinClientVersion overrides the profile's minimum client version.
	MinClientVersion string
	// License is the operator's licence; empty fields get defaults.
	License License
	// LicenseKey signs issued certificates; nil generates one. Give a fixed key to judge
	// committed certificate fixtures.
	LicenseKey ed25519.PrivateKey
	// CertificateValidity is how long issued certificates are valid; default 24h.
	CertificateValidity time.Duration
	// Backdate moves issued certificates' notBefore into the past, for client clock skew;
	// default 5m.
	Backdate time.Duration
	// Inventory is what the core reads and target resolution see; zero gives DefaultInventory.
	Inventory *Inventory
	// Headers are the contract's header names; zero gives the mirrord names.
	Headers contract.HeaderNames
	// Clock is used for issuing and for validity checks; nil is the real clock. Give a
	// k8s.io/utils/clock/testing.FakePassiveClock to test expiry without sleeping.
	Clock clock.PassiveClock
	// Faults are injected per request class, in order; the first that matches applies.
	Faults []Fault
	// FrontProxy, when set, makes the server trust X-Remote-* only from a peer presenting a
	// front-proxy client certificate, as an aggregated API server behind kube-apiserver.
	FrontProxy *FrontProxy
	// ServingCert is the TLS certificate to serve; nil generates a CA and a leaf for
	// 127.0.0.1, ::1, localhost and Hosts.
	ServingCert *tls.Certificate
	// Hosts are extra SANs (IPs or DNS names) for a generated serving certificate.
	Hosts []string
	// Logger receives the server's log lines; the zero value discards them.
	Logger logr.Logger
	// CopyTargetReadyAfter is how long a copy target stays InProgress after it was created,
	// on Clock; zero: Ready at once.
	CopyTargetReadyAfter time.Duration
	// JournalCapacity bounds the journal: the newest entries it keeps; 0 is
	// journal.DefaultCapacity, a negative value keeps none (what is dropped is counted).
	JournalCapacity int
	// JournalSkipUsers are authenticated users whose requests are served but not journalled:
	// the cluster's own, such as the aggregator's availability checks and discovery, which
	// no cell controls and which would take the room of a client's requests in a bounded
	// journal (the kind tier names kube-apiserver's).
	JournalSkipUsers []string
	// Instance names this process for a harness that keeps several operators behind one
	// APIService (the kind tier keeps one per operator configuration): a reset answers with
	// it in InstanceHeader, so the harness knows which operator its request reached.
	Instance string
}

// License is the licence the operator reports and issues certificates for.
type License struct {
	Name         string
	Organization string
	// Plan is "enterprise" (default) or "teams"; CI credentials need enterprise.
	Plan           string
	SubscriptionID string
	// Fingerprint is the licence fingerprint clients key their credential store by; default
	// derived from the licence authority's key (credentials.Authority.LicenseFingerprint).
	Fingerprint string
	// ExpireAt is the licence's end date; default one year after the server starts.
	ExpireAt time.Time
}

// FrontProxy is the request-header authentication configuration of an aggregated server.
type FrontProxy struct {
	// ClientCA is the PEM bundle that signs front-proxy client certificates.
	ClientCA []byte
	// AllowedNames are the common names accepted; empty accepts any name the CA signed.
	AllowedNames []string
	// UsernameHeaders, GroupHeaders and ExtraHeaderPrefixes default to X-Remote-User,
	// X-Remote-Group and X-Remote-Extra-.
	UsernameHeaders     []string
	GroupHeaders        []string
	ExtraHeaderPrefixes []string
}

// Fault is an injected failure for requests of one class.
type Fault struct {
	// Class selects requests; empty matches every class.
	Class contract.Class
	// Count limits the fault to the first Count matching requests; zero means all.
	Count int
	// Latency is added before the request is handled.
	Latency time.Duration
	// Status, when non-zero, answers with this code and a Status body instead of handling.
	Status int
	// Drop closes the connection without an answer.
	Drop bool
	// RefuseUpgrade answers WebSocket upgrades with 400 and reason UpgradeRefused.
	RefuseUpgrade bool
}

// Workload is a pod or deployment of the inventory.
type Workload struct {
	Namespace  string
	Name       string
	Containers []string
	// Labels default to app=<name>; a pod's Phase defaults to Running (and Ready).
	Labels map[string]string
	Phase  corev1.PodPhase
}

// labels are w's labels, app=<name> when it gives none.
func (w Workload) labels() map[string]string {
	if w.Labels == nil {
		return map[string]string{"app": w.Name}
	}
	return w.Labels
}

// phase is a pod's phase, Running when it gives none.
func (w Workload) phase() corev1.PodPhase {
	if w.Phase == "" {
		return corev1.PodRunning
	}
	return w.Phase
}

// Inventory is the small cluster the server pretends to front.
type Inventory struct {
	Namespaces  []string
	Deployments []Workload
	Pods        []Workload
}

// DefaultInventory returns namespaces default and kube-system, deployment default/nginx and
// its pod.
func DefaultInventory() *Inventory {
	return &Inventory{
		Namespaces:  []string{"default", "kube-system"},
		Deployments: []Workload{{Namespace: "default", Name: "nginx", Containers: []string{"nginx"}}},
		Pods:        []Workload{{Namespace: "default", Name: "nginx-7d9c6b5f4-x2x7q", Containers: []string{"nginx"}}},
	}
}

// authorityLicense converts to the credentials package's licence.
func (l License) authorityLicense() credentials.License {
	return credentials.License{Name: l.Name, Organization: l.Organization, Plan: l.Plan, SubscriptionID: l.SubscriptionID}
}

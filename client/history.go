package client

import (
	"github.com/Masterminds/semver/v3"
)

// Behaviour is one client behaviour that changed over the mirrord client's releases.
type Behaviour string

// Behaviours the history switches on.
const (
	// SessionIDHeader: x-session-id on target connects.
	SessionIDHeader Behaviour = "session-id-header"
	// CertificateOnConnect: x-client-der on target connects, legacy credential endpoint.
	CertificateOnConnect Behaviour = "certificate-on-connect"
	// IdentityOnConnect: x-client-name and x-client-hostname on target connects.
	IdentityOnConnect Behaviour = "identity-on-connect"
	// CleanIdentity: non-ASCII removed and white space trimmed from name and hostname.
	CleanIdentity Behaviour = "clean-identity"
	// DiscoveryAfterExecError: exec asks discovery whether the operator is installed after an
	// API error on the operator GET, before it fails.
	DiscoveryAfterExecError Behaviour = "discovery-after-exec-error"
	// DiscoveryAfterError: every command does (OperatorApi::try_new).
	DiscoveryAfterError Behaviour = "discovery-after-error"
	// EveryRequest: version header added; version, identity and (once ready) certificate on
	// every request.
	EveryRequest Behaviour = "every-request"
	// ExtendableCredentials: the mirrordclusteroperatorusercredentials endpoint when advertised.
	ExtendableCredentials Behaviour = "extendable-credentials"
	// LegacyRawPEM: the legacy credential body is raw PEM instead of a JSON string.
	LegacyRawPEM Behaviour = "legacy-raw-pem"
	// UnknownIdentityFallback: "unknown" when the name or hostname cannot be read.
	UnknownIdentityFallback Behaviour = "unknown-identity-fallback"
	// ConnectParamsHeader: x-mirrord-connect-params when ConnectParamsInHeader is advertised.
	ConnectParamsHeader Behaviour = "connect-params-header"
	// DiagnosticPing: the ping endpoint when DiagnosticPing is advertised.
	DiagnosticPing Behaviour = "diagnostic-ping"
	// LegacyFeatures: the operator object's features (ProxyApi) and copy_target_enabled are read.
	LegacyFeatures Behaviour = "legacy-features"
	// SupportedFeatures: its supported_features are read, the deprecated two only without them.
	SupportedFeatures Behaviour = "supported-features"
	// OperatorFirst: exec asks for the operator object before the target (before it, the
	// target's GET comes first).
	OperatorFirst Behaviour = "operator-first"
	// KubeResolvesTarget: exec resolves the target against kube-apiserver, no longer with the
	// operator's GET of targets/{urlfied name}.
	KubeResolvesTarget Behaviour = "kube-resolves-target"
	// TypeNameInURL: the connect URL names a deployment deployment.X, no longer deploy.X.
	TypeNameInURL Behaviour = "type-name-in-url"
	// ConnectKey: the connect query carries the session key.
	ConnectKey Behaviour = "connect-key"
	// RunningPods: ls lists running pods (fieldSelector status.phase=Running) and keeps the
	// Ready ones.
	RunningPods Behaviour = "running-pods"
	// OwnedExcluded: ls leaves out the operator's own pods too, 500 at most (the seeker).
	OwnedExcluded Behaviour = "owned-excluded"
)

// change is one row of the history: from Since on, the client has the behaviour.
type change struct {
	Since     *semver.Version
	Behaviour Behaviour
}

// History is the contract's history on the client side (PROTOCOL.md, "Headers";
// reference/mirrord-protocol.md §4): the one place where versions decide behaviour.
var History = []change{
	{semver.MustParse("3.41.0"), SessionIDHeader},
	{semver.MustParse("3.46.0"), CertificateOnConnect},
	{semver.MustParse("3.46.0"), RunningPods},
	{semver.MustParse("3.51.1"), LegacyFeatures},
	{semver.MustParse("3.75.0"), OperatorFirst},
	{semver.MustParse("3.85.0"), IdentityOnConnect},
	{semver.MustParse("3.104.0"), CleanIdentity},
	{semver.MustParse("3.107.0"), DiscoveryAfterExecError},
	{semver.MustParse("3.109.0"), EveryRequest},
	{semver.MustParse("3.109.0"), DiscoveryAfterError},
	{semver.MustParse("3.114.0"), SupportedFeatures},
	{semver.MustParse("3.116.1"), OwnedExcluded},
	{semver.MustParse("3.118.1"), KubeResolvesTarget},
	{semver.MustParse("3.132.0"), TypeNameInURL},
	{semver.MustParse("3.164.0"), ExtendableCredentials},
	{semver.MustParse("3.189.0"), ConnectKey},
	{semver.MustParse("3.198.0"), LegacyRawPEM},
	{semver.MustParse("3.206.0"), UnknownIdentityFallback},
	{semver.MustParse("3.224.0"), ConnectParamsHeader},
	{semver.MustParse("3.236.0"), DiagnosticPing},
}

// Behaviours is the set of behaviours of one client version.
type Behaviours map[Behaviour]bool

// BehavioursAt returns what a client of version v does. Pre-releases of a version count as
// that version (3.109.0-rc.1 behaves as 3.109.0).
func BehavioursAt(v *semver.Version) Behaviours {
	core := semver.New(v.Major(), v.Minor(), v.Patch(), "", "")
	out := Behaviours{}
	for _, c := range History {
		if !core.LessThan(c.Since) {
			out[c.Behaviour] = true
		}
	}
	return out
}

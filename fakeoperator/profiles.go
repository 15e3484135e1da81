package fakeoperator

import (
	"errors"
	"fmt"
	"slices"

	"github.com/Masterminds/semver/v3"

	"github.com/opconform/opconform/matrix"
)

// CertPolicy says where an operator profile checks the certificate header.
type CertPolicy string

// Certificate policies.
const (
	// CertIgnore never looks at the certificate header (operators before client certificates).
	CertIgnore CertPolicy = "ignore"
	// CertConnectOnly requires and checks the certificate on target connects only.
	CertConnectOnly CertPolicy = "connect-only"
	// CertEveryRequest requires it on connects and pings, and checks it on every operator
	// request that carries it.
	CertEveryRequest CertPolicy = "every-request"
	// CertAcceptAny journals a verdict but refuses nothing: a broken operator.
	CertAcceptAny CertPolicy = "accept-any"
)

// Feature is a string of MirrordOperator spec.supported_features.
type Feature string

// Features that change client behaviour (PROTOCOL.md).
const (
	FeatureProxyAPI                        Feature = "ProxyApi"
	FeatureCopyTarget                      Feature = "CopyTarget"
	FeatureLayerReconnect                  Feature = "LayerReconnect"
	FeatureExtendableUserCredentials       Feature = "ExtendableUserCredentials"
	FeatureBypassCiCertificateVerification Feature = "BypassCiCertificateVerification"
	FeatureConnectParamsInHeader           Feature = "ConnectParamsInHeader"
	FeatureDiagnosticPing                  Feature = "DiagnosticPing"
)

// featureHistory gives the first operator version that advertises each feature. The
// operator is closed source: the versions follow the client releases that started to use
// each feature (reference/mirrord-protocol.md §4), which is the earliest they can matter;
// ProxyApi the release whose types first have spec.features to say it in (3.51.1).
var featureHistory = []struct {
	Feature Feature
	Since   *semver.Version
}{
	{FeatureProxyAPI, semver.MustParse("3.51.1")},
	{FeatureCopyTarget, semver.MustParse("3.60.0")},
	{FeatureLayerReconnect, semver.MustParse("3.133.1")},
	{FeatureExtendableUserCredentials, semver.MustParse("3.164.0")},
	{FeatureBypassCiCertificateVerification, semver.MustParse("3.181.0")},
	{FeatureConnectParamsInHeader, semver.MustParse("3.224.0")},
	{FeatureDiagnosticPing, semver.MustParse("3.236.0")},
}

// Header roles, for Profile.KnownHeaders.
const (
	RoleVersion     = "version"
	RoleCertificate = "certificate"
	RoleName        = "name"
	RoleHostname    = "hostname"
	RoleInfo        = "info"
	RoleSessionID   = "session-id"
	RoleConnect     = "connect-params"
)

// Profile is what one operator release did with the contract.
type Profile struct {
	// Name identifies the profile (ancient, legacy, current, broken-…).
	Name string
	// Description is one sentence for listings.
	Description string
	// Versions is the SemVer constraint of operator versions this profile stands for; empty
	// for broken profiles, which are chosen by name only.
	Versions string
	// Certificates is where the certificate header is required and checked.
	Certificates CertPolicy
	// ChecksVersion makes the operator validate the version header (and refuse malformed ones).
	ChecksVersion bool
	// ChecksSession makes the operator validate x-session-id on connects and bind a session to
	// the certificate of its first connect.
	ChecksSession bool
	// LegacyCredentials serves POST mirrordoperators/operator/certificate.
	LegacyCredentials bool
	// RejectUnknownHeaders refuses operator requests carrying a contract header whose role is
	// not in KnownHeaders: a broken operator.
	RejectUnknownHeaders bool
	// KnownHeaders lists the roles a RejectUnknownHeaders profile accepts.
	KnownHeaders []string
	// MinClientVersion, when set, refuses clients below it (no version header counts as older).
	MinClientVersion string
	// RequiresVersionHeader refuses operator requests without the version header, so that
	// clients from before it cannot work: a broken new operator.
	RequiresVersionHeader bool
	// SilentMinimumVersion refuses clients below the minimum version without saying which
	// version to install: a broken operator.
	SilentMinimumVersion bool
	// RefusesWithoutStatus answers its refusals with a plain-text body, not a Kubernetes
	// Status, while its journal records the refusal's reason: a broken operator whose own
	// account cannot be trusted.
	RefusesWithoutStatus bool
	// LosesCredentialRequests serves certificate requests but leaves them out of its
	// journal: a broken operator whose journal cannot be trusted.
	LosesCredentialRequests bool
	// JournalCapacity, when set, bounds the journal (unless Options.JournalCapacity does):
	// a broken operator whose journal is too small to hold a cell.
	JournalCapacity int
	// DefaultVersion is the operator version used when a profile is chosen by name alone.
	DefaultVersion string
}

// Profile names.
const (
	ProfileAncient         = "ancient"
	ProfileLegacy          = "legacy"
	ProfileCurrent         = "current"
	ProfileBrokenOpen      = "broken-accepts-any-certificate"
	ProfileBrokenStrict    = "broken-refuses-unknown-headers"
	ProfileBrokenPlain     = "broken-refuses-without-status"
	ProfileBrokenSilent    = "broken-silent-minimum-version"
	ProfileBrokenExclusive = "broken-requires-version-header"
	ProfileBrokenJournal   = "broken-loses-journal-entries"
	ProfileBrokenSmall     = "broken-journal-too-small"
	DefaultOperatorVersion = "3.250.0"
)

// Profiles returns the built-in profiles: the three by version, then the broken ones.
func Profiles() []Profile {
	return []Profile{
		{
			Name: ProfileAncient, Versions: "< 3.46.0-0", DefaultVersion: "3.40.0",
			Description:  "before client certificates: ignores every new header, no credential endpoints",
			Certificates: CertIgnore,
		},
		{
			Name: ProfileLegacy, Versions: ">= 3.46.0-0, < 3.109.0-0", DefaultVersion: "3.100.0",
			Description:       "checks the certificate on target connects only, legacy credential endpoint, ignores version/name/hostname",
			Certificates:      CertConnectOnly,
			ChecksSession:     true,
			LegacyCredentials: true,
		},
		{
			Name: ProfileCurrent, Versions: ">= 3.109.0-0", DefaultVersion: DefaultOperatorVersion,
			Description:       "checks the certificate on every operator request that carries it, validates the version header",
			Certificates:      CertEveryRequest,
			ChecksVersion:     true,
			ChecksSession:     true,
			LegacyCredentials: true,
		},
		{
			Name: ProfileBrokenOpen, DefaultVersion: DefaultOperatorVersion,
			Description:       "negative control: a current operator that accepts any certificate",
			Certificates:      CertAcceptAny,
			ChecksVersion:     true,
			LegacyCredentials: true,
		},
		{
			Name: ProfileBrokenStrict, DefaultVersion: "3.100.0",
			Description:          "negative control: a legacy operator that refuses headers it does not know",
			Certificates:         CertConnectOnly,
			ChecksSession:        true,
			LegacyCredentials:    true,
			RejectUnknownHeaders: true,
			KnownHeaders:         []string{RoleCertificate, RoleSessionID},
		},
		{
			Name: ProfileBrokenPlain, DefaultVersion: DefaultOperatorVersion,
			Description:          "negative control: a current operator that refuses with a plain-text body, not a Status",
			Certificates:         CertEveryRequest,
			ChecksVersion:        true,
			ChecksSession:        true,
			LegacyCredentials:    true,
			RefusesWithoutStatus: true,
		},
		{
			Name: ProfileBrokenSilent, DefaultVersion: DefaultOperatorVersion,
			Description:          "negative control: a current operator that refuses old clients without naming the version to install",
			Certificates:         CertEveryRequest,
			ChecksVersion:        true,
			ChecksSession:        true,
			LegacyCredentials:    true,
			SilentMinimumVersion: true,
		},
		{
			Name: ProfileBrokenExclusive, DefaultVersion: DefaultOperatorVersion,
			Description:           "negative control: a current operator that refuses requests without the version header, so old clients cannot work",
			Certificates:          CertEveryRequest,
			ChecksVersion:         true,
			ChecksSession:         true,
			LegacyCredentials:     true,
			RequiresVersionHeader: true,
		},
		{
			Name: ProfileBrokenJournal, DefaultVersion: DefaultOperatorVersion,
			Description:             "negative control: a current operator whose journal leaves out the certificate requests it served",
			Certificates:            CertEveryRequest,
			ChecksVersion:           true,
			ChecksSession:           true,
			LegacyCredentials:       true,
			LosesCredentialRequests: true,
		},
		{
			Name: ProfileBrokenSmall, DefaultVersion: DefaultOperatorVersion,
			Description:       "negative control: a current operator whose journal keeps only its last two entries",
			Certificates:      CertEveryRequest,
			ChecksVersion:     true,
			ChecksSession:     true,
			LegacyCredentials: true,
			JournalCapacity:   2,
		},
	}
}

// ErrUnknownProfile is returned when a profile name or operator version matches no profile.
var ErrUnknownProfile = errors.New("unknown operator profile")

// SelectProfile returns the profile named name, or, when name is empty, the versioned
// profile whose constraint holds for version.
func SelectProfile(name string, version *semver.Version) (Profile, error) {
	all := Profiles()
	if name != "" {
		i := slices.IndexFunc(all, func(p Profile) bool { return p.Name == name })
		if i < 0 {
			return Profile{}, fmt.Errorf("%w %q; known: %v", ErrUnknownProfile, name, ProfileNames())
		}
		return all[i], nil
	}
	for _, p := range all {
		if p.Versions == "" {
			continue
		}
		c, err := semver.NewConstraint(p.Versions)
		if err != nil {
			return Profile{}, fmt.Errorf("profile %s: constraint %q: %w", p.Name, p.Versions, err)
		}
		if c.Check(version) {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("%w for operator version %s", ErrUnknownProfile, version)
}

// init registers the profiles' names, which the matrix checks a fake operator's against.
func init() { matrix.RegisterProfiles(ProfileNames()...) }

// ProfileNames lists the names of the built-in profiles.
func ProfileNames() []string {
	var names []string
	for _, p := range Profiles() {
		names = append(names, p.Name)
	}
	return names
}

// Features returns what an operator at version advertises; every profile advertises what its
// version had, so broken profiles differ from sound ones in behaviour only.
func Features(version *semver.Version) []Feature {
	var out []Feature
	for _, f := range featureHistory {
		if !version.LessThan(f.Since) {
			out = append(out, f.Feature)
		}
	}
	return out
}

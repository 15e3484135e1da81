package contract

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// RequirementID names one requirement of the contract; reports and expectations use it.
type RequirementID string

// Level is how binding a requirement is (RFC 2119).
type Level string

// Levels.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
)

// Requirement IDs.
const (
	ReqVersionHeader         RequirementID = "HDR-VERSION"
	ReqCertificateHeader     RequirementID = "HDR-CERTIFICATE"
	ReqCertificateExempt     RequirementID = "CERT-EXEMPT"
	ReqCertificateValid      RequirementID = "CERT-VALID"
	ReqSessionID             RequirementID = "SESSION-ID"
	ReqSessionStable         RequirementID = "SESSION-STABLE"
	ReqSessionCertificate    RequirementID = "SESSION-CERTIFICATE"
	ReqIdentityClean         RequirementID = "HDR-IDENTITY"
	ReqEarlyRefusal          RequirementID = "EARLY-REFUSAL"
	ReqStopAfterRefusal      RequirementID = "STOP-AFTER-REFUSAL"
	ReqMinimumVersionNamed   RequirementID = "MIN-VERSION-NAMED"
	ReqOldOperatorCompat     RequirementID = "COMPAT-OLD-OPERATOR"
	ReqNewOperatorCompat     RequirementID = "COMPAT-NEW-OPERATOR"
	ReqUnknownHeadersIgnored RequirementID = "COMPAT-UNKNOWN-HEADERS"
	ReqGoldenJournal         RequirementID = "GOLDEN-JOURNAL"
	ReqJournalComplete       RequirementID = "JOURNAL-COMPLETE"
)

// Side is a party to the contract that a requirement binds.
type Side string

// Sides.
const (
	SideClient   Side = "client"
	SideOperator Side = "operator"
)

// Requirement is one checkable sentence of the contract, gated by client and operator
// versions (Masterminds/semver constraints; empty means every version).
type Requirement struct {
	ID       RequirementID `json:"id"`
	Level    Level         `json:"level"`
	Sentence string        `json:"sentence"`
	// Sides are the parties that can break it: each needs a negative control of its own.
	Sides []Side `json:"sides"`
	// Clients and Operators are the version constraints the requirement applies to.
	Clients   string `json:"clients,omitempty"`
	Operators string `json:"operators,omitempty"`
	// WithMinimumClientVersion limits the requirement to operators that set a minimum client
	// version (and to clients below it).
	WithMinimumClientVersion bool `json:"withMinimumClientVersion,omitempty"`
	// ServedClientsOnly leaves out clients the operator refuses by design (below its minimum).
	ServedClientsOnly bool `json:"servedClientsOnly,omitempty"`
	// Probe is true for a requirement the operator probe's answers are judged for too; every
	// other one judges clients only.
	Probe bool `json:"probe,omitempty"`

	// judge checks one scenario at a time; judgeCell, for the few that need it, the whole
	// cell at once. A row has one of them.
	judge     check
	judgeCell func(s Subject, observations []Observation) Finding
}

// Requirements returns the contract's requirements, in report order. The version gates
// follow PROTOCOL.md's history; "-0" keeps pre-releases of a version inside its range.
func Requirements() []Requirement {
	return []Requirement{
		{ID: ReqVersionHeader, judge: checkVersionHeader, Sides: sides(SideClient), Level: Must, Clients: ">= 3.109.0-0",
			Sentence: "Every operator request carries the version header, once, equal to the client's own SemVer."},
		{ID: ReqCertificateHeader, judge: checkCertificateHeader, Sides: sides(SideClient), Level: Must, Clients: ">= 3.46.0-0",
			Sentence: "Once the certificate is ready, every operator request carries it (target connects only before 3.109.0), except the exempt classes."},
		{ID: ReqCertificateExempt, judge: checkCertificateExempt, Sides: sides(SideClient), Level: Should, Clients: ">= 3.46.0-0",
			Sentence: "The operator GET before the certificate, the certificate request itself and `status` carry no certificate."},
		{ID: ReqCertificateValid, judge: checkCertificateValid, Sides: sides(SideClient), Level: Must, Clients: ">= 3.46.0-0",
			Sentence: "Every certificate a client sends of its own accord is valid for the operator's licence and clock, " +
				"padded base64 DER, and matches the client's key; an expired one is refreshed, never sent."},
		{ID: ReqSessionID, judge: checkSessionID, Sides: sides(SideClient), Level: Must, Clients: ">= 3.41.0-0",
			Sentence: "Every target connect carries one x-session-id, a decimal u64."},
		{ID: ReqSessionStable, judge: checkSessionStable, Sides: sides(SideClient), Level: Must, Clients: ">= 3.41.0-0",
			Sentence: "Both connections of a session (the client's and its proxy's) carry the same session id."},
		{ID: ReqSessionCertificate, judge: checkSessionCertificate, Sides: sides(SideClient, SideOperator), Level: Must, Clients: ">= 3.46.0-0", Operators: ">= 3.46.0-0",
			Sentence: "A session is never continued under another certificate: the client keeps its certificate, and the " +
				"operator refuses a connect that reuses a session id with another one."},
		{ID: ReqIdentityClean, judge: checkIdentity, Sides: sides(SideClient), Level: Must, Clients: ">= 3.85.0-0",
			Sentence: "Name and hostname headers are sent where the version sends them (target connects from 3.85.0, every " +
				"operator request from 3.109.0), and cleaned from 3.104.0: ASCII only, trimmed, legal header values."},
		{ID: ReqEarlyRefusal, judge: checkEarlyRefusal, Sides: sides(SideOperator), Level: Must, Clients: ">= 3.46.0-0", Operators: ">= 3.46.0-0",
			Sentence: "An invalid certificate is refused on the first operator request that carries it (by operators " +
				"before 3.109.0, which check target connects only: on the first connect), before any WebSocket is " +
				"established, with 401 or 403 and a Kubernetes Status naming the header and a reason; a valid one is " +
				"served."},
		{ID: ReqStopAfterRefusal, judge: checkStopAfterRefusal, Sides: sides(SideClient), Level: Must,
			Sentence: "After a well-formed refusal (a Status naming the header and a reason) the client sends no further request and stops with an error naming the header and the reason."},
		{ID: ReqMinimumVersionNamed, judge: checkMinimumVersion, Sides: sides(SideClient, SideOperator), Level: Must, WithMinimumClientVersion: true,
			Sentence: "An operator that refuses a client for its version names the minimum version, and the client passes it on."},
		{ID: ReqOldOperatorCompat, judge: checkOldOperator, Probe: true, Sides: sides(SideClient, SideOperator), Level: Must, ServedClientsOnly: true, Clients: ">= 3.109.0-0", Operators: "< 3.109.0-0",
			Sentence: "Old operators serve new clients, and new clients work with old operators: status and ls succeed, " +
				"and exec too where the operator issues certificates (a client that needs what only newer operators " +
				"send breaks it); the operator probe's requests with every contract header are served as they are " +
				"bare."},
		{ID: ReqNewOperatorCompat, judge: checkCompat, Sides: sides(SideOperator), Level: Must, ServedClientsOnly: true, Clients: ">= 3.46.0-0, < 3.109.0-0", Operators: ">= 3.109.0-0",
			Sentence: "New operators serve old clients (since client certificates) under the old rules: status, ls and exec succeed."},
		{ID: ReqUnknownHeadersIgnored, judge: checkUnknownHeaders, Probe: true, Sides: sides(SideOperator), Level: Must, ServedClientsOnly: true,
			Sentence: "Operators ignore headers they do not know: a request of any class that is served bare is served " +
				"with every contract header and one no operator knows (the operator probe, independent of any " +
				"client)."},
		{ID: ReqJournalComplete, judge: checkJournalComplete, Sides: sides(SideOperator), Level: Must,
			Sentence: "The operator's journal holds every operator request the client sent, in order, with the same " +
				"contract headers (certificates by fingerprint), and dropped none: the journal the other " +
				"requirements are judged on is checked, not trusted."},
		{ID: ReqGoldenJournal, judgeCell: checkGolden, Sides: sides(SideClient), Level: Should,
			Sentence: "Against the current fake operator, a client version sends what its golden journal (fixtures/clients) recorded: no drift."},
	}
}

func sides(s ...Side) []Side { return s }

// RequirementByID returns the requirement with id.
func RequirementByID(id RequirementID) (Requirement, bool) {
	for _, r := range Requirements() {
		if r.ID == id {
			return r, true
		}
	}
	return Requirement{}, false
}

// GateText says which cells r applies to, e.g. "clients >= 3.109.0-0; operators < 3.109.0-0".
func (r Requirement) GateText() string {
	var parts []string
	if r.Clients != "" {
		parts = append(parts, "clients "+r.Clients)
	}
	if r.Operators != "" {
		parts = append(parts, "operators "+r.Operators)
	}
	switch {
	case r.WithMinimumClientVersion:
		parts = append(parts, "clients below the operator's minimum client version")
	case r.ServedClientsOnly:
		parts = append(parts, "clients the operator serves (not below its minimum client version)")
	}
	if len(parts) == 0 {
		return "every cell"
	}
	return strings.Join(parts, "; ")
}

// Applies reports whether r applies to a client and operator version; minClient is the
// operator's minimum client version, nil when it sets none.
func (r Requirement) Applies(client, operator, minClient *semver.Version) (bool, error) {
	for _, gate := range []struct {
		constraint string
		version    *semver.Version
	}{{r.Clients, client}, {r.Operators, operator}} {
		if gate.constraint == "" {
			continue
		}
		c, err := semver.NewConstraint(gate.constraint)
		if err != nil {
			return false, fmt.Errorf("requirement %s: constraint %q: %w", r.ID, gate.constraint, err)
		}
		if !c.Check(gate.version) {
			return false, nil
		}
	}
	refusedByDesign := minClient != nil && client.LessThan(minClient)
	switch {
	case r.WithMinimumClientVersion:
		return refusedByDesign, nil
	case r.ServedClientsOnly:
		return !refusedByDesign, nil
	}
	return true, nil
}

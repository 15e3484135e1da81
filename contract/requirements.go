package contract

// RequirementID names one requirement of the contract; reports and expectations use it.
type RequirementID string

// Level is how binding a requirement is (RFC 2119).
type Level string

// Levels.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
)

// Requirement is one checkable sentence of the contract, gated by client and operator
// versions (Masterminds/semver constraints; empty means every version).
type Requirement struct {
	ID       RequirementID `json:"id"`
	Level    Level         `json:"level"`
	Sentence string        `json:"sentence"`
	// Clients and Operators are the version constraints the requirement applies to.
	Clients   string `json:"clients,omitempty"`
	Operators string `json:"operators,omitempty"`
}

// Requirement IDs.
const (
	ReqVersionHeader         RequirementID = "HDR-VERSION"
	ReqCertificateHeader     RequirementID = "HDR-CERTIFICATE"
	ReqCertificateValid      RequirementID = "CERT-VALID"
	ReqCertificateExempt     RequirementID = "CERT-EXEMPT"
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
)

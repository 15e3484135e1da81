package client

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/matrix"
)

// Defect is a deliberate fault a negative-control client is built with
// (-ldflags "-X github.com/opconform/opconform/client.defect=NAME").
type Defect string

// The defects, each breaking the requirement Breaks names.
const (
	// DefectNone is a sound client.
	DefectNone Defect = ""
	// DefectDropCertificateOnConnect leaves x-client-der off target connects.
	DefectDropCertificateOnConnect Defect = "drop-certificate-on-connect"
	// DefectNonSemVerVersion sends "v<version>" in the version header.
	DefectNonSemVerVersion Defect = "non-semver-version"
	// DefectNoRefresh sends the stored certificate even when it has expired.
	DefectNoRefresh Defect = "no-refresh"
	// DefectIgnoreRefusal keeps going after the operator refused the certificate.
	DefectIgnoreRefusal Defect = "ignore-refusal"
	// DefectOmitSessionID leaves x-session-id off target connects.
	DefectOmitSessionID Defect = "omit-session-id"
	// DefectPEMCertificate sends base64 of the PEM instead of the DER.
	DefectPEMCertificate Defect = "pem-certificate"
	// DefectUnstableSessionID gives the second connection another session id.
	DefectUnstableSessionID Defect = "unstable-session-id"
	// DefectOmitHostname leaves x-client-hostname off every request.
	DefectOmitHostname Defect = "omit-hostname"
	// DefectSwitchCertificate opens the second connection of a session under a second
	// certificate of its own key.
	DefectSwitchCertificate Defect = "switch-certificate"
	// DefectDropMinimumVersion does not pass on the version an operator's refusal names.
	DefectDropMinimumVersion Defect = "drop-minimum-version"
	// DefectExitZeroOnRefusal reports a refused certificate but exits with 0, so that a
	// script running it cannot tell.
	DefectExitZeroOnRefusal Defect = "exit-zero-on-refusal"
	// DefectUnclearRefusal stops at a refusal but says neither the header nor the reason.
	DefectUnclearRefusal Defect = "unclear-refusal"
	// DefectRequiresSupportedFeatures cannot decode an operator object without
	// spec.supported_features, which operators send only from 3.114.0: a new client that
	// breaks against old operators, as mirrord's own "missing field" regressions did.
	DefectRequiresSupportedFeatures Defect = "requires-supported-features"
)

// DefectInfo documents one defect.
type DefectInfo struct {
	Defect Defect
	// Breaks is the requirement a client with this defect must be reported as failing.
	Breaks contract.RequirementID
	What   string
}

// init registers the defects' names, which the matrix checks a reference client's against.
func init() {
	names := make([]string, len(Defects))
	for i, d := range Defects {
		names[i] = string(d.Defect)
	}
	matrix.RegisterDefects(names...)
}

// Defects lists every defect with the requirement it must break.
var Defects = []DefectInfo{
	{DefectDropCertificateOnConnect, contract.ReqCertificateHeader, "leaves x-client-der off target connects"},
	{DefectNonSemVerVersion, contract.ReqVersionHeader, "sends a non-SemVer version header (v-prefixed)"},
	{DefectNoRefresh, contract.ReqCertificateValid, "sends an expired stored certificate instead of refreshing it"},
	{DefectIgnoreRefusal, contract.ReqStopAfterRefusal, "keeps sending requests after a certificate refusal"},
	{DefectOmitSessionID, contract.ReqSessionID, "leaves x-session-id off target connects"},
	{DefectPEMCertificate, contract.ReqCertificateValid, "sends base64 of the PEM instead of the DER"},
	{DefectUnstableSessionID, contract.ReqSessionStable, "opens the second connection under another session id"},
	{DefectOmitHostname, contract.ReqIdentityClean, "leaves x-client-hostname off every request"},
	{DefectSwitchCertificate, contract.ReqSessionCertificate, "continues its session under a second certificate"},
	{DefectDropMinimumVersion, contract.ReqMinimumVersionNamed, "does not pass on the minimum version an operator's refusal names"},
	{DefectExitZeroOnRefusal, contract.ReqStopAfterRefusal, "exits with 0 after the operator refused its certificate"},
	{DefectUnclearRefusal, contract.ReqStopAfterRefusal, "stops at a refusal without naming the header or the reason"},
	{DefectRequiresSupportedFeatures, contract.ReqOldOperatorCompat, "cannot decode an operator object without supported_features (operators before 3.114.0)"},
}

// Validate reports an unknown defect name.
func (d Defect) Validate() error {
	if d == DefectNone || slices.ContainsFunc(Defects, func(x DefectInfo) bool { return x.Defect == d }) {
		return nil
	}
	var names []string
	for _, x := range Defects {
		names = append(names, string(x.Defect))
	}
	return fmt.Errorf("unknown defect %q built in; known: %s", d, strings.Join(names, ", "))
}

package client

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/streaming/pkg/httpstream"
)

// Exit codes of opclient, documented in its help.
const (
	ExitOK                   = 0
	ExitFailure              = 1
	ExitUsage                = 2
	ExitCertificateRefused   = 3
	ExitVersionRefused       = 4
	ExitOperatorNotInstalled = 5
	ExitHeaderRefused        = 6
)

// ErrOperatorNotInstalled is returned when the operator's API group is not served.
var ErrOperatorNotInstalled = errors.New("the mirrord operator is not installed (operator.metalbear.co/v1 not found)")

// RefusalError is the operator refusing a request because of the contract's headers. The
// client stops at the first one.
type RefusalError struct {
	// Request is the refused request, "GET /apis/…".
	Request string
	// Header is the header the refusal is about.
	Header string
	Status metav1.Status
	// MinimumVersion is the client version the operator asked for, for version refusals.
	MinimumVersion    string
	certificateHeader string
	// unclear is the unclear-refusal defect: the error says nothing of the refusal.
	unclear bool
}

// IsVersion reports whether the operator refused the client's version.
func (e *RefusalError) IsVersion() bool {
	return strings.HasPrefix(string(e.Status.Reason), "ClientVersion")
}

// ExitCode is the exit code opclient ends with for e.
func (e *RefusalError) ExitCode() int {
	switch {
	case e.IsVersion():
		return ExitVersionRefused
	case e.Header == e.certificateHeader:
		return ExitCertificateRefused
	}
	return ExitHeaderRefused
}

// ExitCode is the exit code the client's command line ends with after err (ExitCodeOf),
// but for the exit-zero-on-refusal defect.
func (c *Client) ExitCode(err error) int {
	code := ExitCodeOf(err)
	if c.opts.Build.Defect == DefectExitZeroOnRefusal && code == ExitCertificateRefused {
		return ExitOK
	}
	return code
}

// ExitCodeOf is the exit code of a command that ended with err: a refusal's own, 5 when
// the operator is not installed, 1 for any other failure, 0 for none.
func ExitCodeOf(err error) int {
	var refused *RefusalError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &refused):
		return refused.ExitCode()
	case errors.Is(err, ErrOperatorNotInstalled):
		return ExitOperatorNotInstalled
	}
	return ExitFailure
}

// Error is one line naming the header, the operator's reason and what to do.
func (e *RefusalError) Error() string {
	switch {
	case e.unclear:
		return "the operator refused a request of this client"
	case e.Status.Reason == "ClientVersionTooOld":
		return fmt.Sprintf("the operator refused this client's version (header %s, reason %s): install mirrord %s or later", e.Header, e.Status.Reason, e.MinimumVersion)
	case e.Header == e.certificateHeader:
		return fmt.Sprintf("the operator refused the client certificate (header %s, reason %s: %s): %s", e.Header, e.Status.Reason, e.Status.Message, certificateHint(e.Status.Reason))
	}
	return fmt.Sprintf("the operator refused a header of this client (header %s, reason %s: %s): this client does not fit "+
		"this operator; report it with both versions", e.Header, e.Status.Reason, e.Status.Message)
}

// certificateHint says what a user can do about a refused certificate.
func certificateHint(reason metav1.StatusReason) string {
	switch reason {
	case "CertificateExpired", "CertificateNotYetValid":
		return "check this machine's clock, then run the command again to refresh the certificate"
	case "CertificateUnknownAuthority", "CertificateWrongLicense":
		return "the stored certificate is for another licence: remove its entry from ~/.mirrord/credentials and run the command again"
	case "SessionCertificateMismatch":
		return "the session belongs to another certificate: start a new session"
	}
	return "remove the certificate's entry from ~/.mirrord/credentials and run the command again; if it persists, report a client bug"
}

// refusal recognises a contract refusal in err from a request that carried header names,
// or returns nil.
func refusal(err error, request string, names headerNames) *RefusalError {
	var upgrade *httpstream.UpgradeFailureError
	if errors.As(err, &upgrade) {
		err = upgrade.Cause
	}
	var se *apierrors.StatusError
	if !errors.As(err, &se) {
		return nil
	}
	st := se.ErrStatus
	r := &RefusalError{Request: request, Status: st, certificateHeader: names.certificate}
	reason := string(st.Reason)
	switch {
	case strings.HasPrefix(reason, "ClientVersion"):
		r.Header = names.version
		r.MinimumVersion = minimumVersion(st)
	case strings.HasPrefix(reason, "Certificate") || reason == "SessionCertificateMismatch":
		r.Header = names.certificate
	case strings.HasPrefix(reason, "Session") || strings.HasPrefix(reason, "ClientInfo") || reason == "UnknownHeader" || reason == "ConnectParamsInvalid":
		r.Header = headerIn(st.Message)
	case (st.Code == 401 || st.Code == 403) && names.sentCertificate:
		// an operator that does not say why: a refusal of the certificate all the same
		r.Header = names.certificate
	default:
		return nil
	}
	return r
}

// headerNames says which headers a refused request carried.
type headerNames struct {
	version, certificate string
	sentCertificate      bool
}

// headerIn returns the header a refusal message names ("header x-…"), or "(unnamed)".
func headerIn(message string) string {
	if _, rest, ok := strings.Cut(message, "header "); ok {
		name, _, _ := strings.Cut(rest, " ")
		return strings.TrimRight(name, ":,")
	}
	return "(unnamed)"
}

func minimumVersion(st metav1.Status) string {
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			if c.Type == "MinimumClientVersion" {
				return c.Message
			}
		}
	}
	return "(the operator did not say which)"
}

package fakeoperator

import (
	"encoding/json"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Refusal reasons: the Status `reason` of each way the fake operator refuses a request
// because of the header contract. They are stable and machine-readable; the message names
// the header and the problem.
const (
	ReasonCertificateMissing          metav1.StatusReason = "CertificateMissing"
	ReasonCertificateEmpty            metav1.StatusReason = "CertificateEmpty"
	ReasonCertificateTooLarge         metav1.StatusReason = "CertificateTooLarge"
	ReasonCertificateNotBase64        metav1.StatusReason = "CertificateNotBase64"
	ReasonCertificateNotDER           metav1.StatusReason = "CertificateNotDER"
	ReasonCertificateMalformed        metav1.StatusReason = "CertificateMalformed"
	ReasonCertificateUnknownAuthority metav1.StatusReason = "CertificateUnknownAuthority"
	ReasonCertificateWrongLicense     metav1.StatusReason = "CertificateWrongLicense"
	ReasonCertificateExpired          metav1.StatusReason = "CertificateExpired"
	ReasonCertificateNotYetValid      metav1.StatusReason = "CertificateNotYetValid"
	ReasonCertificateConflict         metav1.StatusReason = "CertificateConflict"
	ReasonSessionCertificateMismatch  metav1.StatusReason = "SessionCertificateMismatch"
	ReasonSessionIDMissing            metav1.StatusReason = "SessionIDMissing"
	ReasonSessionIDInvalid            metav1.StatusReason = "SessionIDInvalid"
	ReasonClientVersionInvalid        metav1.StatusReason = "ClientVersionInvalid"
	ReasonClientVersionTooOld         metav1.StatusReason = "ClientVersionTooOld"
	ReasonClientInfoInvalid           metav1.StatusReason = "ClientInfoInvalid"
	ReasonConnectParamsInvalid        metav1.StatusReason = "ConnectParamsInvalid"
	ReasonUnknownHeader               metav1.StatusReason = "UnknownHeader"
	ReasonFrontProxyUnauthenticated   metav1.StatusReason = "FrontProxyUnauthenticated"
	ReasonUpgradeRefused              metav1.StatusReason = "UpgradeRefused"
	ReasonUpgradeRequired             metav1.StatusReason = "UpgradeRequired"
	ReasonSubprotocolRequired         metav1.StatusReason = "SubprotocolRequired"
	ReasonInjectedFault               metav1.StatusReason = "InjectedFault"
	// ReasonReconnectNotPossible answers a connect to a session that ended (410), as the
	// operator does (mirrord/operator/src/types.rs).
	ReasonReconnectNotPossible metav1.StatusReason = "ReconnectNotPossible"
)

// newStatus builds a Failure Status.
func newStatus(code int, reason metav1.StatusReason, message string) *metav1.Status {
	return &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Code:     int32(code),
		Reason:   reason,
		Message:  message,
	}
}

// writeStatus answers with a Failure Status of code.
func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, message string) {
	writeStatusObject(w, newStatus(code, reason, message))
}

func writeStatusObject(w http.ResponseWriter, st *metav1.Status) {
	writeJSON(w, int(st.Code), st)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

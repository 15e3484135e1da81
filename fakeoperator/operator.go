package fakeoperator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/mirrordproto"
)

// The MirrordOperator object as an operator of a given version sends it: the fields of its
// version's types (metalbear-co/mirrord, mirrord/operator/src/crd.rs and types.rs, read tag by
// tag; a field an operator's types hold is serialized, as null where it has no value), each
// from the first release whose types have it. What a client of a version can decode of it
// is fixtures/schemas/.
var (
	// licence fingerprint, status statistics
	sinceFingerprint = semver.MustParse("3.46.0")
	// the deprecated spec.features (ProxyApi only)
	sinceFeatures = semver.MustParse("3.51.1")
	// spec.protocol_version
	sinceProtocolVersion = semver.MustParse("3.56.0")
	// the deprecated spec.copy_target_enabled
	sinceCopyTargetEnabled = semver.MustParse("3.75.0")
	// status.copy_targets
	sinceStatusCopyTargets = semver.MustParse("3.83.0")
	// a session's namespace
	sinceSessionNamespace = semver.MustParse("3.84.0")
	// licence subscription_id, a session's locked_ports
	sinceSubscription = semver.MustParse("3.85.0")
	// spec.supported_features (MirrordOperatorSpec::new fills the deprecated two as well)
	sinceSupportedFeatures = semver.MustParse("3.114.0")
	// a session's user_id; a copy target's status.creator_session
	sinceSessionUserID = semver.MustParse("3.117.0")
	// spec.operator_namespace
	sinceOperatorNamespace = semver.MustParse("3.187.0")
	// a session's key
	sinceSessionKey = semver.MustParse("3.206.0")
	// a session's id
	sinceSessionID = semver.MustParse("3.41.0")
)

// since reports whether the operator's version has what came in v.
func (s *Server) since(v *semver.Version) bool { return !s.version.LessThan(v) }

// operatorSpec is MirrordOperator.spec, in the snake_case the client parses, with the fields
// of the operator's version.
func (s *Server) operatorSpec() map[string]any {
	license := map[string]any{"name": s.license.Name, "organization": s.license.Organization, "expire_at": s.license.ExpireAt.Format("2006-01-02")}
	spec := map[string]any{"operator_version": s.version.String(), "default_namespace": "default", "license": license}
	if s.since(sinceFingerprint) {
		license["fingerprint"] = s.license.Fingerprint
	}
	if s.since(sinceSubscription) {
		license["subscription_id"] = s.license.SubscriptionID
	}
	if s.since(sinceFeatures) {
		// for clients before supported_features: ProxyApi is the only value they can decode
		var legacy []Feature
		if s.hasFeature(FeatureProxyAPI) {
			legacy = []Feature{FeatureProxyAPI}
		}
		spec["features"] = legacy
	}
	if s.since(sinceProtocolVersion) {
		spec["protocol_version"] = mirrordproto.ProtocolVersion
	}
	if s.since(sinceCopyTargetEnabled) {
		spec["copy_target_enabled"] = s.hasFeature(FeatureCopyTarget)
	}
	if s.since(sinceSupportedFeatures) {
		spec["supported_features"] = append([]Feature{}, s.features...)
	}
	if s.since(sinceOperatorNamespace) {
		spec["operator_namespace"] = "mirrord"
	}
	return spec
}

// sessionJSON is a session as the operator's Session type of its version has it: in
// status.sessions, a session list's spec.session and a copy target's creator_session.
func (s *Server) sessionJSON(ss session, now time.Time) map[string]any {
	out := map[string]any{
		"duration_secs": int64(now.Sub(ss.Started) / time.Second), "user": ss.User, "target": ss.Target,
	}
	if s.since(sinceSessionID) {
		out["id"] = fmt.Sprintf("%X", ss.ID)
	}
	if s.since(sinceSessionNamespace) {
		out["namespace"] = ss.Namespace
	}
	if s.since(sinceSubscription) {
		out["locked_ports"] = []any{}
	}
	if s.since(sinceSessionUserID) {
		out["user_id"] = nilIfEmpty(ss.UserID)
	}
	if s.since(sinceSessionKey) && ss.Key != "" {
		out["key"] = ss.Key
	}
	return out
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

// marshalOperator marshals, once, the parts of the MirrordOperator object that never
// change for a server.
func (s *Server) marshalOperator() error {
	head, err := json.Marshal(struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
		Spec            map[string]any    `json:"spec"`
	}{
		TypeMeta: metav1.TypeMeta{Kind: "MirrordOperator", APIVersion: contract.GroupVersion},
		Metadata: metav1.ObjectMeta{Name: contract.OperatorName, UID: uid("operator", s.license.Fingerprint)},
		Spec:     s.operatorSpec(),
	})
	if err != nil {
		return fmt.Errorf("marshalling operator object: %w", err)
	}
	// the object without its closing brace, ready for `,"status":…}`
	s.operatorHead = append(head[:len(head)-1], `,"status":`...)
	empty, err := json.Marshal(s.operatorStatus(nil))
	if err != nil {
		return fmt.Errorf("marshalling operator status: %w", err)
	}
	s.idleOperator = s.operatorObject(empty)
	s.idleOperatorLength = []string{strconv.Itoa(len(s.idleOperator))}
	return nil
}

// jsonContentType is the Content-Type value of the operator object, shared by every answer
// as the idle object's Content-Length is (net/http only reads them).
var jsonContentType = []string{"application/json"}

// operatorObject is the operator object with status, as the GET answers it: assembled from
// the pre-marshalled parts, as encoding/json would re-validate them.
func (s *Server) operatorObject(status []byte) []byte {
	out := make([]byte, 0, len(s.operatorHead)+len(status)+2)
	return append(append(append(out, s.operatorHead...), status...), '}', '\n')
}

// openSessions are the sessions with an open connection, as status.sessions lists them.
func (s *Server) openSessions() []map[string]any {
	var out []map[string]any
	now := s.clock.Now()
	for _, ss := range s.state.listSessions("") {
		if ss.Open > 0 {
			out = append(out, s.sessionJSON(ss, now))
		}
	}
	return out
}

// operatorStatus is the MirrordOperator object's status with sessions, with the fields of
// the operator's version.
func (s *Server) operatorStatus(sessions []map[string]any) map[string]any {
	if sessions == nil {
		sessions = []map[string]any{}
	}
	status := map[string]any{"sessions": sessions}
	if s.since(sinceFingerprint) {
		status["statistics"] = map[string]int{"dau": 0, "mau": 0}
	}
	if s.since(sinceStatusCopyTargets) {
		status["copy_targets"] = []any{}
	}
	return status
}

func (s *Server) serveOperator(c *call) {
	if c.route.Name != contract.OperatorName {
		s.notFound(c, "mirrordoperators.operator.metalbear.co \""+c.route.Name+"\"")
		return
	}
	out, length := s.idleOperator, s.idleOperatorLength
	if open := s.openSessions(); len(open) > 0 {
		status, err := json.Marshal(s.operatorStatus(open))
		if err != nil {
			s.fail(c, http.StatusInternalServerError, metav1.StatusReasonInternalError, "marshalling operator status: %v", err)
			return
		}
		out = s.operatorObject(status)
		length = []string{strconv.Itoa(len(out))}
	}
	h := c.w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = length
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(out)
}

// credentialObject is MirrordClusterOperatorUserCredential (camelCase, unlike the operator).
type credentialObject struct {
	APIVersion string            `json:"apiVersion,omitempty"`
	Kind       string            `json:"kind,omitempty"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		CSR  string `json:"csr"`
		Kind string `json:"kind"`
	} `json:"spec"`
	Status *struct {
		Certificate string `json:"certificate"`
	} `json:"status,omitempty"`
}

// serveCredentials signs a CSR from either credential endpoint.
func (s *Server) serveCredentials(c *call) {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		s.fail(c, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge, "request body: more than %d bytes or unreadable", maxBody)
		return
	}
	if c.route.Resource == contract.ResourceOperators {
		s.serveLegacyCertificate(c, body)
		return
	}
	if !s.hasFeature(FeatureExtendableUserCredentials) {
		s.notFound(c, "the server could not find the requested resource "+contract.ResourceCredentials)
		return
	}
	var obj credentialObject
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&obj); err != nil {
		s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "%s body: %v", contract.ResourceCredentials, err)
		return
	}
	switch obj.Spec.Kind {
	case "regular":
	case "ci":
		if s.license.Plan != "enterprise" {
			s.fail(c, http.StatusForbidden, metav1.StatusReasonForbidden, "Enterprise license is required for generating mirrord CI api key")
			return
		}
	default:
		s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "spec.kind: unsupported value %q: must be regular or ci", obj.Spec.Kind)
		return
	}
	pemCert, ok := s.sign(c, "spec.csr", []byte(obj.Spec.CSR))
	if !ok {
		return
	}
	obj.APIVersion, obj.Kind = contract.GroupVersion, "MirrordClusterOperatorUserCredential"
	obj.Metadata.Name = obj.Metadata.GenerateName + rand.String(5)
	obj.Metadata.CreationTimestamp = metav1.NewTime(s.clock.Now())
	obj.Status = &struct {
		Certificate string `json:"certificate"`
	}{Certificate: pemCert}
	writeJSON(c.w, http.StatusCreated, obj)
}

// serveLegacyCertificate signs a raw PEM body (clients from 3.198.0) or a JSON string
// body (older clients and the legacy refresh path), and answers a JSON string.
func (s *Server) serveLegacyCertificate(c *call, body []byte) {
	if !s.profile.LegacyCredentials {
		s.notFound(c, "the server could not find the requested resource mirrordoperators/certificate")
		return
	}
	csr := body
	if trimmed := strings.TrimSpace(string(body)); strings.HasPrefix(trimmed, `"`) {
		var str string
		if err := json.Unmarshal([]byte(trimmed), &str); err != nil {
			s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "certificate request body: JSON string: %v", err)
			return
		}
		csr = []byte(str)
	}
	pemCert, ok := s.sign(c, "body", csr)
	if !ok {
		return
	}
	writeJSON(c.w, http.StatusOK, pemCert)
}

// sign verifies a CSR and issues a certificate for it; field names the CSR's place in the
// request for error messages.
func (s *Server) sign(c *call, field string, csrPEM []byte) (string, bool) {
	csr, err := credentials.ParseCSR(csrPEM)
	if err != nil {
		s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "%s: %v", field, err)
		return "", false
	}
	der, err := s.issue(csr)
	if err != nil {
		s.fail(c, http.StatusInternalServerError, metav1.StatusReasonInternalError, "issuing certificate: %v", err)
		return "", false
	}
	return string(credentials.EncodeCertificatePEM(der)), true
}

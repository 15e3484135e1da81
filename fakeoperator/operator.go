package fakeoperator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/mirrordproto"
)

// operatorSpec is MirrordOperator.spec, in the snake_case the client parses.
type operatorSpec struct {
	OperatorVersion   string          `json:"operator_version"`
	ProtocolVersion   string          `json:"protocol_version,omitempty"`
	DefaultNamespace  string          `json:"default_namespace"`
	SupportedFeatures []Feature       `json:"supported_features,omitempty"`
	Features          []Feature       `json:"features,omitempty"`
	License           operatorLicense `json:"license"`
}

type operatorLicense struct {
	Name           string `json:"name"`
	Organization   string `json:"organization"`
	ExpireAt       string `json:"expire_at"`
	Fingerprint    string `json:"fingerprint"`
	SubscriptionID string `json:"subscription_id"`
}

type operatorStatus struct {
	Sessions []statusSession `json:"sessions"`
}

// statusSession is a session as status.sessions lists it.
type statusSession struct {
	ID           string `json:"id"`
	DurationSecs int64  `json:"duration_secs"`
	User         string `json:"user"`
	Target       string `json:"target"`
	Namespace    string `json:"namespace"`
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

// marshalOperator marshals, once, the parts of the MirrordOperator object that never
// change for a server.
func (s *Server) marshalOperator() error {
	spec := operatorSpec{
		OperatorVersion:  s.version.String(),
		ProtocolVersion:  mirrordproto.ProtocolVersion,
		DefaultNamespace: "default",
		License: operatorLicense{
			Name: s.license.Name, Organization: s.license.Organization, ExpireAt: s.license.ExpireAt.Format("2006-01-02"),
			Fingerprint: s.license.Fingerprint, SubscriptionID: s.license.SubscriptionID,
		},
	}
	if s.profile.LegacyFeatures {
		spec.Features = []Feature{FeatureProxyAPI}
	} else {
		spec.SupportedFeatures = s.features
	}
	head, err := json.Marshal(struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        metav1.ObjectMeta `json:"metadata"`
		Spec            operatorSpec      `json:"spec"`
	}{
		TypeMeta: metav1.TypeMeta{Kind: "MirrordOperator", APIVersion: contract.GroupVersion},
		Metadata: metav1.ObjectMeta{Name: contract.OperatorName, UID: uid("operator", s.license.Fingerprint)},
		Spec:     spec,
	})
	if err != nil {
		return fmt.Errorf("marshalling operator object: %w", err)
	}
	// the object without its closing brace, ready for `,"status":…}`
	s.operatorHead = append(head[:len(head)-1], `,"status":`...)
	return nil
}

func (s *Server) serveOperator(c *call) {
	if c.route.Name != contract.OperatorName {
		s.notFound(c, "mirrordoperators.operator.metalbear.co \""+c.route.Name+"\"")
		return
	}
	now := s.clock.Now()
	var sessions []statusSession
	for _, ss := range s.state.listSessions("") {
		if ss.Open > 0 {
			sessions = append(sessions, statusSession{
				ID: fmt.Sprintf("%X", ss.ID), DurationSecs: int64(now.Sub(ss.Started) / time.Second),
				User: ss.User, Target: ss.Target, Namespace: ss.Namespace,
			})
		}
	}
	status := []byte(`{"sessions":[]}`)
	var err error
	if len(sessions) > 0 {
		status, err = json.Marshal(operatorStatus{Sessions: sessions})
	}
	if err != nil {
		s.fail(c, http.StatusInternalServerError, metav1.StatusReasonInternalError, "marshalling operator status: %v", err)
		return
	}
	// Assembled from the pre-marshalled parts: encoding/json would re-validate them.
	body := make([]byte, 0, len(s.operatorHead)+len(status)+2)
	body = append(append(append(body, s.operatorHead...), status...), '}', '\n')
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(body)
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

package fakeoperator

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

const credentialsPath = "/apis/operator.metalbear.co/v1/mirrordclusteroperatorusercredentials"

func newCSR(t *testing.T, cn string, opts credentials.CSROptions) (string, *credentials.CSR) {
	t.Helper()
	key, err := credentials.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pemCSR, err := credentials.NewCSR(key, cn, opts)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := credentials.ParseCSR(pemCSR)
	if err != nil {
		t.Fatal(err)
	}
	return string(pemCSR), csr
}

func credentialBody(t *testing.T, csr, kind string) string {
	b, err := json.Marshal(map[string]any{
		"apiVersion": "operator.metalbear.co/v1", "kind": "MirrordClusterOperatorUserCredential",
		"metadata": map[string]any{"generateName": "mirrord-operator-regular-cred-"},
		"spec":     map[string]any{"csr": csr, "kind": kind},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkIssued verifies a PEM certificate the server issued for csr.
func checkIssued(t *testing.T, s *Server, pemCert string, csr *credentials.CSR) {
	t.Helper()
	g := NewWithT(t)
	der, err := credentials.ParseCertificatePEM([]byte(pemCert))
	g.Expect(err).NotTo(HaveOccurred(), "answer holds a PEM certificate")
	cert, err := s.Authority().Check(der)
	g.Expect(err).NotTo(HaveOccurred(), "signed by the licence CA")
	g.Expect(cert.UserID).To(Equal(credentials.UserID(csr.PublicKey)), "CSR key copied")
	g.Expect(cert.NotBefore).To(BeTemporally("<", s.clock.Now().Add(-time.Minute)), "notBefore back-dated")
	parsed, err := x509.ParseCertificate(der)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(parsed.RawSubjectPublicKeyInfo).To(Equal(csr.RawSPKI), "SPKI byte for byte")
	g.Expect(parsed.Subject.CommonName).To(Equal(csr.CommonName))
	g.Expect(parsed.Issuer.Organization).To(ContainElement(s.License().Organization), "issuer names the organisation")
}

func TestUserCredentialEndpoint(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	for _, opts := range []credentials.CSROptions{{}, {StandardOID: true}} {
		pemCSR, csr := newCSR(t, "laptop", opts)
		code, body, _ := do(t, s, request{method: http.MethodPost, path: credentialsPath, body: credentialBody(t, pemCSR, "regular")})
		g.Expect(code).To(Equal(http.StatusCreated))
		var obj credentialObject
		g.Expect(json.Unmarshal(body, &obj)).To(Succeed())
		g.Expect(obj.Metadata.Name).To(HavePrefix("mirrord-operator-regular-cred-"))
		g.Expect(obj.Status).NotTo(BeNil())
		checkIssued(t, s, obj.Status.Certificate, csr)
	}
	e := s.Journal().Entries()[0]
	g.Expect(e.Class).To(BeEquivalentTo("credential-request"))
}

func TestCICredentials(t *testing.T) {
	g := NewWithT(t)
	enterprise := newTestServer(t, Options{})
	pemCSR, _ := newCSR(t, "mirrord-ci@Acme", credentials.CSROptions{})
	code, _, _ := do(t, enterprise, request{method: http.MethodPost, path: credentialsPath, body: credentialBody(t, pemCSR, "ci")})
	g.Expect(code).To(Equal(http.StatusCreated))

	teams := newTestServer(t, Options{License: License{Plan: "teams"}})
	code, _, st := do(t, teams, request{method: http.MethodPost, path: credentialsPath, body: credentialBody(t, pemCSR, "ci")})
	g.Expect(code).To(Equal(http.StatusForbidden))
	g.Expect(st.Message).To(Equal("Enterprise license is required for generating mirrord CI api key"))
}

func TestCredentialRequestErrors(t *testing.T) {
	s := newTestServer(t, Options{})
	pemCSR, _ := newCSR(t, "laptop", credentials.CSROptions{})
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{name: "bad kind", path: credentialsPath, body: credentialBody(t, pemCSR, "admin"), want: "spec.kind"},
		{name: "bad csr", path: credentialsPath, body: credentialBody(t, "nope", "regular"), want: "spec.csr"},
		{name: "unknown field", path: credentialsPath, body: `{"spec":{"csr":"x","kind":"regular","extra":1}}`, want: "unknown field"},
		{name: "legacy bad body", path: operatorPath + "/certificate", body: "not a csr", want: "body"},
		{name: "legacy bad json string", path: operatorPath + "/certificate", body: `"unterminated`, want: "JSON string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			code, _, st := do(t, s, request{method: http.MethodPost, path: tc.path, body: tc.body})
			g.Expect(code).To(Equal(http.StatusBadRequest))
			g.Expect(st.Reason).To(Equal(metav1.StatusReasonBadRequest))
			g.Expect(st.Message).To(ContainSubstring(tc.want))
		})
	}
}

func TestLegacyCertificateEndpoint(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{OperatorVersion: "3.100.0"})
	pemCSR, csr := newCSR(t, "laptop", credentials.CSROptions{})
	jsonCSR, _ := json.Marshal(pemCSR)
	for name, body := range map[string]string{"raw PEM (3.198.0+)": pemCSR, "JSON string (older, refresh)": string(jsonCSR)} {
		code, answer, _ := do(t, s, request{method: http.MethodPost, path: operatorPath + "/certificate", body: body})
		g.Expect(code).To(Equal(http.StatusOK), name)
		var pemCert string
		g.Expect(json.Unmarshal(answer, &pemCert)).To(Succeed(), "%s: the answer is a JSON string", name)
		checkIssued(t, s, pemCert, csr)
	}
	code, _, st := do(t, s, request{method: http.MethodPost, path: credentialsPath, body: credentialBody(t, pemCSR, "regular")})
	g.Expect(code).To(Equal(http.StatusNotFound), "no ExtendableUserCredentials before 3.164.0")
	g.Expect(st.Reason).To(Equal(metav1.StatusReasonNotFound))
}

// TestIssuingCertificatesTheOperatorRefuses: the operator can be told to issue certificates
// it refuses when they come back, each for its reason.
func TestIssuingCertificatesTheOperatorRefuses(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	key, err := credentials.GenerateKey()
	g.Expect(err).NotTo(HaveOccurred())
	csr, err := credentials.NewCSR(key, "laptop", credentials.CSROptions{})
	g.Expect(err).NotTo(HaveOccurred())
	parsed, err := credentials.ParseCSR(csr)
	g.Expect(err).NotTo(HaveOccurred())
	for _, tc := range []struct {
		as   Issuing
		want error
	}{
		{IssueValid, nil},
		{IssueExpired, nil},
		{IssueForeignAuthority, credentials.ErrUnknownAuthority},
		{IssueOtherLicense, credentials.ErrWrongLicense},
	} {
		g.Expect(s.SetIssuing(tc.as)).To(Succeed())
		der, err := s.issue(parsed)
		g.Expect(err).NotTo(HaveOccurred())
		cert, err := s.authority.Check(der)
		if tc.want != nil {
			g.Expect(err).To(MatchError(tc.want), "%s", tc.as)
			continue
		}
		g.Expect(err).NotTo(HaveOccurred(), "%s", tc.as)
		g.Expect(cert.NotAfter.Before(s.clock.Now())).To(Equal(tc.as == IssueExpired), "%s", tc.as)
	}
	g.Expect(s.SetIssuing("forged")).To(MatchError(ContainSubstring(`unknown way of issuing "forged"`)))

	req, _ := http.NewRequest(http.MethodPut, s.URL+contract.HarnessPrefix+"issuing?as=foreign-authority", nil)
	resp, err := s.Client().Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusNoContent))
	g.Expect(s.issuing.Load()).To(Equal("foreign-authority"))
	req, _ = http.NewRequest(http.MethodPut, s.URL+contract.HarnessPrefix+"issuing?as=forged", nil)
	resp, err = s.Client().Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
}

package fakeoperator

import (
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

const (
	operatorPath = "/apis/operator.metalbear.co/v1/mirrordoperators/operator"
	targetPath   = "/apis/operator.metalbear.co/v1/namespaces/default/targets/deployment.nginx"
)

var hdr = contract.MirrordHeaders()

// newTestServer starts a server for the test and closes it when the test ends.
func newTestServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := NewServer(opts)
	if err != nil {
		t.Fatalf("starting fake operator: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// issue returns a certificate (DER) from ca for a fresh key, valid from nb to na.
func issue(t testing.TB, ca *credentials.Authority, nb, na time.Time) (ed25519.PrivateKey, []byte) {
	t.Helper()
	key, err := credentials.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	der, err := ca.IssueFor(key, "laptop", nb, na)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

// validCert returns a certificate the server accepts now.
func validCert(t testing.TB, s *Server) []byte {
	t.Helper()
	now := s.clock.Now()
	_, der := issue(t, s.Authority(), now.Add(-time.Minute), now.Add(time.Hour))
	return der
}

// request is one HTTP request of a test.
type request struct {
	method  string
	path    string
	headers http.Header
	body    string
}

// do sends req and returns the response code and, for failures, the decoded Status.
func do(t testing.TB, s *Server, req request) (int, []byte, *metav1.Status) {
	t.Helper()
	method := req.method
	if method == "" {
		method = http.MethodGet
	}
	r, err := http.NewRequest(method, s.URL+req.path, strings.NewReader(req.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range req.headers {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	resp, err := s.Client().Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, req.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode < 300 {
		return resp.StatusCode, body, nil
	}
	var st metav1.Status
	NewWithT(t).Expect(json.Unmarshal(body, &st)).To(Succeed(), "error bodies are Status JSON: %s", body)
	NewWithT(t).Expect(resp.Header.Get("Content-Type")).To(Equal("application/json"))
	return resp.StatusCode, body, &st
}

// headers builds an http.Header from name/value pairs.
func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

var designNote = contract.DesignNoteHeaders()

// certFromCredential returns the DER of the certificate in a credential object answer.
func certFromCredential(t *testing.T, body []byte) []byte {
	t.Helper()
	var obj credentialObject
	if err := json.Unmarshal(body, &obj); err != nil || obj.Status == nil {
		t.Fatalf("credential answer %s: %v", body, err)
	}
	der, err := credentials.ParseCertificatePEM([]byte(obj.Status.Certificate))
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// fakeClock returns the server's injected fake clock.
func fakeClock(s *Server) *clocktesting.FakePassiveClock {
	return (*s.clock.current.Load()).(*clocktesting.FakePassiveClock)
}

package fakeoperator

import (
	"crypto/tls"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/pki"
)

// frontProxyCA makes a CA and client certificates it signs, as kube-apiserver's
// --proxy-client-cert-file would be.
type frontProxyCA struct {
	*pki.CA
	pem []byte
}

func newFrontProxyCA(t *testing.T) *frontProxyCA {
	t.Helper()
	ca, err := pki.NewCA("front-proxy-ca")
	if err != nil {
		t.Fatal(err)
	}
	return &frontProxyCA{CA: ca, pem: ca.PEM}
}

func (ca *frontProxyCA) client(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	kp, err := ca.IssueClient(cn)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := kp.TLS()
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// withClientCert returns a client for s presenting cert.
func withClientCert(s *Server, cert tls.Certificate) *http.Client {
	c := s.Client()
	c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{cert}
	return c
}

func TestFrontProxyAuthentication(t *testing.T) {
	ca := newFrontProxyCA(t)
	other := newFrontProxyCA(t)
	s := newTestServer(t, Options{FrontProxy: &FrontProxy{ClientCA: ca.pem, AllowedNames: []string{"front-proxy-client"}}})
	for _, tc := range []struct {
		name   string
		client *http.Client
		user   string
		code   int
	}{
		{name: "aggregator", client: withClientCert(s, ca.client(t, "front-proxy-client")), user: "alice", code: http.StatusOK},
		{name: "no client certificate spoofing a user", client: s.Client(), user: "mallory", code: http.StatusUnauthorized},
		{name: "certificate from another CA", client: withClientCert(s, other.client(t, "front-proxy-client")), user: "mallory", code: http.StatusUnauthorized},
		{name: "name not allowed", client: withClientCert(s, ca.client(t, "someone-else")), user: "mallory", code: http.StatusUnauthorized},
		{name: "aggregator without user", client: withClientCert(s, ca.client(t, "front-proxy-client")), code: http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			s.Journal().Reset()
			req, _ := http.NewRequest(http.MethodGet, s.URL+operatorPath, nil)
			if tc.user != "" {
				req.Header.Set("X-Remote-User", tc.user)
				req.Header.Add("X-Remote-Group", "devs")
			}
			resp, err := tc.client.Do(req)
			g.Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			g.Expect(resp.StatusCode).To(Equal(tc.code))
			e := s.Journal().Entries()[0]
			if tc.code == http.StatusOK {
				g.Expect(e.RemoteUser).To(Equal("alice"))
				g.Expect(e.RemoteGroups).To(Equal([]string{"devs"}))
				return
			}
			g.Expect(e.RemoteUser).To(BeEmpty(), "an unverified identity is never taken")
			g.Expect(e.Reason).To(Equal(string(ReasonFrontProxyUnauthenticated)))
		})
	}
}

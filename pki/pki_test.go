package pki

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"testing"

	. "github.com/onsi/gomega"
)

func TestIssueServerAndClientCertificates(t *testing.T) {
	g := NewWithT(t)
	ca, err := NewCA("test-ca")
	g.Expect(err).NotTo(HaveOccurred())
	pool := x509.NewCertPool()
	g.Expect(pool.AppendCertsFromPEM(ca.PEM)).To(BeTrue())

	server, err := ca.IssueServer("server", "127.0.0.1", "svc.example")
	g.Expect(err).NotTo(HaveOccurred())
	leaf := parse(t, server.CertPEM)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "svc.example"})
	g.Expect(err).NotTo(HaveOccurred(), "serving certificate for its DNS name")
	g.Expect(leaf.IPAddresses).To(ContainElement(net.ParseIP("127.0.0.1").To4()))

	client, err := ca.IssueClient("alice", "devs")
	g.Expect(err).NotTo(HaveOccurred())
	c := parse(t, client.CertPEM)
	_, err = c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	g.Expect(err).NotTo(HaveOccurred(), "client certificate")
	g.Expect(c.Subject.Organization).To(Equal([]string{"devs"}))
	_, err = client.TLS()
	g.Expect(err).NotTo(HaveOccurred())
}

func parse(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

package runner

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/pki"
)

// TestConnectTLSResumesTheCellsSession: two connections of one cell, each with a config
// connectTLS adjusted, make one full handshake on X25519 and one resumption, in TLS 1.2
// (whose resumption has no key exchange), to a server that, as kube-apiserver does, holds an
// ECDSA P-256 serving certificate and another one: the client must get the P-256 one, which
// a TLS 1.2 server gives only to a client that names the curve.
func TestConnectTLSResumesTheCellsSession(t *testing.T) {
	g := NewWithT(t)
	ca, err := pki.NewCA("serving-ca")
	g.Expect(err).NotTo(HaveOccurred())
	kp, err := ca.IssueServer("serving", "127.0.0.1") // ECDSA P-256
	g.Expect(err).NotTo(HaveOccurred())
	serving, err := kp.TLS()
	g.Expect(err).NotTo(HaveOccurred())
	other := selfSignedRSA(t, "loopback-client") // for no IP address
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serving, other}})
	g.Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = conn.(*tls.Conn).Handshake()
				_ = conn.Close()
			}()
		}
	}()
	roots := x509.NewCertPool()
	g.Expect(roots.AppendCertsFromPEM(ca.PEM)).To(BeTrue())
	adjust := connectTLS(tls.NewLRUClientSessionCache(4))
	var states []tls.ConnectionState
	for range 2 {
		cfg := &tls.Config{RootCAs: roots}
		adjust(cfg)
		conn, err := tls.Dial("tcp", l.Addr().String(), cfg)
		g.Expect(err).NotTo(HaveOccurred(), "the server's ECDSA P-256 certificate, for 127.0.0.1")
		states = append(states, conn.ConnectionState())
		g.Expect(conn.Close()).To(Succeed())
	}
	g.Expect(states[0].DidResume).To(BeFalse())
	g.Expect(states[1].DidResume).To(BeTrue(), "the second connection resumes the first one's session")
	for _, s := range states {
		g.Expect(s.Version).To(Equal(uint16(tls.VersionTLS12)))
	}
	g.Expect(states[0].CurveID).To(Equal(tls.X25519), "the full handshake on X25519")
}

// selfSignedRSA is an RSA certificate for name alone, signed by itself: a certificate of
// another key type than pki's, as kube-apiserver's loopback certificate is.
func selfSignedRSA(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

package runner

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// TestConnectTLSResumesTheCellsSession: two connections of one cell, each with a config
// connectTLS adjusted, make one full handshake on X25519 and one resumption, in TLS 1.2
// (whose resumption has no key exchange), to a server that, as kube-apiserver does, holds an
// ECDSA P-256 serving certificate and another one: the client must get the P-256 one, which
// a TLS 1.2 server gives only to a client that names the curve.
func TestConnectTLSResumesTheCellsSession(t *testing.T) {
	g := NewWithT(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	g.Expect(err).NotTo(HaveOccurred())
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	g.Expect(err).NotTo(HaveOccurred())
	serving := selfSigned(t, ecKey, "serving", net.ParseIP("127.0.0.1"))
	other := selfSigned(t, rsaKey, "loopback-client", nil)
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
	roots.AddCert(serving.Leaf)
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

// selfSigned is a certificate of key for name and, if set, ip, signed by itself.
func selfSigned(t *testing.T, key crypto.Signer, name string, ip net.IP) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

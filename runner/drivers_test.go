package runner

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	. "github.com/onsi/gomega"
)

// TestConnectTLSResumesTheCellsSession: two connections of one cell, each with a config
// connectTLS adjusted, make one full handshake on X25519 and one resumption, in TLS 1.2
// (whose resumption has no key exchange).
func TestConnectTLSResumesTheCellsSession(t *testing.T) {
	g := NewWithT(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.StartTLS()
	defer srv.Close()
	adjust := connectTLS(tls.NewLRUClientSessionCache(4))
	var states []tls.ConnectionState
	for range 2 {
		cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		adjust(cfg)
		conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), cfg)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(conn.Handshake()).To(Succeed())
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

package fakeoperator

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/mirrordproto"
)

// dial opens a WebSocket to path on s, offering protocols.
func dial(t *testing.T, s *Server, path string, h http.Header, protocols ...string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.CAPEM())
	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}, Subprotocols: protocols, HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial("wss"+strings.TrimPrefix(s.URL, "https")+path, h)
	if conn != nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, resp, err
}

// exchange sends one client message and reads one daemon message.
func exchange(t *testing.T, conn *websocket.Conn, m mirrordproto.ClientMessage) mirrordproto.DaemonMessage {
	t.Helper()
	g := NewWithT(t)
	b, err := mirrordproto.EncodeClient(m)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(conn.WriteMessage(websocket.BinaryMessage, b)).To(Succeed())
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	kind, frame, err := conn.ReadMessage()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(kind).To(Equal(websocket.BinaryMessage), "the server sends binary frames only")
	reply, err := mirrordproto.DecodeDaemon(frame)
	g.Expect(err).NotTo(HaveOccurred())
	return reply
}

func connectHeaders(der []byte, session string) http.Header {
	return headers(hdr.Certificate, b64(der), hdr.SessionID, session, hdr.Version, "3.250.0", hdr.Hostname, "laptop")
}

func TestTargetConnectSession(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	der := validCert(t, s)
	for _, path := range []string{targetPath, "/apis/operator.metalbear.co/v1/proxy/namespaces/default/targets/deployment.nginx.container.nginx"} {
		conn, resp, err := dial(t, s, path+"?connect=true&on_concurrent_steal=abort&key=k", connectHeaders(der, "1234"), contract.Subprotocol)
		g.Expect(err).NotTo(HaveOccurred(), path)
		g.Expect(resp.StatusCode).To(Equal(http.StatusSwitchingProtocols))
		g.Expect(conn.Subprotocol()).To(Equal(contract.Subprotocol), "subprotocol echoed")
		g.Expect(exchange(t, conn, mirrordproto.ClientMessage{Kind: mirrordproto.ClientSwitchProtocolVersion, Version: "1.30.0"}).Version).To(Equal(mirrordproto.ProtocolVersion))
		env := exchange(t, conn, mirrordproto.ClientMessage{Kind: mirrordproto.ClientGetEnvVarsRequest})
		g.Expect(env.Env).To(HaveKey("MIRRORD_TARGET"))
		g.Expect(exchange(t, conn, mirrordproto.ClientMessage{Kind: mirrordproto.ClientPing}).Kind).To(Equal(mirrordproto.DaemonPong))
	}
	// both connections share session 1234 under one certificate
	sessions := s.state.listSessions("default")
	g.Expect(sessions).To(HaveLen(1))
	g.Expect(sessions[0].Connections).To(Equal(2))
	connects := s.Journal().Select(contract.Filter{Class: contract.ClassTargetConnect})
	g.Expect(connects).To(HaveLen(2))
	g.Expect(connects[0].Code).To(Equal(http.StatusSwitchingProtocols))
	g.Expect(connects[0].SessionID).To(Equal("1234"))
	g.Expect(connects[0].Query).To(HaveKeyWithValue("key", []string{"k"}))
}

func TestSessionCannotBeTakenOver(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	_, _, err := dial(t, s, targetPath+"?connect=true", connectHeaders(validCert(t, s), "77"), contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred())
	_, resp, err := dial(t, s, targetPath+"?connect=true", connectHeaders(validCert(t, s), "77"), contract.Subprotocol)
	g.Expect(err).To(HaveOccurred(), "another valid certificate cannot join session 77")
	g.Expect(resp.StatusCode).To(Equal(http.StatusForbidden))
	var st metav1.Status
	g.Expect(json.NewDecoder(resp.Body).Decode(&st)).To(Succeed())
	g.Expect(st.Reason).To(Equal(ReasonSessionCertificateMismatch))
}

func TestConnectRefusals(t *testing.T) {
	s := newTestServer(t, Options{})
	der := validCert(t, s)
	for _, tc := range []struct {
		name      string
		path      string
		h         http.Header
		protocols []string
		code      int
		reason    metav1.StatusReason
	}{
		{name: "no session id", path: targetPath + "?connect=true", h: headers(hdr.Certificate, b64(der)), protocols: []string{contract.Subprotocol}, code: 400, reason: ReasonSessionIDMissing},
		{name: "hex session id", path: targetPath + "?connect=true", h: connectHeaders(der, "DEADBEEF"), protocols: []string{contract.Subprotocol}, code: 400, reason: ReasonSessionIDInvalid},
		{name: "negative session id", path: targetPath + "?connect=true", h: connectHeaders(der, "-1"), protocols: []string{contract.Subprotocol}, code: 400, reason: ReasonSessionIDInvalid},
		{name: "no subprotocol", path: targetPath + "?connect=true", h: connectHeaders(der, "1"), code: 400, reason: ReasonSubprotocolRequired},
		{name: "other subprotocol", path: targetPath + "?connect=true", h: connectHeaders(der, "2"), protocols: []string{"v5.channel.k8s.io"}, code: 400, reason: ReasonSubprotocolRequired},
		{name: "unknown target", path: "/apis/operator.metalbear.co/v1/namespaces/default/targets/deployment.ghost?connect=true", h: connectHeaders(der, "3"), protocols: []string{contract.Subprotocol}, code: 404, reason: metav1.StatusReasonNotFound},
		{name: "bad target type", path: "/apis/operator.metalbear.co/v1/namespaces/default/targets/widget.x?connect=true", h: connectHeaders(der, "4"), protocols: []string{contract.Subprotocol}, code: 404, reason: metav1.StatusReasonNotFound},
		{name: "missing copy target", path: "/apis/operator.metalbear.co/v1/namespaces/default/copytargets/nope?connect=true", h: connectHeaders(der, "5"), protocols: []string{contract.Subprotocol}, code: 404, reason: metav1.StatusReasonNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			_, resp, err := dial(t, s, tc.path, tc.h, tc.protocols...)
			g.Expect(err).To(HaveOccurred())
			g.Expect(resp.StatusCode).To(Equal(tc.code))
			var st metav1.Status
			g.Expect(json.NewDecoder(resp.Body).Decode(&st)).To(Succeed(), "a non-101 answer is a Status")
			g.Expect(st.Reason).To(Equal(tc.reason))
		})
	}
}

func TestConnectParamsInHeader(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	der := validCert(t, s)
	h := connectHeaders(der, "9")
	h.Set(hdr.ConnectParams, base64.StdEncoding.EncodeToString([]byte("connect=true&on_concurrent_steal=abort&kafka_splits=%7B%22a%22%3A1%7D")))
	_, _, err := dial(t, s, targetPath+"?connect=true", h, contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred())

	h = connectHeaders(der, "10")
	h.Set(hdr.ConnectParams, "not base64!")
	_, resp, err := dial(t, s, targetPath+"?connect=true", h, contract.Subprotocol)
	g.Expect(err).To(HaveOccurred())
	g.Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))

	old := newTestServer(t, Options{OperatorVersion: "3.200.0"})
	h = connectHeaders(validCert(t, old), "11")
	h.Set(hdr.ConnectParams, "not base64!")
	_, _, err = dial(t, old, targetPath+"?connect=true", h, contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred(), "an operator without ConnectParamsInHeader ignores the header")
}

func TestQueryIsParsedNotCompared(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	// the aggregator re-encodes the query with sorted keys
	_, _, err := dial(t, s, targetPath+"?connect=true&key=abc&on_concurrent_steal=abort", connectHeaders(validCert(t, s), "12"), contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred())
	_, _, err = dial(t, s, targetPath+"?on_concurrent_steal=abort&key=abc&connect=true", connectHeaders(validCert(t, s), "13"), contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred())
}

func TestCopyTargetFlow(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	der := validCert(t, s)
	base := "/apis/operator.metalbear.co/v1/namespaces/default/copytargets"
	h := headers(hdr.Certificate, b64(der))
	body := `{"apiVersion":"operator.metalbear.co/v1","kind":"CopyTarget","metadata":{"name":"deploy.nginx"},"spec":{"target":{"deployment":{"deployment":"nginx"}},"idle_ttl":30,"scale_down":false}}`
	code, _, _ := do(t, s, request{method: http.MethodPost, path: base, headers: h, body: body})
	g.Expect(code).To(Equal(http.StatusCreated))
	code, _, st := do(t, s, request{method: http.MethodPost, path: base, headers: h, body: body})
	g.Expect(code).To(Equal(http.StatusConflict))
	g.Expect(st.Reason).To(Equal(metav1.StatusReasonAlreadyExists))
	code, got, _ := do(t, s, request{path: base + "/deploy.nginx", headers: h})
	g.Expect(code).To(Equal(http.StatusOK))
	var obj struct {
		Status struct {
			Phase          string `json:"phase"`
			CreatorSession struct {
				UserID string `json:"user_id"`
			} `json:"creator_session"`
		} `json:"status"`
	}
	g.Expect(json.Unmarshal(got, &obj)).To(Succeed())
	g.Expect(obj.Status.Phase).To(Equal("Ready"))
	g.Expect(obj.Status.CreatorSession.UserID).NotTo(BeEmpty(), "user id from the certificate")
	code, list, _ := do(t, s, request{path: base, headers: h})
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(string(list)).To(ContainSubstring("deploy.nginx"))
	conn, _, err := dial(t, s, base+"/deploy.nginx?connect=true", connectHeaders(der, "21"), contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(conn.Subprotocol()).To(Equal(contract.Subprotocol))
	g.Expect(s.Journal().Select(contract.Filter{Class: contract.ClassCopyTargetConnect})).To(HaveLen(1))
}

func TestDiagnosticPing(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	der := validCert(t, s)
	h := headers(hdr.Certificate, b64(der), hdr.Certificate, b64(der))
	conn, _, err := dial(t, s, operatorPath+"/ping", h, contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred(), "the ping carries x-client-der twice, same value")
	g.Expect(exchange(t, conn, mirrordproto.ClientMessage{Kind: mirrordproto.ClientPing}).Kind).To(Equal(mirrordproto.DaemonPong))

	_, resp, err := dial(t, s, operatorPath+"/ping", nil, contract.Subprotocol)
	g.Expect(err).To(HaveOccurred())
	g.Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized), "the ping needs a certificate")

	old := newTestServer(t, Options{OperatorVersion: "3.200.0"})
	_, resp, err = dial(t, old, operatorPath+"/ping", headers(hdr.Certificate, b64(validCert(t, old))), contract.Subprotocol)
	g.Expect(err).To(HaveOccurred())
	g.Expect(resp.StatusCode).To(Equal(http.StatusNotFound), "no DiagnosticPing before 3.236.0")
}

func TestServerNeverSendsTextAndClosesOnText(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	conn, _, err := dial(t, s, targetPath+"?connect=true", connectHeaders(validCert(t, s), "31"), contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(conn.WriteMessage(websocket.TextMessage, []byte("hello"))).To(Succeed())
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	g.Expect(websocket.IsCloseError(err, websocket.CloseUnsupportedData)).To(BeTrue(), "closed for a text frame: %v", err)
}

func TestCloseEndsWebSockets(t *testing.T) {
	g := NewWithT(t)
	s, err := NewServer(Options{})
	g.Expect(err).NotTo(HaveOccurred())
	conn, _, err := dial(t, s, targetPath+"?connect=true", connectHeaders(validCert(t, s), "41"), contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred())
	s.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	g.Expect(err).To(HaveOccurred(), "the connection ends with the server")
}

package fakeoperator

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/gorilla/websocket"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/mirrordproto"
)

// Bounds of a WebSocket session.
const (
	// handshakeTimeout bounds the upgrade handshake.
	handshakeTimeout = 10 * time.Second
	// idleTimeout closes a connection that sends nothing for this long.
	idleTimeout = 10 * time.Minute
	// maxFrame bounds one client message.
	maxFrame = 1 << 20
)

// serveConnect upgrades target and copy-target connects and the diagnostic ping to a
// WebSocket that speaks enough mirrord-protocol for a client to get going.
func (s *Server) serveConnect(c *call) {
	rt := c.route
	switch {
	case rt.Class == contract.ClassPing && (rt.Name != contract.OperatorName || !s.hasFeature(FeatureDiagnosticPing)):
		s.notFound(c, "the server could not find the requested resource mirrordoperators/ping")
		return
	case rt.Proxy && !s.hasFeature(FeatureProxyAPI):
		s.notFound(c, "the server could not find the requested resource (proxy form without ProxyApi)")
		return
	case rt.Class == contract.ClassTargetConnect:
		if err := s.resolveTarget(rt.Namespace, rt.Name); err != nil {
			s.notFound(c, err.Error())
			return
		}
	case rt.Class == contract.ClassCopyTargetConnect:
		if _, ok := s.state.copyTarget(rt.Namespace, rt.Name); !ok {
			s.notFound(c, "copytargets.operator.metalbear.co \""+rt.Name+"\"")
			return
		}
	}
	if !websocket.IsWebSocketUpgrade(c.r) {
		s.fail(c, http.StatusBadRequest, ReasonUpgradeRequired, "%s requests must be WebSocket upgrades", rt.Class)
		return
	}
	if !slices.Contains(websocket.Subprotocols(c.r), contract.Subprotocol) {
		s.fail(c, http.StatusBadRequest, ReasonSubprotocolRequired, "Sec-WebSocket-Protocol must offer %s, got %q", contract.Subprotocol, websocket.Subprotocols(c.r))
		return
	}
	// The entry is journalled before the 101 goes out, so a client that saw the upgrade
	// always finds it in the journal; a failed handshake amends it.
	c.w.code = http.StatusSwitchingProtocols
	seq := s.record(c)
	up := websocket.Upgrader{
		HandshakeTimeout: handshakeTimeout,
		Subprotocols:     []string{contract.Subprotocol},
		CheckOrigin:      func(*http.Request) bool { return true },
		Error: func(w http.ResponseWriter, _ *http.Request, code int, reason error) {
			msg := "websocket upgrade: " + reason.Error()
			s.journal.Amend(seq, func(e *contract.Entry) {
				e.Code, e.Reason, e.Message = code, string(metav1.StatusReasonBadRequest), msg
			})
			writeStatus(w, code, metav1.StatusReasonBadRequest, msg)
		},
	}
	// Like the journal entry, the session is listed before the 101 goes out, so a client
	// that saw the upgrade always finds its session.
	pending := &upgradingConn{}
	if rt.Class.IsConnect() {
		s.state.openConn(c.sessionID, pending, func(ss *session) {
			ss.Namespace, ss.Target, ss.Started, ss.Key = rt.Namespace, rt.Name, s.clock.Now(), c.params.Get("key")
			ss.User = sessionUser(c.r.Header.Get(s.keys.Name), c.entry.RemoteUser, c.r.Header.Get(s.keys.Hostname))
			if c.cert != nil && c.cert.cert != nil {
				ss.Fingerprint, ss.UserID = c.cert.fingerprint, c.cert.cert.UserID
			}
		})
	}
	conn, err := up.Upgrade(c.w.ResponseWriter, c.r, nil)
	if err != nil {
		if rt.Class.IsConnect() {
			s.state.abortConn(c.sessionID, pending)
		}
		return // the Error callback answered
	}
	if rt.Class.IsConnect() {
		defer s.state.closeConn(c.sessionID, pending)
	}
	if !pending.set(conn.NetConn()) || !s.trackConn(conn.NetConn()) {
		_ = conn.Close()
		return
	}
	defer s.untrackConn(conn.NetConn())
	defer conn.Close()
	s.converse(conn, rt)
}

// sessionUser formats a session's user as the operator does: {name}/{k8s user}@{hostname}.
func sessionUser(name, k8sUser, hostname string) string {
	orUnknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	return orUnknown(name) + "/" + orUnknown(k8sUser) + "@" + orUnknown(hostname)
}

// converse answers client messages until the client closes, sends something that is not
// a binary mirrord-protocol frame, or stays idle past idleTimeout. The server sends only
// binary frames: never text, never pings.
func (s *Server) converse(conn *websocket.Conn, rt contract.Route) {
	conn.SetReadLimit(maxFrame)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(idleTimeout))
		kind, frame, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if kind != websocket.BinaryMessage {
			s.closeWith(conn, websocket.CloseUnsupportedData, "mirrord-protocol frames are binary")
			return
		}
		msg, err := mirrordproto.DecodeClient(frame)
		if err != nil {
			s.opts.Logger.V(1).Info("client message not understood", "error", err.Error())
			continue
		}
		reply, ok := s.reply(msg, rt)
		if msg.Kind == mirrordproto.ClientClose {
			return
		}
		if !ok {
			continue
		}
		out, err := mirrordproto.EncodeDaemon(reply)
		if err == nil {
			err = conn.WriteMessage(websocket.BinaryMessage, out)
		}
		if err != nil {
			return
		}
	}
}

// reply is the operator's answer to one client message.
func (s *Server) reply(msg mirrordproto.ClientMessage, rt contract.Route) (mirrordproto.DaemonMessage, bool) {
	switch msg.Kind {
	case mirrordproto.ClientPing:
		return mirrordproto.DaemonMessage{Kind: mirrordproto.DaemonPong}, true
	case mirrordproto.ClientSwitchProtocolVersion:
		return mirrordproto.DaemonMessage{Kind: mirrordproto.DaemonSwitchProtocolVersionResponse, Version: negotiate(msg.Version)}, true
	case mirrordproto.ClientGetEnvVarsRequest:
		return mirrordproto.DaemonMessage{Kind: mirrordproto.DaemonGetEnvVarsResponse, Env: map[string]string{
			"MIRRORD_TARGET": rt.Name, "MIRRORD_NAMESPACE": rt.Namespace,
		}}, true
	}
	return mirrordproto.DaemonMessage{}, false
}

// ourProtocol is the protocol version the operator speaks.
var ourProtocol = semver.MustParse(mirrordproto.ProtocolVersion)

// negotiate answers a protocol-version switch with the lower of the client's and ours.
func negotiate(client string) string {
	v, err := semver.StrictNewVersion(client)
	if err != nil || v.GreaterThan(ourProtocol) {
		return ourProtocol.String()
	}
	return v.String()
}

func (s *Server) closeWith(conn *websocket.Conn, code int, text string) {
	msg := websocket.FormatCloseMessage(code, text)
	if err := conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		s.opts.Logger.V(1).Info("closing websocket", "error", err.Error())
	}
}

// upgradingConn is a session's connection from before its 101 goes out: closing it before
// the upgrade finished closes the connection as soon as there is one.
type upgradingConn struct {
	mu     sync.Mutex
	conn   io.Closer
	closed bool
}

// set gives the upgraded connection; false when it was closed meanwhile (and now is).
func (u *upgradingConn) set(conn io.Closer) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		_ = conn.Close()
		return false
	}
	u.conn = conn
	return true
}

func (u *upgradingConn) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	if u.conn != nil {
		return u.conn.Close()
	}
	return nil
}

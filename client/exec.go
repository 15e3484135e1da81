package client

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	wsclient "k8s.io/client-go/transport/websocket"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/mirrordproto"
)

// ExecOptions are the arguments of Exec.
type ExecOptions struct {
	// Target is {type}[.{name}][.container.{c}].
	Target string
	// CopyTarget connects to a copy of the target made by the operator.
	CopyTarget bool
	// SessionKey is the session key of the connect query; default "opclient".
	SessionKey string
	// Timeout bounds each WebSocket exchange; default 10s.
	Timeout time.Duration
}

// Exec is `mirrord exec` as the client's version does it: the operator GET (from 3.75.0
// first; before it, after the target's GET), the local licence check, a certificate (abort
// without one), the target — its GET from the operator until 3.118.1, resolved against
// kube-apiserver after — or a copy of it, the WebSocket connect with a new session id, GET
// /version, and the second connection the client's proxy opens with the same session id.
// Both connections are closed at the end.
func (c *Client) Exec(ctx context.Context, eo ExecOptions) error {
	if eo.SessionKey == "" {
		eo.SessionKey = "opclient"
	}
	if eo.Timeout == 0 {
		eo.Timeout = 10 * time.Second
	}
	target, err := contract.ParseTarget(eo.Target)
	if err != nil {
		return err
	}
	b := c.layer.Behaviours()
	name := ""
	if !b[OperatorFirst] {
		if name, err = c.fetchTarget(ctx, target); err != nil {
			return err
		}
	}
	op, err := c.getOperator(ctx, b[DiscoveryAfterError] || b[DiscoveryAfterExecError])
	if err != nil {
		return err
	}
	if err := c.checkLicense(op); err != nil {
		return err
	}
	if _, err := c.prepareCertificate(ctx, op); err != nil {
		return fmt.Errorf("preparing the client certificate: %w", err)
	}
	resource := contract.ResourceTargets
	var session uint64
	switch {
	case eo.CopyTarget:
		if name, session, err = c.copyTarget(ctx, target); err != nil {
			return err
		}
		resource = contract.ResourceCopyTargets
	case !b[KubeResolvesTarget]:
		if name == "" {
			if name, err = c.fetchTarget(ctx, target); err != nil {
				return err
			}
		}
	default:
		if err := c.resolveTarget(ctx, target); err != nil {
			return err
		}
		name = target.String()
		if !b[TypeNameInURL] {
			name = target.URLName()
		}
	}
	if session == 0 {
		session = randomSessionID()
	}
	path, header := c.connectRequest(op, resource, name, eo.SessionKey)
	first, err := c.connect(ctx, path, header, session, eo.Timeout)
	if err != nil && !c.keepGoing() {
		return err
	}
	if first != nil {
		defer closeConn(first)
	}
	if _, verr := c.kubeVersion(ctx); verr != nil && err == nil {
		return verr
	}
	if c.opts.Build.Defect == DefectUnstableSessionID {
		session++
	}
	if c.switchTo != nil {
		c.layer.SetCertificate(c.switchTo)
	}
	second, err2 := c.connect(ctx, path, header, session, eo.Timeout)
	if err == nil {
		err = err2
	}
	if second != nil {
		defer closeConn(second)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.opts.Out, "session %X: connected to %s/%s twice\n", session, c.opts.Namespace, name)
	return nil
}

// targetCRD is what the client reads of a Target from the operator: mirrord's Target object
// in spec.target.
type targetCRD struct {
	Spec struct {
		Target map[string]any `json:"target"`
	} `json:"spec"`
}

// fetchTarget is the operator's GET of the target, as clients before 3.118.1 make it (with
// the certified client): GET …/namespaces/{ns}/targets/deploy.{name}. The connect names the
// target as the answer's spec.target does, by TargetCrd::urlfied_name.
func (c *Client) fetchTarget(ctx context.Context, t contract.Target) (string, error) {
	path := operatorBase + "/namespaces/" + c.opts.Namespace + "/" + contract.ResourceTargets + "/" + t.URLName()
	var crd targetCRD
	if err := c.guard(c.call(ctx, http.MethodGet, path, nil, "", &crd), http.MethodGet, path); err != nil {
		return "", fmt.Errorf("finding target %s: %w", t, err)
	}
	if t.Type == "targetless" {
		return t.String(), nil
	}
	got, ok := contract.TargetFromObject(crd.Spec.Target)
	if !ok {
		return "", fmt.Errorf("finding target %s: the operator's answer has no target in spec.target (%v)", t, crd.Spec.Target)
	}
	return got.URLName(), nil
}

// keepGoing is the ignore-refusal defect: a sound client stops at a refusal.
func (c *Client) keepGoing() bool {
	return c.opts.Build.Defect == DefectIgnoreRefusal
}

// resolveTarget checks the target against kube-apiserver with the certified client, as
// the mirrord CLI resolves targets (these requests carry the headers too).
func (c *Client) resolveTarget(ctx context.Context, t contract.Target) error {
	kube, err := c.kube(true)
	if err != nil {
		return err
	}
	switch t.Type {
	case "deployment":
		_, err = kube.apps.Deployments(c.opts.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
	case "pod":
		_, err = kube.core.Pods(c.opts.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
	}
	if err != nil {
		return fmt.Errorf("resolving target %s: %w", t, err)
	}
	return nil
}

// copyPollInterval is how often the client polls a copy that is not Ready yet.
const copyPollInterval = 5 * time.Second

// copyTarget lists, creates and polls a CopyTarget as the mirrord CLI does: named by
// TargetCrd::urlfied_name (deploy.nginx), spec.target mirrord's Target object, polled every
// copyPollInterval (on the client's clock) until Ready; it returns the copy's name and the
// creator session's id (hex in status.creator_session.id), the session the connect continues.
func (c *Client) copyTarget(ctx context.Context, t contract.Target) (string, uint64, error) {
	base := operatorBase + "/namespaces/" + c.opts.Namespace + "/" + contract.ResourceCopyTargets
	if err := c.guard(c.call(ctx, http.MethodGet, base, nil, "", nil), http.MethodGet, base); err != nil {
		return "", 0, fmt.Errorf("listing copy targets: %w", err)
	}
	name := t.URLName()
	body, _ := json.Marshal(map[string]any{
		"apiVersion": contract.GroupVersion, "kind": "CopyTarget", "metadata": map[string]string{"name": name},
		"spec": map[string]any{"target": t.Object(), "idle_ttl": 30, "scale_down": false},
	})
	if err := c.guard(c.call(ctx, http.MethodPost, base, body, "application/json", nil), http.MethodPost, base); err != nil {
		return "", 0, fmt.Errorf("creating copy target %s: %w", name, err)
	}
	deadline := c.opts.Clock.Now().Add(2 * time.Minute)
	for {
		var obj struct {
			Status *struct {
				Phase          string `json:"phase"`
				FailureMessage string `json:"failure_message"`
				CreatorSession struct {
					ID string `json:"id"`
				} `json:"creator_session"`
			} `json:"status"`
		}
		if err := c.guard(c.call(ctx, http.MethodGet, base+"/"+name, nil, "", &obj), http.MethodGet, base); err != nil {
			return "", 0, fmt.Errorf("getting copy target %s: %w", name, err)
		}
		switch {
		case obj.Status == nil:
			return name, 0, nil // an operator whose copies have no status: a new session
		case obj.Status.Phase == "Ready" || obj.Status.Phase == "":
			id, err := strconv.ParseUint(obj.Status.CreatorSession.ID, 16, 64)
			if err != nil {
				return "", 0, fmt.Errorf("copy target %s: creator_session.id %q is not hex: %w", name, obj.Status.CreatorSession.ID, err)
			}
			return name, id, nil
		case obj.Status.Phase == "Failed":
			return "", 0, fmt.Errorf("copy target %s failed: %s", name, obj.Status.FailureMessage)
		case obj.Status.Phase != "InProgress":
			return "", 0, fmt.Errorf("copy target %s: unknown phase %q", name, obj.Status.Phase)
		case c.opts.Clock.Now().After(deadline):
			return "", 0, fmt.Errorf("copy target %s not Ready after 2m (phase %s)", name, obj.Status.Phase)
		}
		select {
		case <-ctx.Done():
			return "", 0, ctx.Err()
		case <-c.opts.Clock.After(copyPollInterval):
		}
	}
}

// connectRequest builds the connect path and extra header as the client's version does:
// the /proxy/ form when ProxyApi is advertised (and read: from 3.51.1); the query
// on_concurrent_steal (from 3.51.1, not for a copy target) and key (from 3.189.0) beside
// connect=true; and the query moved to x-mirrord-connect-params when ConnectParamsInHeader
// is advertised to a client that knows it.
func (c *Client) connectRequest(op *Operator, resource, name, key string) (string, http.Header) {
	b := c.layer.Behaviours()
	prefix := operatorBase
	if op.Has("ProxyApi") {
		prefix += "/proxy"
	}
	path := prefix + "/namespaces/" + c.opts.Namespace + "/" + resource + "/" + name
	query := "connect=true"
	if b[LegacyFeatures] && resource == contract.ResourceTargets {
		query += "&on_concurrent_steal=abort"
	}
	if b[ConnectKey] {
		query += "&key=" + url.QueryEscape(key)
	}
	header := http.Header{}
	if b[ConnectParamsHeader] && op.Has("ConnectParamsInHeader") {
		header.Set(c.layer.cfg.Headers.ConnectParams, base64.StdEncoding.EncodeToString([]byte(query)))
		return path + "?connect=true", header
	}
	return path + "?" + query, header
}

// connect opens one WebSocket connect through client-go's WebSocket round tripper (so the
// header layer stamps the upgrade request), then switches the protocol version and asks for
// the environment.
func (c *Client) connect(ctx context.Context, path string, extra http.Header, session uint64, timeout time.Duration) (*websocket.Conn, error) {
	if c.refused && !c.keepGoing() {
		return nil, errors.New("not connecting: the operator already refused this client")
	}
	rt, holder, err := wsclient.RoundTripperFor(c.config)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if ws, ok := holder.(*wsclient.RoundTripper); ok && ws.TLSConfig != nil && c.opts.ConnectTLS != nil {
		c.opts.ConnectTLS(ws.TLSConfig)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.host+path, nil)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	for k, vs := range extra {
		req.Header[k] = vs
	}
	if c.layer.Behaviours()[SessionIDHeader] && c.opts.Build.Defect != DefectOmitSessionID {
		req.Header.Set(c.layer.cfg.Headers.SessionID, fmt.Sprint(session))
	}
	conn, err := wsclient.Negotiate(rt, holder, req, contract.Subprotocol)
	if err != nil {
		return nil, c.guard(fmt.Errorf("connect %s: %w", path, err), http.MethodGet, path)
	}
	if err := handshake(conn, timeout); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("connect %s: %w", path, err)
	}
	return conn, nil
}

// handshake is the first mirrord-protocol exchange of a session.
func handshake(conn *websocket.Conn, timeout time.Duration) error {
	for _, m := range []mirrordproto.ClientMessage{
		{Kind: mirrordproto.ClientSwitchProtocolVersion, Version: mirrordproto.ProtocolVersion},
		{Kind: mirrordproto.ClientGetEnvVarsRequest, EnvFilter: []string{}, EnvSelect: []string{}},
	} {
		frame, err := mirrordproto.EncodeClient(m)
		if err != nil {
			return err
		}
		_ = conn.SetWriteDeadline(time.Now().Add(timeout))
		if err := conn.WriteMessage(websocket.BinaryMessage, frame); err != nil {
			return fmt.Errorf("sending %d: %w", m.Kind, err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(timeout))
		kind, data, err := conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("waiting for the answer to %d: %w", m.Kind, err)
		}
		if kind != websocket.BinaryMessage {
			return fmt.Errorf("the operator sent a non-binary frame (type %d)", kind)
		}
		if _, err := mirrordproto.DecodeDaemon(data); err != nil {
			return err
		}
	}
	return nil
}

// closeConn says Close in mirrord-protocol, then closes the WebSocket cleanly.
func closeConn(conn *websocket.Conn) {
	if frame, err := mirrordproto.EncodeClient(mirrordproto.ClientMessage{Kind: mirrordproto.ClientClose}); err == nil {
		_ = conn.WriteMessage(websocket.BinaryMessage, frame)
	}
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = conn.Close()
}

// kubeVersion is the GET /version the CLI makes after connecting.
func (c *Client) kubeVersion(ctx context.Context) (string, error) {
	if c.refused && !c.keepGoing() {
		return "", nil
	}
	kube, err := c.kube(true)
	if err != nil {
		return "", err
	}
	v, err := kube.discovery.ServerVersion()
	if err != nil {
		return "", fmt.Errorf("GET /version: %w", err)
	}
	return v.GitVersion, nil
}

// randomSessionID is a new random u64 session id.
func randomSessionID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

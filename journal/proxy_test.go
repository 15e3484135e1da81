package journal_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"

	"github.com/opconform/opconform/client"
	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/fakeoperator"
	"github.com/opconform/opconform/journal"
)

// TestProxyForwardsHeadersUntouchedAndJournalsThem puts the recording proxy in front of
// the in-process fake operator (standing in for a cluster with a real operator) and runs
// the reference client's exec through it.
func TestProxyForwardsHeadersUntouchedAndJournalsThem(t *testing.T) {
	g := NewWithT(t)
	srv, err := fakeoperator.NewServer(fakeoperator.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	defer srv.Close()
	cluster := srv.RESTConfig()
	cluster.BearerToken = "cluster-credential"
	rec, err := journal.NewProxy(cluster, contract.MirrordHeaders())
	g.Expect(err).NotTo(HaveOccurred())
	defer rec.Close()

	c, err := client.New(client.Options{
		Config: rec.Config, Build: client.BuildInfo{Version: semver.MustParse("3.250.0")},
		Store: &client.Store{Path: filepath.Join(t.TempDir(), "credentials")}, Identity: &client.Identity{Name: "Zoë", Hostname: "laptop"},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Exec(context.Background(), client.ExecOptions{Target: "deployment.nginx"})).To(Succeed(), "exec works through the proxy, WebSockets included")

	recorded, seen := rec.Journal(), srv.Journal().Entries()
	g.Expect(recorded).To(HaveLen(len(seen)), "one journal entry per forwarded request")
	for i := range recorded {
		r, s := recorded[i], seen[i]
		g.Expect(r.Class).To(Equal(s.Class))
		g.Expect(r.Code).To(Equal(s.Code), "%s answered alike", r.Class)
		g.Expect(r.ClientVersion).To(Equal(s.ClientVersion), "version header forwarded untouched")
		for _, h := range []string{"x-client-der", "x-client-name", "x-client-hostname", "x-session-id", "x-mirrord-connect-params"} {
			g.Expect(r.Headers[h]).To(Equal(s.Headers[h]), "%s forwarded untouched on %s", h, r.Class)
		}
		if s.Certificate != nil {
			g.Expect(r.Certificate.Fingerprint).To(Equal(s.Certificate.Fingerprint))
			g.Expect(r.Certificate.Verdict).To(Equal(contract.Unjudged))
		}
		g.Expect(s.Headers["authorization"]).To(Equal([]string{"<redacted>"}), "the cluster's credential reached the cluster")
	}
	connects := 0
	for _, e := range recorded {
		if e.Class.IsConnect() {
			connects++
			g.Expect(e.Code).To(Equal(101))
		}
	}
	g.Expect(connects).To(Equal(2))
}

// TestProxyJournalsARefusalsStatus: a refusal's Status (reason and message) is journalled
// as the operator answered it, and the answer reaches the client unchanged.
func TestProxyJournalsARefusalsStatus(t *testing.T) {
	g := NewWithT(t)
	srv, err := fakeoperator.NewServer(fakeoperator.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	defer srv.Close()
	rec, err := journal.NewProxy(srv.RESTConfig(), contract.MirrordHeaders())
	g.Expect(err).NotTo(HaveOccurred())
	defer rec.Close()

	hc, err := rest.HTTPClientFor(rec.Config)
	g.Expect(err).NotTo(HaveOccurred())
	req, err := http.NewRequest(http.MethodGet, rec.Config.Host+"/apis/operator.metalbear.co/v1/namespaces/default/targets", nil)
	g.Expect(err).NotTo(HaveOccurred())
	req.Header.Set("x-mirrord-cli-version", "3.250.0")
	req.Header.Set("x-client-der", "not base64!")
	resp, err := hc.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized), string(body))
	g.Expect(string(body)).To(ContainSubstring(`"reason":"CertificateNotBase64"`), "the answer reaches the client unchanged")

	recorded := rec.Journal()
	g.Expect(recorded).To(HaveLen(1))
	g.Expect(recorded[0].Decision).To(Equal(contract.DecisionRefused))
	g.Expect(recorded[0].Code).To(Equal(http.StatusUnauthorized))
	g.Expect(recorded[0].Reason).To(Equal("CertificateNotBase64"))
	g.Expect(recorded[0].Message).To(ContainSubstring("x-client-der"))
}

// streamingCluster stands in for kube-apiserver's streaming answers: a watch that sends
// one event, waits until the test has read it, then sends the next; and a port-forward
// style upgrade (SPDY/3.1) that echoes what it reads.
func streamingCluster(t *testing.T, firstRead <-chan struct{}) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/namespaces/default/pods":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"type":"ADDED"}`+"\n")
			http.NewResponseController(w).Flush()
			select {
			case <-firstRead:
			case <-time.After(10 * time.Second):
			}
			_, _ = io.WriteString(w, `{"type":"MODIFIED"}`+"\n")
		case "/api/v1/namespaces/default/pods/nginx/portforward":
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n")
			line := make([]byte, 5)
			if _, err := io.ReadFull(buf, line); err == nil {
				_, _ = conn.Write(line)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestProxyPassesStreamsThrough: a watch's events reach the client as they are sent,
// and an upgraded stream other than a WebSocket (port-forward's SPDY) works both ways.
func TestProxyPassesStreamsThrough(t *testing.T) {
	g := NewWithT(t)
	firstRead := make(chan struct{})
	cluster := streamingCluster(t, firstRead)
	rec, err := journal.NewProxy(&rest.Config{Host: cluster.URL, TLSClientConfig: rest.TLSClientConfig{CAData: credentials.EncodeCertificatePEM(cluster.Certificate().Raw)}}, contract.MirrordHeaders())
	g.Expect(err).NotTo(HaveOccurred())
	defer rec.Close()

	hc, err := rest.HTTPClientFor(rec.Config)
	g.Expect(err).NotTo(HaveOccurred())
	resp, err := hc.Get(rec.Config.Host + "/api/v1/namespaces/default/pods?watch=true")
	g.Expect(err).NotTo(HaveOccurred())
	events := bufio.NewReader(resp.Body)
	first, err := events.ReadString('\n')
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(first).To(ContainSubstring("ADDED"), "the first event arrives before the watch goes on")
	close(firstRead)
	second, err := events.ReadString('\n')
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(second).To(ContainSubstring("MODIFIED"))
	_ = resp.Body.Close()

	tlsConfig, err := rest.TLSConfigFor(rec.Config)
	g.Expect(err).NotTo(HaveOccurred())
	conn, err := tls.Dial("tcp", strings.TrimPrefix(rec.Config.Host, "https://"), tlsConfig)
	g.Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(conn, "POST /api/v1/namespaces/default/pods/nginx/portforward HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n")
	g.Expect(err).NotTo(HaveOccurred())
	answer := bufio.NewReader(conn)
	status, err := answer.ReadString('\n')
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(status).To(HavePrefix("HTTP/1.1 101"), "the upgrade passes through")
	for { // the rest of the answer's head
		line, err := answer.ReadString('\n')
		g.Expect(err).NotTo(HaveOccurred())
		if line == "\r\n" {
			break
		}
	}
	_, err = io.WriteString(conn, "hello")
	g.Expect(err).NotTo(HaveOccurred())
	echo := make([]byte, 5)
	_, err = io.ReadFull(answer, echo)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(echo)).To(Equal("hello"), "bytes flow both ways after the upgrade")

	g.Expect(rec.Journal()).To(HaveLen(2), "both requests journalled")
	g.Expect(rec.Journal()[1].Code).To(Equal(http.StatusSwitchingProtocols))
}

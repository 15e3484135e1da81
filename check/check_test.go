package check

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/fakeoperator"
	"github.com/opconform/opconform/journal"
)

// pluginToken is what the user's exec plugin hands out: the cluster accepts only it.
const pluginToken = "token-from-the-users-exec-plugin"

// opclient builds the reference client at 3.250.0 as make client does.
func opclient(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("scripts/build-client.sh", "3.250.0")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("building the reference client: %v", err)
	}
	path, _ := filepath.Abs(filepath.Join("..", strings.TrimSpace(string(out))))
	return path
}

// pluginCluster is the fake operator behind a server that refuses every request without
// the exec plugin's token, and a kubeconfig whose user gets that token from an exec plugin.
type pluginCluster struct {
	kubeconfig, pluginRan string
	mu                    sync.Mutex
	authorizations        []string
}

func newPluginCluster(t *testing.T) *pluginCluster {
	t.Helper()
	g := NewWithT(t)
	fake, err := fakeoperator.NewUnstartedServer(fakeoperator.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	c := &pluginCluster{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.authorizations = append(c.authorizations, r.Header.Get("Authorization"))
		c.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+pluginToken {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`))
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	c.pluginRan = filepath.Join(dir, "plugin-ran")
	plugin := filepath.Join(dir, "credential-plugin")
	g.Expect(os.WriteFile(plugin, []byte("#!/bin/sh\necho ran >> "+c.pluginRan+"\n"+
		`echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"`+pluginToken+`"}}'`+"\n"), 0o755)).To(Succeed())
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: credentials.EncodeCertificatePEM(srv.Certificate().Raw)}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
		APIVersion: "client.authentication.k8s.io/v1", Command: plugin, InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}
	cfg.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u", Namespace: "default"}
	cfg.CurrentContext = "c"
	c.kubeconfig = filepath.Join(dir, "kubeconfig")
	g.Expect(clientcmd.WriteToFile(*cfg, c.kubeconfig)).To(Succeed())
	return c
}

// TestCheckUsesTheUsersExecPluginAndTheClientNeverSeesIt: the proxy authenticates with the
// credential the user's exec plugin gives; the client's kubeconfig and environment hold
// none of it; the check's private directory is gone when it returns.
func TestCheckUsesTheUsersExecPluginAndTheClientNeverSeesIt(t *testing.T) {
	g := NewWithT(t)
	client := opclient(t)
	cluster := newPluginCluster(t)
	seen := t.TempDir()
	var stdout, stderr bytes.Buffer
	r, err := Run(context.Background(), Options{
		Kubeconfig: cluster.kubeconfig,
		// the client: keeps what it was given, then runs opclient ls
		Command: []string{"/bin/sh", "-c", `cp "$KUBECONFIG" "$0/kubeconfig"; env > "$0/env"; exec "$1" ls`, seen, client},
		Stdout:  &stdout, Stderr: &stderr,
	})
	g.Expect(err).NotTo(HaveOccurred(), stderr.String())
	g.Expect(r.ExitCode).To(Equal(0), stderr.String())
	g.Expect(r.Holds()).To(BeTrue(), stderr.String())
	g.Expect(r.Journal).NotTo(BeEmpty())

	g.Expect(cluster.pluginRan).To(BeAnExistingFile(), "the proxy ran the user's exec plugin")
	cluster.mu.Lock()
	g.Expect(cluster.authorizations).NotTo(BeEmpty())
	for _, a := range cluster.authorizations {
		g.Expect(a).To(Equal("Bearer "+pluginToken), "every request reached the cluster with the plugin's credential")
	}
	cluster.mu.Unlock()

	kubeconfig, err := os.ReadFile(filepath.Join(seen, "kubeconfig"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(kubeconfig)).NotTo(ContainSubstring(pluginToken))
	g.Expect(string(kubeconfig)).NotTo(ContainSubstring("credential-plugin"), "the client's kubeconfig has no exec plugin")
	g.Expect(string(kubeconfig)).To(ContainSubstring("token: " + journal.PlaceholderToken))
	env, err := os.ReadFile(filepath.Join(seen, "env"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(env)).NotTo(ContainSubstring(pluginToken))
	g.Expect(stderr.String() + stdout.String()).NotTo(ContainSubstring(pluginToken))

	var private string
	for _, line := range strings.Split(string(env), "\n") {
		if v, ok := strings.CutPrefix(line, "KUBECONFIG="); ok {
			private = filepath.Dir(v)
		}
	}
	g.Expect(private).To(ContainSubstring("opconform-check-"))
	g.Expect(private).NotTo(BeADirectory(), "the check's private directory is removed")
}

// TestCheckForwardsSignalsAndStillJudges: a SIGTERM for the check reaches the command; the
// check waits for it, judges what it sent — here nothing, which is no pass — and leaves
// nothing behind.
func TestCheckForwardsSignalsAndStillJudges(t *testing.T) {
	g := NewWithT(t)
	cluster := newPluginCluster(t)
	seen := t.TempDir()
	sigs := make(chan os.Signal, 1)
	started := filepath.Join(seen, "started")
	go func() {
		// bounded: the command writes its environment, then waits for the signal
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(started); err == nil {
				sigs <- syscall.SIGTERM
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var stdout, stderr bytes.Buffer
	r, err := Run(context.Background(), Options{
		Kubeconfig: cluster.kubeconfig, ClientVersion: "3.250.0",
		Command: []string{"/bin/sh", "-c", `trap 'echo terminated; exit 7' TERM; env > "$0/env"; touch "$0/started"; sleep 30 >/dev/null 2>&1 & wait`, seen},
		Stdout:  &stdout, Stderr: &stderr, Signals: sigs,
	})
	g.Expect(err).To(MatchError(ErrCannotJudge), "nothing judged is no pass")
	g.Expect(err).To(MatchError(ContainSubstring("cannot judge sh: it sent no request (it exited with 7: no error output)")))
	g.Expect(stdout.String()).To(ContainSubstring("terminated"), "the command got the signal")
	g.Expect(r.ExitCode).To(Equal(7))
	g.Expect(stderr.String()).NotTo(ContainSubstring("contract holds"))
	env, _ := os.ReadFile(filepath.Join(seen, "env"))
	for _, line := range strings.Split(string(env), "\n") {
		if v, ok := strings.CutPrefix(line, "KUBECONFIG="); ok {
			g.Expect(filepath.Dir(v)).NotTo(BeADirectory(), "the check's private directory is removed")
		}
	}
}

// TestCheckLinksNoKind: opconform check judges a client against a cluster it is given; it
// has no business with kind's Go API (making clusters), which the tiers use.
func TestCheckLinksNoKind(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	NewWithT(t).Expect(err).NotTo(HaveOccurred(), string(out))
	NewWithT(t).Expect(string(out)).NotTo(ContainSubstring("sigs.k8s.io/kind"), "go list -deps ./check")
}

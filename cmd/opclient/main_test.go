package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/opconform/opconform/client"
	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/fakeoperator"
)

// buildClient builds opclient with the given -X settings into a temporary directory.
func buildClient(t testing.TB, settings ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "opclient")
	var ldflags []string
	for _, s := range settings {
		ldflags = append(ldflags, "-X github.com/opconform/opconform/client."+s)
	}
	cmd := exec.Command("go", "build", "-o", bin, "-ldflags", strings.Join(ldflags, " "), ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building opclient %v: %v\n%s", settings, err, out)
	}
	return bin
}

// kubeconfigFor writes a kubeconfig for srv and returns its path.
func kubeconfigFor(t testing.TB, srv *fakeoperator.Server) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["fake"] = &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: srv.CAPEM()}
	cfg.AuthInfos["user"] = &clientcmdapi.AuthInfo{Token: "not-a-secret"}
	cfg.Contexts["fake"] = &clientcmdapi.Context{Cluster: "fake", AuthInfo: "user"}
	cfg.CurrentContext = "fake"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// runClient runs bin with args, its own HOME and the kubeconfig, and returns the exit
// code, stdout and stderr.
func runClient(t testing.TB, bin, home, kubeconfig string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "KUBECONFIG="+kubeconfig, "OPCLIENT_HOSTNAME=laptop")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func TestVersionIsInjectedAndChecked(t *testing.T) {
	g := NewWithT(t)
	bin := buildClient(t, "version=3.250.0+20261128", "commit=abc123", "buildDate=2026-11-28")
	code, out, _ := runClient(t, bin, t.TempDir(), "/nonexistent")
	g.Expect(code).To(Equal(client.ExitUsage))
	code, out, _ = runClient(t, bin, t.TempDir(), "/nonexistent", "version")
	g.Expect(code).To(Equal(0))
	g.Expect(out).To(ContainSubstring("opclient 3.250.0+20261128"))
	g.Expect(out).To(ContainSubstring("commit: abc123"))
	g.Expect(out).To(ContainSubstring("built: 2026-11-28"))
	g.Expect(out).To(MatchRegexp(`platform: \w+/\w+`))

	for _, bad := range [][]string{{"version=v3.250.0"}, {"version=latest"}, nil, {"version=3.250.0", "defect=bogus"}} {
		code, _, errOut := runClient(t, buildClient(t, bad...), t.TempDir(), "/nonexistent", "version")
		g.Expect(code).To(Equal(client.ExitFailure), "%v", bad)
		g.Expect(errOut).To(HavePrefix("opclient: refusing to run:"), "%v", bad)
	}
}

func TestCommandsAgainstTheFakeOperator(t *testing.T) {
	g := NewWithT(t)
	srv, err := fakeoperator.NewServer(fakeoperator.Options{MinClientVersion: "3.109.0"})
	g.Expect(err).NotTo(HaveOccurred())
	defer srv.Close()
	kc := kubeconfigFor(t, srv)
	home := t.TempDir()
	bin := buildClient(t, "version=3.250.0")
	for _, args := range [][]string{{"status"}, {"ls"}, {"exec", "--target", "deployment.nginx"}} {
		code, out, errOut := runClient(t, bin, home, kc, args...)
		g.Expect(code).To(Equal(0), "%v: %s", args, errOut)
		g.Expect(out).NotTo(BeEmpty())
	}
	_, err = os.Stat(filepath.Join(home, ".mirrord", "credentials"))
	g.Expect(err).NotTo(HaveOccurred(), "credentials stored under $HOME")

	code, _, errOut := runClient(t, buildClient(t, "version=3.100.0"), t.TempDir(), kc, "status")
	g.Expect(code).To(Equal(client.ExitVersionRefused))
	g.Expect(strings.Count(errOut, "\n")).To(Equal(1), "one line")
	g.Expect(errOut).To(ContainSubstring("install mirrord 3.109.0 or later"))
}

func TestCertificateRefusalExitCode(t *testing.T) {
	g := NewWithT(t)
	srv, err := fakeoperator.NewServer(fakeoperator.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	defer srv.Close()
	home := seedForeignCertificate(t, srv)
	code, _, errOut := runClient(t, buildClient(t, "version=3.250.0"), home, kubeconfigFor(t, srv), "exec", "--target", "deployment.nginx")
	g.Expect(code).To(Equal(client.ExitCertificateRefused))
	g.Expect(errOut).To(ContainSubstring("header x-client-der, reason CertificateUnknownAuthority"))
	g.Expect(strings.Count(errOut, "\n")).To(Equal(1), "one line")
	entries := srv.Journal().Entries()
	g.Expect(entries[len(entries)-1].Decision).To(Equal(contract.DecisionRefused), "nothing after the refusal")
}

// seedForeignCertificate returns a HOME whose store holds a certificate of another CA for
// srv's licence.
func seedForeignCertificate(t testing.TB, srv *fakeoperator.Server) string {
	t.Helper()
	home := t.TempDir()
	key, _ := credentials.GenerateKey()
	foreign, _ := credentials.NewAuthority(credentials.License{Name: "x", Organization: "x", SubscriptionID: "x"}, nil)
	der, err := foreign.IssueFor(key, "laptop", time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	store := &client.Store{Path: filepath.Join(home, ".mirrord", "credentials")}
	if err := store.Put(context.Background(), srv.License().Fingerprint, key, der); err != nil {
		t.Fatal(err)
	}
	return home
}

// BenchmarkRefusalToExit measures, per run of the opclient binary, the time from the
// operator's refusal (when the fake operator answered it) to the client process's exit.
func BenchmarkRefusalToExit(b *testing.B) {
	srv, err := fakeoperator.NewServer(fakeoperator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	bin := buildClient(b, "version=3.250.0")
	kc := kubeconfigFor(b, srv)
	home := seedForeignCertificate(b, srv)
	var total time.Duration
	b.ResetTimer()
	for b.Loop() {
		srv.Journal().Reset()
		cmd := exec.Command(bin, "exec", "--target", "deployment.nginx")
		cmd.Env = append(os.Environ(), "HOME="+home, "KUBECONFIG="+kc)
		_ = cmd.Run()
		exited := time.Now()
		entries := srv.Journal().Entries()
		refusal := entries[len(entries)-1]
		if refusal.Decision != contract.DecisionRefused {
			b.Fatalf("last request not refused: %+v", refusal)
		}
		total += exited.Sub(refusal.Time.Add(refusal.Duration))
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-refusal-to-exit")
}

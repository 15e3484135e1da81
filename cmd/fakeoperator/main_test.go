package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/fixtures/certs"
	"github.com/opconform/opconform/matrix"
	// registers the reference client's defects, which matrix.yaml names
	_ "github.com/opconform/opconform/client"
	"github.com/opconform/opconform/tier"
)

func TestFlagsAreValidated(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", "x"}, "--tls-cert and --tls-key go together"},
		{[]string{"--license-expire-at", "tomorrow"}, "--license-expire-at"},
		{[]string{"--requestheader-allowed-names", "a"}, "--requestheader-client-ca"},
		{[]string{"--requestheader-client-ca", "/nonexistent"}, "--requestheader-client-ca"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"--fixed-clock", "yesterday"}, "--fixed-clock"},
		{[]string{"--headers", "klingon"}, "--headers"},
		{[]string{"--license-key-file", "/nonexistent"}, "--license-key-file"},
		{[]string{"--license-key-file", "main.go"}, "--license-key-file main.go"},
		{[]string{"--journal-skip-users", "system:aggregator,,alice"}, "for flag -journal-skip-users: an empty user name"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		NewWithT(t).Expect(err).To(MatchError(ContainSubstring(tc.want)), "%v", tc.args)
	}
	cfg, err := parseFlags([]string{"--fixed-clock", "2030-01-01T00:00:00Z", "--license-key-file", "../../fixtures/certs/licence-ca.key.pem"}, io.Discard)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	NewWithT(t).Expect(cfg.opts.Clock.Now()).To(Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), "the fixtures' epoch")
	NewWithT(t).Expect(cfg.opts.LicenseKey).NotTo(BeNil())

	var help bytes.Buffer
	_, err = parseFlags([]string{"--help"}, &help)
	NewWithT(t).Expect(err).To(HaveOccurred())
	for _, flag := range []string{"listen", "operator-version", "profile", "tls-cert", "tls-key", "license-organization", "requestheader-client-ca", "requestheader-allowed-names"} {
		NewWithT(t).Expect(help.String()).To(ContainSubstring("-"+flag), "--help documents --%s", flag)
	}
}

func TestBinaryServesAndStopsOnSignal(t *testing.T) {
	g := NewWithT(t)
	bin := filepath.Join(t.TempDir(), "fakeoperator")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--operator-version", "3.100.0", "--write-ca", caPath)
		stdout, err := cmd.StdoutPipe()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(cmd.Start()).To(Succeed())
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(line).To(ContainSubstring("profile legacy"))
		url := strings.TrimSpace(line[strings.LastIndex(line, " "):])
		g.Expect(url).To(HavePrefix("https://127.0.0.1:"))

		caPEM, err := os.ReadFile(caPath)
		g.Expect(err).NotTo(HaveOccurred())
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := hc.Get(url + "/apis/operator.metalbear.co/v1/mirrordoperators/operator")
		g.Expect(err).NotTo(HaveOccurred())
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		g.Expect(string(body)).To(ContainSubstring(`"operator_version":"3.100.0"`))

		g.Expect(cmd.Process.Signal(sig)).To(Succeed())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			g.Expect(err).NotTo(HaveOccurred(), "exits 0 on %s", sig)
		case <-time.After(10 * time.Second):
			t.Fatalf("still running 10s after %s", sig)
		}
	}
}

// TestBinaryJudgesTheFixtures runs the binary as the fixtures need it (their licence key,
// subscription and epoch) and sends it the valid and the expired fixture.
func TestBinaryJudgesTheFixtures(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "fakeoperator")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), string(out))
	caPath := filepath.Join(dir, "ca.pem")
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--write-ca", caPath,
		"--license-key-file", "../../fixtures/certs/licence-ca.key.pem", "--license-subscription-id", "sub-fixture",
		"--fixed-clock", "2030-01-01T00:00:00Z")
	stdout, err := cmd.StdoutPipe()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cmd.Start()).To(Succeed())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	g.Expect(err).NotTo(HaveOccurred())
	url := strings.TrimSpace(line[strings.LastIndex(line, " "):])
	caPEM, err := os.ReadFile(caPath)
	g.Expect(err).NotTo(HaveOccurred())
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for fixture, want := range map[string]int{"valid": http.StatusOK, "expired": http.StatusUnauthorized} {
		value, err := os.ReadFile("../../fixtures/certs/" + fixture + ".txt")
		g.Expect(err).NotTo(HaveOccurred())
		req, _ := http.NewRequest(http.MethodGet, url+"/apis/operator.metalbear.co/v1/mirrordoperators/operator", nil)
		req.Header.Set("x-client-der", strings.TrimSpace(string(value)))
		resp, err := hc.Do(req)
		g.Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		g.Expect(resp.StatusCode).To(Equal(want), "fixture %s", fixture)
	}
}

// TestOperatorArgsAreFlagsOfThisBinary checks that the flags the kind tier deploys the
// operator with, for every fake operator of the matrix, parse.
func TestOperatorArgsAreFlagsOfThisBinary(t *testing.T) {
	m := matrix.MustLoad("../../matrix.yaml")
	for _, cell := range m.Expand(matrix.Filter{Tiers: []string{matrix.TierKind}}) {
		cfg, err := parseFlags(tier.OperatorArgs(cell), io.Discard)
		NewWithT(t).Expect(err).NotTo(HaveOccurred(), "cell %s", cell.ID)
		NewWithT(t).Expect(cfg.opts.OperatorVersion).To(Equal(cell.Operator.Version))
		NewWithT(t).Expect(cfg.opts.Profile).To(Equal(cell.Operator.Profile))
		NewWithT(t).Expect(cfg.opts.License.ExpireAt).To(BeTemporally(">", certs.Epoch), "the licence holds on the fixtures' clock")
		NewWithT(t).Expect(cfg.opts.License.ExpireAt).To(BeTemporally(">", time.Now()), "and on the machine's")
		NewWithT(t).Expect(cfg.opts.JournalSkipUsers).To(ConsistOf("system:kube-aggregator", "system:aggregator"), "the cluster's own requests take no room in the journal")
		if cell.Contract.Name == "design-note" {
			NewWithT(t).Expect(cfg.opts.Headers.Version).To(Equal("x-mirrord-version"))
		}
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/opconform/opconform/client"
	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/fakeoperator"
)

// standIn runs the stand-in at version against a fake operator, as the harness runs an
// external client: its own HOME, KUBECONFIG pointing at the operator.
type standIn struct {
	t   *testing.T
	srv *fakeoperator.Server
}

func newStandIn(t *testing.T, opts fakeoperator.Options) *standIn {
	t.Helper()
	srv, err := fakeoperator.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["fake"] = &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: srv.CAPEM()}
	cfg.AuthInfos["fake"] = &clientcmdapi.AuthInfo{Token: "placeholder"}
	cfg.Contexts["fake"] = &clientcmdapi.Context{Cluster: "fake", AuthInfo: "fake", Namespace: "default"}
	cfg.CurrentContext = "fake"
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)
	t.Setenv("HOME", filepath.Join(dir, "home"))
	return &standIn{t: t, srv: srv}
}

// run runs the stand-in of version with args and returns its exit code, stdout and stderr.
func (s *standIn) run(version string, defect client.Defect, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(client.BuildInfo{Version: semver.MustParse(version), Defect: defect}, args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func (s *standIn) classes() []contract.Class {
	var out []contract.Class
	for _, e := range s.srv.Journal().Entries() {
		out = append(out, e.Class)
	}
	return out
}

// lastLine is the last non-empty line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// refusalOf is the contract's refusal of the journal's first refused request.
func refusalOf(t *testing.T, srv *fakeoperator.Server) contract.Refusal {
	t.Helper()
	for _, e := range srv.Journal().Entries() {
		if r := e.ReceivedRefusal(contract.MirrordHeaders().Contract()); r != nil {
			return *r
		}
	}
	t.Fatal("nothing was refused")
	return contract.Refusal{}
}

// TestRefusedForItsVersion: a 403 on the operator GET is printed as the CLI prints it —
// the operator's message inside `mirrord operator rejected finding operator: …`, then help
// text — after the one discovery request, and the stand-in exits 1.
func TestRefusedForItsVersion(t *testing.T) {
	g := NewWithT(t)
	s := newStandIn(t, fakeoperator.Options{MinClientVersion: "3.200.0"})
	code, _, stderr := s.run("3.164.0", client.DefectNone, "operator", "status")
	g.Expect(code).To(Equal(1))
	g.Expect(stderr).To(HavePrefix("Error:   × mirrord operator rejected finding operator: header x-mirrord-cli-version: "))
	g.Expect(lastLine(stderr)).To(Equal(">> Or email us at hi@metalbear.com"), "the last line is never the message")
	g.Expect(s.classes()).To(Equal([]contract.Class{contract.ClassOperatorGet, contract.ClassOperatorDiscovery}))
	g.Expect(refusalOf(t, s.srv).NamedBy(stderr)).To(BeTrue(), "the contract finds the refusal in it")
	g.Expect(contract.NamesVersion(stderr, "3.200.0")).To(BeTrue())
	want, err := os.ReadFile("../../contract/testdata/real-cli-3.250.0-forbidden.txt")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.SplitN(stderr, "\n", 2)[1]).To(Equal(strings.SplitN(string(want), "\n", 2)[1]), "the same help text as the contract's sample of the real CLI")
}

// TestExec: `exec --target deployment/nginx -- CMD` connects twice under one session with a
// certificate from the store, then runs CMD and exits with its code; a certificate the
// operator refuses on the connect is reported as kube's ApiError, with exit 1.
func TestExec(t *testing.T) {
	g := NewWithT(t)
	s := newStandIn(t, fakeoperator.Options{})
	code, _, stderr := s.run("3.250.0", client.DefectNone, "exec", "--target", "deployment/nginx", "--", "true")
	g.Expect(code).To(Equal(0), stderr)
	connects := 0
	for _, e := range s.srv.Journal().Entries() {
		if e.Class.IsConnect() {
			connects++
			g.Expect(e.Path).To(HaveSuffix("/targets/deployment.nginx"), "the CLI's target form becomes the URL's")
			g.Expect(e.Certificate).NotTo(BeNil())
		}
	}
	g.Expect(connects).To(Equal(2))
	code, _, _ = s.run("3.250.0", client.DefectNone, "exec", "--target", "deployment/nginx", "--", "false")
	g.Expect(code).To(Equal(1), "the command's own exit code")

	g.Expect(s.srv.SetIssuing(fakeoperator.IssueExpired)).To(Succeed())
	g.Expect(os.RemoveAll(filepath.Join(os.Getenv("HOME"), ".mirrord"))).To(Succeed())
	code, _, stderr = s.run("3.250.0", client.DefectNone, "exec", "--target", "deployment/nginx", "--", "true")
	g.Expect(code).To(Equal(1))
	g.Expect(stderr).To(HavePrefix("Error:   × mirrord operator API failed: creating a websocket connection failed with ApiError: header x-client-der: "))
	g.Expect(stderr).To(ContainSubstring(": CertificateExpired (Status { status: Some(Failure), code: 401, "))
	g.Expect(refusalOf(t, s.srv).NamedBy(stderr)).To(BeTrue())

	code, _, stderr = s.run("3.250.0", client.DefectUnclearRefusal, "exec", "--target", "deployment/nginx", "--", "true")
	g.Expect(code).To(Equal(1))
	g.Expect(refusalOf(t, s.srv).NamedBy(stderr)).To(BeFalse(), "the broken stand-in leaves the operator's message out: %s", stderr)
}

// TestLs prints the targets as the CLI's JSON array, from one operator GET and one
// credential request.
func TestLs(t *testing.T) {
	g := NewWithT(t)
	s := newStandIn(t, fakeoperator.Options{})
	code, stdout, stderr := s.run("3.250.0", client.DefectNone, "ls")
	g.Expect(code).To(Equal(0), stderr)
	g.Expect(stdout).To(Equal(`["deployment/nginx","pod/nginx-7d9c6b5f4-x2x7q"]` + "\n"))
	g.Expect(s.classes()[:2]).To(Equal([]contract.Class{contract.ClassOperatorGet, contract.ClassCredentialRequest}))
}

func TestUsage(t *testing.T) {
	g := NewWithT(t)
	s := newStandIn(t, fakeoperator.Options{})
	for _, args := range [][]string{{"exec", "--", "true"}, {"exec", "--target", "deployment/nginx"}, {"frobnicate"}} {
		code, _, _ := s.run("3.250.0", client.DefectNone, args...)
		g.Expect(code).To(Equal(2), "%v is a usage error", args)
	}
	code, stdout, _ := s.run("3.250.0", client.DefectNone, "--version")
	g.Expect([]any{code, stdout}).To(Equal([]any{0, "mirrord 3.250.0\n"}))
	g.Expect(targetName("pod/x/container/c")).To(Equal("pod.x.container.c"))
}

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/check"
	"github.com/opconform/opconform/report"
)

// binaries are the commands the check tests run, built once: opconform itself, the fake
// operator, and reference clients (bin/opclient-<version>[-<defect>], as make client builds
// them).
var binaries = struct {
	once                 sync.Once
	err                  error
	dir                  string
	opconform, operator  string
	opclient, dropsCerts string
	// standIn and oldStandIn are hack/mirrordlike at 3.250.0 and 3.164.0.
	standIn, oldStandIn string
}{}

// TestMain removes the binaries the check tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binaries.dir != "" {
		_ = os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

func buildBinaries(t *testing.T) {
	t.Helper()
	binaries.once.Do(func() {
		binaries.dir, binaries.err = os.MkdirTemp("", "opconform-check-test-")
		if binaries.err != nil {
			return
		}
		binaries.opconform = filepath.Join(binaries.dir, "opconform")
		binaries.operator = filepath.Join(binaries.dir, "fakeoperator")
		for _, build := range [][]string{
			{"go", "build", "-o", binaries.opconform, "./cmd/opconform"},
			{"go", "build", "-o", binaries.operator, "./cmd/fakeoperator"},
			{"scripts/build-client.sh", "3.250.0"},
			{"scripts/build-client.sh", "3.250.0", "drop-certificate-on-connect"},
			{"scripts/build-client.sh", "--stand-in", "3.250.0"},
			{"scripts/build-client.sh", "--stand-in", "3.164.0"},
		} {
			cmd := exec.Command(build[0], build[1:]...)
			cmd.Dir = "../.."
			if out, err := cmd.CombinedOutput(); err != nil {
				binaries.err = errors.New(strings.Join(build, " ") + ": " + err.Error() + ": " + string(out))
				return
			}
		}
		root, _ := filepath.Abs("../..")
		binaries.opclient = filepath.Join(root, "bin", "opclient-3.250.0")
		binaries.dropsCerts = filepath.Join(root, "bin", "opclient-3.250.0-drop-certificate-on-connect")
		binaries.standIn = filepath.Join(root, "bin", "mirrordlike-3.250.0")
		binaries.oldStandIn = filepath.Join(root, "bin", "mirrordlike-3.164.0")
	})
	if binaries.err != nil {
		t.Fatal(binaries.err)
	}
}

// startFakeOperator runs the fake operator binary on a loopback port and returns the
// kubeconfig it writes (its URL, its CA, a placeholder user).
func startFakeOperator(t *testing.T, args ...string) string {
	t.Helper()
	g := NewWithT(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cmd := exec.Command(binaries.operator, append([]string{"--listen", "127.0.0.1:0", "--write-kubeconfig", kubeconfig}, args...)...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	g.Expect(cmd.Start()).To(Succeed())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	g.Eventually(func() error { _, err := os.Stat(kubeconfig); return err }).
		WithTimeout(30*time.Second).WithPolling(50*time.Millisecond).Should(Succeed(), "the fake operator writes its kubeconfig: %s", &log)
	return kubeconfig
}

// runCheck runs the opconform binary's check with a fresh HOME and returns its output and
// exit code.
func runCheck(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binaries.opconform, append([]string{"check"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running opconform check: %v", err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

func TestCheckPassesTheReferenceClientsExec(t *testing.T) {
	buildBinaries(t)
	g := NewWithT(t)
	kubeconfig := startFakeOperator(t)
	artifacts := t.TempDir()
	out, code := runCheck(t, "--kubeconfig", kubeconfig, "--artifacts", artifacts, "--", binaries.opclient, "exec", "--target", "deployment.nginx")
	g.Expect(code).To(Equal(0), out)
	g.Expect(out).To(ContainSubstring("connected to default/deployment.nginx twice"), "the command's own output")
	g.Expect(out).To(ContainSubstring("as client 3.250.0 (from its x-mirrord-cli-version header) against operator 3.250.0; judged as exec"))
	g.Expect(out).To(MatchRegexp(`✅ SESSION-STABLE +pass`))
	g.Expect(out).To(ContainSubstring("✅ the contract holds for opclient-3.250.0 3.250.0 (it exited with 0)"))

	r, err := report.ReadJSON(filepath.Join(artifacts, "report.json"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.Cells).To(HaveLen(1))
	g.Expect(r.Failing()).To(BeFalse())
	journal, err := os.ReadFile(r.Cells[0].Journal)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(journal)).To(ContainSubstring(`"fingerprint": "sha256:`), "certificates by fingerprint")
	g.Expect(string(journal)).NotTo(ContainSubstring("MII"), "no certificate in the journal")
	g.Expect(filepath.Join(artifacts, "report.md")).To(BeAnExistingFile())
}

func TestCheckFailsKubectlOnTheVersionHeader(t *testing.T) {
	buildBinaries(t)
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH")
	}
	g := NewWithT(t)
	kubeconfig := startFakeOperator(t)
	out, code := runCheck(t, "--kubeconfig", kubeconfig, "--client-version", "3.250.0", "--", "kubectl", "get", "targets.operator.metalbear.co", "-A")
	g.Expect(code).To(Equal(check.ExitBroken), out)
	g.Expect(out).To(ContainSubstring("deployment.nginx"), "kubectl listed the targets of every namespace")
	g.Expect(out).To(ContainSubstring("as client 3.250.0 (from --client-version)"))
	g.Expect(out).To(MatchRegexp(`❌ HDR-VERSION +fail \(missing\): GET /apis/operator\.metalbear\.co/v1[/a-z0-9]* \([a-z-]+\) carries no x-mirrord-cli-version`), "names the request")
	g.Expect(out).To(ContainSubstring("❌ the contract does not hold for kubectl 3.250.0 (it exited with 0; opconform check exits with 9)"))

	out, code = runCheck(t, "--kubeconfig", kubeconfig, "--", "kubectl", "get", "targets.operator.metalbear.co", "-A")
	g.Expect(code).To(Equal(2), out)
	g.Expect(out).To(ContainSubstring("cannot judge kubectl: it sent no x-mirrord-cli-version; give its version with --client-version"))
}

func TestCheckFailsADefectClientOnItsRequirement(t *testing.T) {
	buildBinaries(t)
	g := NewWithT(t)
	kubeconfig := startFakeOperator(t)
	out, code := runCheck(t, "--kubeconfig", kubeconfig, "--", binaries.dropsCerts, "exec", "--target", "deployment.nginx")
	g.Expect(code).To(Equal(check.ExitBroken), out)
	g.Expect(out).To(MatchRegexp(`❌ HDR-CERTIFICATE +fail \(missing\): GET /apis/operator\.metalbear\.co/v1/proxy/namespaces/default/targets/deployment\.nginx \(target-connect\) carries no x-client-der`))
	g.Expect(out).To(ContainSubstring("refused: request 4, GET /apis/operator.metalbear.co/v1/proxy/namespaces/default/targets/deployment.nginx (target-connect), answered 401 CertificateMissing: header x-client-der is required"),
		"the refusal as the operator answered it, with the header and the reason")
	g.Expect(out).To(MatchRegexp(`✅ STOP-AFTER-REFUSAL +pass`), "the client stopped at the refusal and named it")
	g.Expect(out).To(ContainSubstring("it exited with 3; opconform check exits with 9"))
}

func TestCheckRefusesBadInput(t *testing.T) {
	buildBinaries(t)
	g := NewWithT(t)
	kubeconfig := startFakeOperator(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--kubeconfig", kubeconfig}, "no command to check: give it after --"},
		{[]string{"--kubeconfig", kubeconfig, "--client-version", "v3", "--", "true"}, `--client-version "v3" is not SemVer`},
		{[]string{"--kubeconfig", kubeconfig, "--scenario", "run", "--", "true"}, `--scenario "run": want status, ls or exec`},
		{[]string{"--kubeconfig", kubeconfig, "--contract", "other", "--", "true"}, `--contract "other": want mirrord or design-note`},
		{[]string{"--kubeconfig", filepath.Join(t.TempDir(), "none"), "--", "true"}, "loading the cluster's kubeconfig"},
		{[]string{"--kubeconfig", kubeconfig, "--", "no-such-client-here"}, "starting no-such-client-here"},
	} {
		out, code := runCheck(t, tc.args...)
		g.Expect(code).To(Equal(2), "%v: %s", tc.args, out)
		g.Expect(out).To(ContainSubstring(tc.want), "%v", tc.args)
	}
}

// TestCheckJudgesTheStandInAsTheMatrixDoes: the stand-in for the released CLI passes; refused
// for its version, it stops after the one discovery request, and its error (the operator's
// message inside the CLI's line, help text after it) names the refusal.
func TestCheckJudgesTheStandInAsTheMatrixDoes(t *testing.T) {
	buildBinaries(t)
	g := NewWithT(t)
	kubeconfig := startFakeOperator(t)
	out, code := runCheck(t, "--kubeconfig", kubeconfig, "--", binaries.standIn, "exec", "--target", "deployment/nginx", "--", "true")
	g.Expect(code).To(Equal(0), out)
	g.Expect(out).To(ContainSubstring("✅ the contract holds for mirrordlike-3.250.0 3.250.0 (it exited with 0)"))

	kubeconfig = startFakeOperator(t, "--min-client-version", "3.200.0")
	out, code = runCheck(t, "--kubeconfig", kubeconfig, "--operator-version", "3.250.0", "--", binaries.oldStandIn, "operator", "status")
	g.Expect(code).To(Equal(1), "the contract holds: the check exits with the client's own code: %s", out)
	g.Expect(out).To(ContainSubstring("Error:   × mirrord operator rejected finding operator: header x-mirrord-cli-version"))
	g.Expect(out).To(MatchRegexp(`✅ STOP-AFTER-REFUSAL +pass`), "the discovery request after the refusal is part of failing")
}

// TestCheckJudgesNothingIsNoPass: a command that sent nothing the contract can judge (no
// request, a usage error before any, a cluster that does not answer) gets one line saying
// why, and exit 2 — never "the contract holds".
func TestCheckJudgesNothingIsNoPass(t *testing.T) {
	buildBinaries(t)
	g := NewWithT(t)
	kubeconfig := startFakeOperator(t)
	dead := filepath.Join(t.TempDir(), "dead.kubeconfig")
	g.Expect(os.WriteFile(dead, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"), 0o600)).To(Succeed())
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no request at all", []string{"--kubeconfig", kubeconfig, "--client-version", "3.250.0", "--", "true"}, "opconform: cannot judge true: it sent no request (it exited with 0: no error output)"},
		{"a usage error before any request", []string{"--kubeconfig", kubeconfig, "--", binaries.opclient, "frobnicate"}, "opconform: cannot judge opclient-3.250.0: it sent no request (it exited with 2: "},
		{"a cluster that does not answer", []string{"--kubeconfig", dead, "--operator-version", "3.250.0", "--", binaries.opclient, "status"}, "the cluster answered none of its 2 requests to the operator: is it up?"},
		{"a cluster that does not answer, no operator version", []string{"--kubeconfig", dead, "--", binaries.opclient, "status"}, "the cluster answered none of its 2 requests to the operator: is it up?"},
	} {
		out, code := runCheck(t, tc.args...)
		g.Expect(code).To(Equal(2), "%s: %s", tc.name, out)
		g.Expect(out).To(ContainSubstring(tc.want), tc.name)
		g.Expect(out).NotTo(ContainSubstring("contract holds"), tc.name)
	}
}

// TestCheckPrintsWhatItJudged: the requirements it judged, one line each, then one line
// counting the rest; -v lists them, and the golden journal's line sends no one to record one.
func TestCheckPrintsWhatItJudged(t *testing.T) {
	buildBinaries(t)
	g := NewWithT(t)
	kubeconfig := startFakeOperator(t)
	out, code := runCheck(t, "--kubeconfig", kubeconfig, "--", binaries.opclient, "status")
	g.Expect(code).To(Equal(0), out)
	g.Expect(out).To(MatchRegexp(`✅ HDR-VERSION +pass`))
	g.Expect(out).NotTo(ContainSubstring("SESSION-ID"), "not judged: counted, not listed")
	g.Expect(out).To(MatchRegexp(`·  and \d+ requirements not judged here: \d+ not observed, \d+ not applicable, 1 not judged \(-v lists them\)`))
	out, _ = runCheck(t, "--kubeconfig", kubeconfig, "-v", "--", binaries.opclient, "status")
	g.Expect(out).To(MatchRegexp(`·  SESSION-ID +not observed`))
	g.Expect(out).To(ContainSubstring("GOLDEN-JOURNAL         not judged (no-golden-journal): a check compares no golden journal"))
	g.Expect(out).NotTo(ContainSubstring("make add-client"))
}

// TestCheckKnowsNoCluster: with no kubeconfig anywhere the check says so, not client-go's
// hint about KUBERNETES_MASTER.
func TestCheckKnowsNoCluster(t *testing.T) {
	buildBinaries(t)
	g := NewWithT(t)
	cmd := exec.Command(binaries.opconform, "check", "--", "true")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	out, _ := cmd.CombinedOutput()
	g.Expect(cmd.ProcessState.ExitCode()).To(Equal(2), "%s", out)
	g.Expect(string(out)).To(ContainSubstring("no cluster to check against: no --kubeconfig, no $KUBECONFIG, no ~/.kube/config, and not in a cluster"))
	g.Expect(string(out)).NotTo(ContainSubstring("KUBERNETES_MASTER"))
}

// TestEverySubcommandHelpExitsZero: -h and --help are asked for, not an error.
func TestEverySubcommandHelpExitsZero(t *testing.T) {
	buildBinaries(t)
	g := NewWithT(t)
	for _, args := range [][]string{{"--help"}, {"check", "--help"}, {"check", "-h"}, {"requirements", "--help"}, {"matrix", "--help"},
		{"matrix", "check", "--help"}, {"report", "merge", "--help"}, {"add-client", "--help"}, {"add-operator", "--help"}, {"golden", "--help"}, {"prepare", "--help"}, {"fixtures", "--help"}} {
		cmd := exec.Command(binaries.opconform, args...)
		cmd.Dir = "../.."
		out, _ := cmd.CombinedOutput()
		g.Expect(cmd.ProcessState.ExitCode()).To(Equal(0), "%v: %s", args, out)
		g.Expect(string(out)).To(ContainSubstring("sage"), "%v prints its usage", args)
	}
}

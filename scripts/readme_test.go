package scripts

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/report"
)

// readmeDocs are README.md and the docs beside it, whose commands the README test runs.
func readmeDocs(t *testing.T) []string {
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md beside README.md: %v", err)
	}
	return append([]string{"../README.md"}, docs...)
}

// readmeCommands are the commands README.md and docs/ show in their plain code blocks (and
// the README's two first-day commands), without trailing comments.
func readmeCommands(t *testing.T) []string {
	cmds := []string{"make conformance", "make test"}
	comment := regexp.MustCompile(`\s{2,}#.*$`)
	for _, path := range readmeDocs(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inBlock, plain := false, false
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "```") {
				inBlock, plain = !inBlock, line == "```"
				continue
			}
			if inBlock && plain && strings.TrimSpace(line) != "" {
				if cmd := strings.TrimSpace(comment.ReplaceAllString(line, "")); !slices.Contains(cmds, cmd) {
					cmds = append(cmds, cmd)
				}
			}
		}
	}
	return cmds
}

// readmeCheck runs one README command, or says which test runs it.
type readmeCheck struct {
	// coveredBy names where a command that needs a cluster or a long build is run.
	coveredBy string
	run       func(t *testing.T, cmd string)
}

// TestEveryReadmeCommandRuns runs every command README.md shows, exactly as written (those
// that change matrix.yaml in a copy of the repository), and fails for a command it does not
// know, so that the README cannot drift from the tool.
func TestEveryReadmeCommandRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make conformance several times")
	}
	checks := map[string]readmeCheck{
		"make conformance": {coveredBy: "make test (the Makefile's test target runs it) and .ci/run"},
		"make test":        {coveredBy: ".ci/run"},
		"make conformance CLIENTS=mirrord-3.250.0,mirrord-3.109.0 OPERATORS=current-3.250.0": {run: conformanceHolds(func(g Gomega, r *report.Report) {
			g.Expect(r.Cells).To(HaveLen(2))
		})},
		"make conformance GINKGO_LABEL_FILTER='req:EARLY-REFUSAL && !negative-control'": {run: conformanceHolds(func(g Gomega, r *report.Report) {
			g.Expect(r.Cells).NotTo(BeEmpty())
			for _, c := range r.Cells {
				g.Expect(c.Requirements).To(HaveLen(1), "only what ran: %s", c.ID)
				g.Expect(c.Requirements[0].ID).To(BeEquivalentTo("EARLY-REFUSAL"))
				g.Expect(c.Defect).To(BeEmpty(), "no negative control")
			}
		})},
		"make conformance GINKGO_FOCUS='fake/current-3\\.250\\.0/mirrord-3\\.250\\.0 '": {run: conformanceHolds(func(g Gomega, r *report.Report) {
			g.Expect(r.Cells).To(HaveLen(1))
			g.Expect(r.Cells[0].ID).To(Equal("fake/current-3.250.0/mirrord-3.250.0"))
		})},
		"make conformance GINKGO_NODES=1 MATRIX=matrix/testdata/valid-minimal.yaml ARTIFACTS=/tmp/opconform-out": {run: func(t *testing.T, cmd string) {
			t.Cleanup(func() { _ = os.RemoveAll("/tmp/opconform-out") })
			conformanceHoldsIn(t, cmd, "/tmp/opconform-out", func(g Gomega, r *report.Report) { g.Expect(r.Cells).To(HaveLen(1)) })
		}},
		"make add-client VERSION=3.251.0":                    {run: inACopy("added client mirrord-3.251.0", "recorded ")},
		"make add-client VERSION=3.251.0 RELEASED=1":         {run: inACopy("added client mirrord-3.251.0", "added client mirrord-cli-3.251.0")},
		"make add-operator VERSION=3.251.0":                  {run: inACopy("added operator current-3.251.0 (profile current)")},
		"make conformance TIER=apiserver":                    {coveredBy: ".ci/run, and the apiserver tier's specs in suites/apiserver_test.go"},
		"make conformance TIER=kind":                         {coveredBy: ".ci/run, and the kind tier's specs in suites/"},
		"make docker-up":                                     {coveredBy: ".ci/run, before the kind tier"},
		"make ci-local":                                      {coveredBy: ".ci/run"},
		"make ci-local CI_LOCAL_SHARDS=fake-current-3.250.0": {coveredBy: "TestCILocalFailsWhereGitHubWould (CI_LOCAL_SHARDS on a copy of the repository)"},
		"go build -o bin/opconform ./cmd/opconform": {run: func(t *testing.T, cmd string) {
			out, err := shell(t, "..", cmd+" && bin/opconform check --help")
			NewWithT(t).Expect(out).To(ContainSubstring("Usage: opconform check"), "%v: %s", err, out)
		}},
		"bin/opconform check -- mirrord ls": {coveredBy: "needs the mirrord CLI and a cluster with its operator: cmd/opconform/check_test.go runs the check against the fake operator binary"},
		"bin/opconform check --context staging --artifacts /tmp/check -- mirrord exec --target deployment/api -- curl -s localhost:8080": {coveredBy: "as above; --artifacts in TestCheckPassesTheReferenceClientsExec"},
		"go run ./cmd/fakeoperator --listen 127.0.0.1:18443 --operator-version 3.250.0 --write-kubeconfig /tmp/fake.kubeconfig": {run: func(t *testing.T, cmd string) {
			runFakeOperatorWithKubectl(t, cmd, "kubectl --kubeconfig /tmp/fake.kubeconfig get mirrordoperators.operator.metalbear.co operator")
		}},
		"kubectl --kubeconfig /tmp/fake.kubeconfig get mirrordoperators.operator.metalbear.co operator": {coveredBy: "the go run ./cmd/fakeoperator entry above"},
	}
	// docs/release.md's worked example: its commands in order, in a copy of the repository
	for i, step := range releaseSteps {
		if i == 0 {
			checks[step.cmd] = readmeCheck{run: runReleaseSteps}
			continue
		}
		checks[step.cmd] = readmeCheck{coveredBy: "docs/release.md's worked example, run in order from its first command (releaseSteps)"}
	}
	cmds := readmeCommands(t)
	for _, cmd := range cmds {
		check, ok := checks[cmd]
		if !ok {
			t.Errorf("README.md or docs/ show %q, which no test runs: add it to this test", cmd)
			continue
		}
		if check.run == nil {
			continue
		}
		t.Run(cmd, func(t *testing.T) { check.run(t, cmd) })
	}
	for cmd := range checks {
		if !slices.Contains(cmds, cmd) {
			t.Errorf("this test runs %q, which README.md and docs/ no longer show: remove it", cmd)
		}
	}
}

// releaseSteps are docs/release.md's commands, in order, with what each must print and
// whether it must fail (can-i-deploy's no is exit 1).
var releaseSteps = []struct {
	cmd   string
	fails bool
	wants []string
}{
	{cmd: "make conformance OPERATORS=current-3.250.0", wants: []string{"✅ conformance holds"}},
	{cmd: "go run ./cmd/opconform results record _artifacts/report.json", wants: []string{"recorded in", "negative controls: 15 of 15 caught"}},
	{cmd: "go run ./cmd/opconform results record-release --client 3.250.0", wants: []string{"client 3.250.0 recorded as released"}},
	{cmd: "go run ./cmd/opconform results record-deployment --operator 3.250.0 --environment prod",
		wants: []string{"operator 3.250.0 recorded as deployed to prod"}},
	{cmd: "go run ./cmd/opconform can-i-deploy --client 3.250.0 --to-environment prod",
		wants: []string{"can-i-deploy client 3.250.0 against environment prod: yes", "✅ operator 3.250.0: works — 3 cells (fake)"}},
	{cmd: "go run ./cmd/opconform can-i-deploy --client 3.251.0 --to-environment prod", fails: true, wants: []string{
		"can-i-deploy client 3.251.0 against environment prod: no",
		"to verify it: make add-client VERSION=3.251.0, then make conformance OPERATORS=current-3.250.0; then opconform results record _artifacts/report.json"}},
	{cmd: "go run ./cmd/opconform can-i-deploy --operator 3.250.0 --output markdown",
		wants: []string{"### Can I deploy operator 3.250.0? Yes", "| 3.250.0 | 3.250.0 | ✅ works | 3 cells (fake) |"}},
	{cmd: "go run ./cmd/opconform results undo-deployment --environment prod", wants: []string{"it runs operator none"}},
	{cmd: "go run ./cmd/opconform results undo-release --client 3.250.0", wants: []string{"client 3.250.0 is no longer recorded as released"}},
}

// runReleaseSteps runs docs/release.md's worked example in a copy of the repository, with a
// results store of its own.
func runReleaseSteps(t *testing.T, _ string) {
	dir := copyRepository(t)
	db := "OPCONFORM_RESULTS_DB=" + filepath.Join(t.TempDir(), "results.db")
	for _, step := range releaseSteps {
		g := NewWithT(t)
		out, err := shell(t, dir, step.cmd, db)
		if step.fails {
			g.Expect(err).To(HaveOccurred(), "%s must fail:\n%s", step.cmd, out)
		} else {
			g.Expect(err).NotTo(HaveOccurred(), "%s:\n%s", step.cmd, out)
		}
		for _, want := range step.wants {
			g.Expect(out).To(ContainSubstring(want), "%s", step.cmd)
		}
	}
}

// TestDocsListTheRequirementsAndTheirNegativeControls: docs/requirements.md's requirement
// table is what the tool prints from the contract and matrix.yaml today.
func TestDocsListTheRequirementsAndTheirNegativeControls(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile("../docs/requirements.md")
	g.Expect(err).NotTo(HaveOccurred())
	_, rest, ok := strings.Cut(string(data), "<!-- requirements:begin -->\n")
	g.Expect(ok).To(BeTrue(), "docs/requirements.md marks its requirement table")
	shown, _, ok := strings.Cut(rest, "<!-- requirements:end -->")
	g.Expect(ok).To(BeTrue(), "docs/requirements.md marks its requirement table's end")
	out, err := shell(t, "..", "go run ./cmd/opconform requirements --markdown")
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(strings.TrimSpace(shown)).To(Equal(strings.TrimSpace(out)), "docs/requirements.md's table is current: paste go run ./cmd/opconform requirements --markdown")
}

// TestDocsLinksHold: every relative link of README.md and docs/ names a file that is there,
// and an anchor a heading of it.
func TestDocsLinksHold(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)#:]*)(#[^)]*)?\)`)
	for _, path := range readmeDocs(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(data), -1) {
			target := path
			if m[1] != "" {
				target = filepath.Join(filepath.Dir(path), m[1])
			}
			body, err := os.ReadFile(target)
			if err != nil {
				t.Errorf("%s links %s, which is not there", path, m[0])
				continue
			}
			if m[2] != "" && !slices.Contains(anchors(string(body)), m[2][1:]) {
				t.Errorf("%s links %s: %s has no heading %s", path, m[0], target, m[2])
			}
		}
	}
}

// anchors are the GitHub anchors of a Markdown file's headings.
func anchors(md string) []string {
	var out []string
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range title {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// shell runs a command line in dir with bash, bounded, and returns its output.
func shell(t *testing.T, dir, cmd string, env ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-c", cmd)
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	out, err := c.CombinedOutput()
	return string(out), err
}

// conformanceHolds runs a make conformance command with its reports in a temporary folder.
func conformanceHolds(check func(Gomega, *report.Report)) func(*testing.T, string) {
	return func(t *testing.T, cmd string) { conformanceHoldsIn(t, cmd, "", check) }
}

func conformanceHoldsIn(t *testing.T, cmd, artifacts string, check func(Gomega, *report.Report)) {
	g := NewWithT(t)
	var env []string
	if artifacts == "" {
		artifacts = t.TempDir()
		env = append(env, "ARTIFACTS="+artifacts)
	}
	out, err := shell(t, "..", cmd, env...)
	g.Expect(err).NotTo(HaveOccurred(), out)
	g.Expect(out).To(ContainSubstring("✅ conformance holds"), out)
	g.Expect(out).To(ContainSubstring("reports: "+filepath.Join(artifacts, "report.md")), out)
	r, err := report.ReadJSON(filepath.Join(artifacts, "report.json"))
	g.Expect(err).NotTo(HaveOccurred())
	check(g, r)
}

// inACopy runs a command that changes the repository in a copy of its tracked files.
func inACopy(wants ...string) func(*testing.T, string) {
	return func(t *testing.T, cmd string) {
		g := NewWithT(t)
		dir := copyRepository(t)
		out, err := shell(t, dir, cmd)
		g.Expect(err).NotTo(HaveOccurred(), out)
		for _, want := range wants {
			g.Expect(out).To(ContainSubstring(want))
		}
		out, err = shell(t, dir, "go run ./cmd/opconform matrix check")
		g.Expect(err).NotTo(HaveOccurred(), "the changed matrix loads: %s", out)
	}
}

// copyRepository copies the repository's tracked files (as they are in the work tree).
func copyRepository(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "-C", "..", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	dir := t.TempDir()
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join("..", f))
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		info, _ := os.Stat(filepath.Join("..", f))
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runFakeOperatorWithKubectl starts the fake operator as README.md shows it and runs
// kubectl with the kubeconfig it writes.
func runFakeOperatorWithKubectl(t *testing.T, cmd, kubectl string) {
	g := NewWithT(t)
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH")
	}
	_ = os.Remove("/tmp/fake.kubeconfig")
	t.Cleanup(func() { _ = os.Remove("/tmp/fake.kubeconfig") })
	// the server runs until killed: its own process group, so that go run's child goes too
	server := exec.Command("bash", "-c", "exec "+cmd)
	server.Dir = ".."
	server.SysProcAttr = newProcessGroup()
	var log strings.Builder
	server.Stdout, server.Stderr = &log, &log
	g.Expect(server.Start()).To(Succeed())
	t.Cleanup(func() { killProcessGroup(server) })
	g.Eventually(func() error { _, err := os.Stat("/tmp/fake.kubeconfig"); return err }).
		WithTimeout(2*time.Minute).WithPolling(200*time.Millisecond).Should(Succeed(), "the fake operator writes its kubeconfig: %s", &log)
	out, err := shell(t, "..", kubectl+" -o json")
	g.Expect(err).NotTo(HaveOccurred(), out)
	var operator struct {
		Kind     string                   `json:"kind"`
		Metadata struct{ Name string }    `json:"metadata"`
		Spec     struct{ Version string } `json:"spec"`
	}
	g.Expect(json.Unmarshal([]byte(out), &operator)).To(Succeed(), out)
	g.Expect(operator.Kind).To(Equal("MirrordOperator"), out)
	g.Expect(operator.Metadata.Name).To(Equal("operator"))
}

// TestReadmeNamesWhatItsCommandsNeed: a README command that needs a Debian package it does
// not install says, where it stops, the one command that installs it, and the README names
// that command beside it: a fresh machine has none of what .ci/run installs.
func TestReadmeNamesWhatItsCommandsNeed(t *testing.T) {
	g := NewWithT(t)
	readme, err := os.ReadFile("../README.md")
	g.Expect(err).NotTo(HaveOccurred())
	// a PATH with bash and the coreutils the script uses, and no shellcheck
	bin := t.TempDir()
	for _, tool := range []string{"bash", "dirname", "env"} {
		path, err := exec.LookPath(tool)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(os.Symlink(path, filepath.Join(bin, tool))).To(Succeed())
	}
	cmd := exec.Command("bash", "verify-shellcheck.sh")
	cmd.Env = []string{"PATH=" + bin}
	out, err := cmd.CombinedOutput()
	g.Expect(err).To(HaveOccurred(), "make verify cannot lint without shellcheck: %s", out)
	g.Expect(string(out)).To(ContainSubstring("apt-get install shellcheck"), "it says how to install it")
	g.Expect(string(readme)).To(ContainSubstring("`make verify` and `make\nci-local` lint the scripts with Debian's `shellcheck` (`apt-get install shellcheck`)"), "the README names it beside make verify")
	g.Expect(string(readme)).To(ContainSubstring("needs Debian's `chromium`\n(`apt-get install chromium`)"), "and the browser test's need beside make test")
	script, err := os.ReadFile("build-node-image.sh")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(script)).To(ContainSubstring("apt-get install -y -qq debootstrap"), "the kind tier's node image installs what it needs, as make docker-up does")
}

package scripts

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/report"
)

// failingMatrix has three operators, so three fake-tier shards: one that holds, one whose
// operator accepts any certificate (a real defect, not declared as a negative control, so
// its cell fails), and one that the test does not run (its artifact is then missing).
const failingMatrix = `tiers: [fake]
clients:
  - {name: mirrord-3.250.0, version: 3.250.0}
operators:
  - {name: current-3.250.0, version: 3.250.0}
  - {name: broken-accepts-any-certificate, version: 3.250.0, profile: broken-accepts-any-certificate}
  - {name: legacy-3.100.0, version: 3.100.0}
`

// TestCILocalFailsWhereGitHubWould runs the workflow with make ci-local on a copy of the
// repository whose matrix holds a real failure, running two of its three shards: the
// failing shard's job fails, the good one's passes, and the report job fails naming the
// failing shard and the missing one.
func TestCILocalFailsWhereGitHubWould(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the workflow with act")
	}
	g := NewWithT(t)
	dir := copyRepository(t)
	g.Expect(os.WriteFile(filepath.Join(dir, "matrix.yaml"), []byte(failingMatrix), 0o644)).To(Succeed())
	artifacts := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "scripts/ci-local.sh")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ARTIFACTS="+artifacts, "CI_LOCAL_TIERS=fake",
		"CI_LOCAL_SHARDS=fake-current-3.250.0,fake-broken-accepts-any-certificate")
	// act's children keep the output open: end the whole group at the bound
	cmd.SysProcAttr = newProcessGroup()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	g.Expect(ctx.Err()).NotTo(HaveOccurred(), "make ci-local ran past its bound: %s", out)
	g.Expect(err).To(HaveOccurred(), "the workflow fails: %s", out)

	logData, readErr := os.ReadFile(filepath.Join(artifacts, "ci-local", "act.log"))
	g.Expect(readErr).NotTo(HaveOccurred())
	log := string(logData)
	broken, good := jobLines(log, "conformance (fake-broken-accepts-any-certificate)"), jobLines(log, "conformance (fake-current-3.250.0)")
	// each shard's own steps: act reports one result for all of a matrix's jobs (as GitHub's
	// needs.<job>.result), so a shard that ends after a failed one says "Job failed" too
	g.Expect(strings.Contains(broken, "❌  Failure - Main make conformance")).To(BeTrue(), "the failing shard's conformance step fails:\n%s", tail(broken, 60))
	g.Expect(strings.Contains(good, "✅  Success - Main make conformance")).To(BeTrue(), "the good shard's conformance step passes:\n%s", tail(good, 60))
	g.Expect(strings.Contains(good, "❌  Failure")).To(BeFalse(), "no step of the good shard fails:\n%s", tail(good, 60))
	g.Expect(jobLines(log, "conformance (fake-legacy-3.100.0)")).To(BeEmpty(), "the third shard did not run")
	reportJob := jobLines(log, "report")
	g.Expect(strings.Contains(reportJob, "🏁  Job failed")).To(BeTrue(), "the report job fails:\n%s", tail(reportJob, 60))
	g.Expect(reportJob).To(ContainSubstring("shard fake-broken-accepts-any-certificate: failing: fake/broken-accepts-any-certificate/mirrord-3.250.0"))
	g.Expect(reportJob).To(ContainSubstring("shard fake-legacy-3.100.0: missing: none of its 1 cells was reported"))
	g.Expect(reportJob).To(ContainSubstring("a shard failed or did not finish: failure"))
	// the merged report is recorded (its matrix has no negative control: it proves nothing
	// could fail, so it does not count), and the release gate answers no
	g.Expect(reportJob).To(ContainSubstring("✅  Success - Main record the results"))
	g.Expect(reportJob).To(ContainSubstring("not counted by can-i-deploy: it ran no negative control"))
	g.Expect(reportJob).To(ContainSubstring("### Can I deploy client 3.250.0? No"))
	g.Expect(reportJob).To(ContainSubstring("❌  Failure - Main can-i-deploy"))

	merged, readErr := report.ReadJSON(filepath.Join(artifacts, "ci-local", "artifacts", "conformance-merged", "report.json"))
	g.Expect(readErr).NotTo(HaveOccurred(), "the merged report is uploaded although the job fails")
	g.Expect(merged.Missing).To(ConsistOf("fake/legacy-3.100.0/mirrord-3.250.0: no shard reported it (its shard: fake-legacy-3.100.0)"))
	i := indexOfCell(merged.Cells, "fake/broken-accepts-any-certificate/mirrord-3.250.0")
	g.Expect(i).To(BeNumerically(">=", 0))
	g.Expect(merged.Cells[i].Failing()).To(BeTrue())
	summary, readErr := os.ReadFile(filepath.Join(artifacts, "ci-local", "summaries", "conformance-report.md"))
	g.Expect(readErr).NotTo(HaveOccurred())
	g.Expect(string(summary)).To(ContainSubstring("| fake-legacy-3.100.0 | 1 | ❌ missing"), "the job summary shows the shards")
	g.Expect(string(out)).To(ContainSubstring("❌ conformance broken"), "make ci-local prints the merged report")
}

// jobLines are the lines of act.log that a job printed: act prefixes them with
// [<workflow>/<job>], a matrix job's name numbered (-1, -2, …), padded to one width.
func jobLines(log, job string) string {
	prefix := regexp.MustCompile(`^\[conformance/` + regexp.QuoteMeta(job) + `(-\d+)? *\] `)
	var b strings.Builder
	for _, line := range strings.Split(log, "\n") {
		if prefix.MatchString(line) {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// tail is the last n lines of s, without act's noise about the copy not being a git checkout.
func tail(s string, n int) string {
	var lines []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, "git repository") && !strings.Contains(line, "unable to get git") && !strings.Contains(line, "LocalRepositoryCache") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func indexOfCell(cells []report.Cell, id string) int {
	for i, c := range cells {
		if c.ID == id {
			return i
		}
	}
	return -1
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/report"
)

func TestRequirementsAndGitHubMatrix(t *testing.T) {
	g := NewWithT(t)
	var out bytes.Buffer
	g.Expect(run([]string{"requirements"}, &out, &out)).To(Succeed())
	g.Expect(out.String()).To(ContainSubstring("EARLY-REFUSAL"))

	out.Reset()
	g.Expect(run([]string{"matrix", "--github", "--matrix", "../../matrix.yaml"}, &out, &out)).To(Succeed())
	var jobs struct {
		Include []shard `json:"include"`
	}
	g.Expect(json.Unmarshal(out.Bytes(), &jobs)).To(Succeed())
	g.Expect(jobs.Include).To(HaveLen(22), "one shard per operator on each of the fake, apiserver and kind tiers; the real operator on kind only")
	g.Expect(jobs.Include).To(ContainElement(shard{Name: "kind-v1.37.0-current-3.250.0", Tier: "kind", Kubernetes: "v1.37.0", Operator: "current-3.250.0"}))
	g.Expect(jobs.Include[0]).To(Equal(shard{Name: "fake-ancient-3.40.0", Tier: "fake", Operator: "ancient-3.40.0"}))
	g.Expect(jobs.Include).To(ContainElement(shard{Name: "apiserver-current-3.250.0", Tier: "apiserver", Operator: "current-3.250.0"}))
}

// writeShard writes a shard report holding the given cells' outcomes.
func writeShard(t *testing.T, dir, name string, cells []report.Cell) string {
	t.Helper()
	path := filepath.Join(dir, name, "report.json")
	NewWithT(t).Expect(os.MkdirAll(filepath.Dir(path), 0o755)).To(Succeed())
	r := &report.Report{Format: report.FormatVersion, Cells: cells}
	NewWithT(t).Expect(r.WriteJSON(path)).To(Succeed())
	return path
}

func TestReportMerge(t *testing.T) {
	g := NewWithT(t)
	m := matrix.MustLoad("../../matrix.yaml")
	var byShard = map[string][]report.Cell{}
	for _, c := range m.Expand(matrix.Filter{}) {
		name := "fake-" + c.Operator.Name
		byShard[name] = append(byShard[name], report.Cell{ID: c.ID, Tier: c.Tier, Client: c.Client.Name, Operator: c.Operator.Name,
			Requirements: []report.Requirement{{ID: "HDR-VERSION", Outcome: report.Pass}}})
	}
	dir := t.TempDir()
	var files []string
	for name, cells := range byShard {
		files = append(files, writeShard(t, dir, name, cells))
	}
	out := filepath.Join(dir, "merged")
	var stdout bytes.Buffer
	args := append([]string{"report", "merge", "--matrix", "../../matrix.yaml", "--out", out}, files...)
	g.Expect(run(args, &stdout, &stdout)).To(Succeed(), stdout.String())
	merged, err := report.ReadJSON(filepath.Join(out, "report.json"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(merged.Missing).To(BeEmpty())
	g.Expect(merged.Shards).To(HaveLen(len(byShard)))

	// one shard missing: the merge fails and names its cells
	args = append([]string{"report", "merge", "--matrix", "../../matrix.yaml", "--out", out}, files[1:]...)
	err = run(args, &stdout, &stdout)
	g.Expect(err).To(MatchError(errFailing))
	merged, _ = report.ReadJSON(filepath.Join(out, "report.json"))
	g.Expect(merged.Missing).NotTo(BeEmpty())
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	g.Expect(string(md)).To(ContainSubstring("no shard reported it"))
}

func TestMatrixCheckNamesUnknownSelections(t *testing.T) {
	g := NewWithT(t)
	var out bytes.Buffer
	g.Expect(run([]string{"matrix", "check", "--matrix", "../../matrix.yaml", "--clients", "mirrord-3.250.0"}, &out, &out)).To(Succeed())
	g.Expect(out.String()).To(Equal("matrix ../../matrix.yaml: 7 cells selected\n"))

	err := run([]string{"matrix", "check", "--matrix", "../../matrix.yaml", "--tier", "fake,cloud", "--clients", "mirrord-3.100.0,mirrord-3.250.0"}, &out, &out)
	g.Expect(err).To(MatchError(ContainSubstring(`TIER: the matrix has no "cloud"; it has: fake, apiserver, kind`)))
	g.Expect(err).To(MatchError(ContainSubstring(`CLIENTS: the matrix has no "mirrord-3.100.0"; it has: mirrord-3.41.0,`)))

	err = run([]string{"matrix", "check", "--matrix", "../../matrix.yaml", "--clients", "kubectl", "--operators", "ancient-3.40.0"}, &out, &out)
	g.Expect(err).To(MatchError(ContainSubstring("select no cell")))
}

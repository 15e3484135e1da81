package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/report"
)

func TestRequirementsAndGitHubMatrix(t *testing.T) {
	g := NewWithT(t)
	var out bytes.Buffer
	g.Expect(run([]string{"requirements", "--matrix", "../../matrix.yaml"}, &out, &out)).To(Succeed())
	g.Expect(out.String()).To(ContainSubstring("EARLY-REFUSAL"))

	out.Reset()
	g.Expect(run([]string{"matrix", "--github", "--matrix", "../../matrix.yaml"}, &out, &out)).To(Succeed())
	var jobs struct {
		Include []shard `json:"include"`
	}
	g.Expect(json.Unmarshal(out.Bytes(), &jobs)).To(Succeed())
	g.Expect(jobs.Include).To(HaveLen(50), "one shard per operator on each of the fake and apiserver tiers and on each Kubernetes version of the kind tier; the real operator on kind only")
	g.Expect(jobs.Include).To(ContainElement(shard{Name: "kind-v1.37.0-current-3.250.0", Tier: "kind", Kubernetes: "v1.37.0", Operator: "current-3.250.0"}))
	g.Expect(jobs.Include).To(ContainElement(shard{Name: "kind-v1.36.1-current-3.250.0", Tier: "kind", Kubernetes: "v1.36.1", Operator: "current-3.250.0"}))
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
	slices.Sort(files) // the shard left out below is the same in every run
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
	g.Expect(stdout.String()).To(MatchRegexp(`shard fake-ancient-3\.40\.0: missing: none of its \d+ cells was reported`), "the missing shard is named")
}

// TestKindShardsRunOnlyTheirKubernetes: with two Kubernetes versions, each kind shard's
// selection (its make conformance line, as the workflow passes it) expands to its own
// version's cells only, and the shards' reports merge with no cell twice and none missing.
func TestKindShardsRunOnlyTheirKubernetes(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "matrix.yaml")
	g.Expect(os.WriteFile(path, []byte("tiers: [fake, kind]\nkubernetes: [v1.37.0, v1.36.4]\n"+
		"clients:\n  - {name: a, version: 3.250.0}\n  - {name: b, version: 3.109.0}\n"+
		"operators:\n  - {name: o, version: 3.250.0}\n  - {name: p, version: 3.100.0}\n"), 0o644)).To(Succeed())
	m := matrix.MustLoad(path)

	var out bytes.Buffer
	g.Expect(run([]string{"matrix", "--github", "--tiers", "kind", "--matrix", path}, &out, &out)).To(Succeed())
	var jobs struct {
		Include []shard `json:"include"`
	}
	g.Expect(json.Unmarshal(out.Bytes(), &jobs)).To(Succeed())
	g.Expect(jobs.Include).To(HaveLen(4), "two versions × two operators")

	seen := map[string]string{}
	var files []string
	for _, s := range jobs.Include {
		// what make conformance TIER=… OPERATORS=… KUBERNETES=… hands the suites
		f := matrix.Filter{Tiers: []string{s.Tier}, Operators: []string{s.Operator}, Kubernetes: []string{s.Kubernetes}}
		g.Expect(m.CheckFilter(f)).To(Succeed())
		var cells []report.Cell
		for _, c := range m.Expand(f) {
			g.Expect(c.Kubernetes).To(Equal(s.Kubernetes), "shard %s runs only its version", s.Name)
			g.Expect(seen).NotTo(HaveKey(c.ID), "cell %s in shards %s and %s", c.ID, seen[c.ID], s.Name)
			seen[c.ID] = s.Name
			cells = append(cells, report.Cell{ID: c.ID, Tier: c.Tier, Kubernetes: c.Kubernetes, Client: c.Client.Name, Operator: c.Operator.Name,
				Requirements: []report.Requirement{{ID: "HDR-VERSION", Outcome: report.Pass}}})
		}
		g.Expect(cells).NotTo(BeEmpty(), "shard %s has cells", s.Name)
		files = append(files, writeShard(t, dir, "conformance-"+s.Name, cells))
	}
	g.Expect(seen).To(HaveLen(len(m.Expand(matrix.Filter{Tiers: []string{"kind"}}))), "the shards cover every kind cell")

	out.Reset()
	merged := filepath.Join(dir, "merged")
	args := append([]string{"report", "merge", "--tiers", "kind", "--matrix", path, "--out", merged}, files...)
	g.Expect(run(args, &out, &out)).To(Succeed(), out.String())
	r, err := report.ReadJSON(filepath.Join(merged, "report.json"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.Cells).To(HaveLen(len(seen)), "no cell twice")
	g.Expect(r.Missing).To(BeEmpty())
	for _, s := range r.ShardStates {
		g.Expect(s.Problem()).To(BeEmpty(), "shard %s", s.Name)
	}
}

func TestMatrixCheckNamesUnknownSelections(t *testing.T) {
	g := NewWithT(t)
	var out bytes.Buffer
	g.Expect(run([]string{"matrix", "check", "--matrix", "../../matrix.yaml", "--clients", "mirrord-3.250.0"}, &out, &out)).To(Succeed())
	g.Expect(out.String()).To(Equal("matrix ../../matrix.yaml: 10 cells selected\n"))

	err := run([]string{"matrix", "check", "--matrix", "../../matrix.yaml", "--tier", "fake,cloud", "--clients", "mirrord-3.100.0,mirrord-3.250.0"}, &out, &out)
	g.Expect(err).To(MatchError(ContainSubstring(`TIER: the matrix has no "cloud"; it has: fake, apiserver, kind`)))
	g.Expect(err).To(MatchError(ContainSubstring(`CLIENTS: the matrix has no "mirrord-3.100.0"; it has: mirrord-3.41.0,`)))

	err = run([]string{"matrix", "check", "--matrix", "../../matrix.yaml", "--clients", "kubectl", "--operators", "ancient-3.40.0"}, &out, &out)
	g.Expect(err).To(MatchError(ContainSubstring("select no cell")))
}

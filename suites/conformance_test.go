package suites

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/report"
	"github.com/opconform/opconform/runner"
)

// findingEntry is the report entry every requirement spec adds; the suite report is built
// from these.
const findingEntry = "opconform-finding"

// specFinding is the value of a findingEntry.
type specFinding struct {
	Cell        report.Cell        `json:"cell"`
	Requirement report.Requirement `json:"requirement"`
}

// kindVersionWhole is true when each Kubernetes version's kind cells are one process's
// (describeCells): the kept clusters are then named for their version alone.
var kindVersionWhole bool

// describeCells builds the spec tree from the cells, before RunSpecs: each cell of the fake
// and apiserver tiers is a top-level container (Ginkgo shuffles those), and the kind tier's
// cells are one top-level container per Kubernetes version, its operators' groups in order,
// so that a process works through one version's cluster before it makes the next one's.
// With at least as many versions as processes, a version is one process's (an Ordered
// container): each cluster is then made once in the run, not once in every process.
func describeCells(cells []matrix.Cell) {
	var kubes []string
	groups := map[string][]operatorGroup{}
	for _, g := range operatorGroups(cells) {
		if g.key == "" {
			Describe("Conformance", func() { describeCell(g.indexes[0], cells[g.indexes[0]], Ordered, ContinueOnFailure) })
			continue
		}
		kube := cells[g.indexes[0]].Kubernetes
		if _, ok := groups[kube]; !ok {
			kubes = append(kubes, kube)
		}
		groups[kube] = append(groups[kube], g)
	}
	suiteConfig, _ := GinkgoConfiguration()
	whole := len(kubes) >= suiteConfig.ParallelTotal
	kindVersionWhole = whole
	for _, kube := range kubes {
		Describe("Conformance", func() {
			// ContinueOnFailure goes on the outermost Ordered container only
			version, group := []any{}, []any{Ordered, ContinueOnFailure}
			if whole {
				version, group = []any{Ordered, ContinueOnFailure}, []any{Ordered}
			}
			Describe("kind "+kube, append(version, func() {
				// the cells of one kind operator run in one process, one after the other, so
				// that it is rolled out once for all of them
				for _, g := range groups[kube] {
					Describe(g.name, append(group, func() {
						for _, i := range g.indexes {
							describeCell(i, cells[i], Ordered)
						}
					})...)
				}
				describeKindTier(kube)
			})...)
		})
	}
}

// operatorGroup is cells that share one operator (runner.OperatorKey): the kind tier's, by
// key; any other cell is a group of its own (key ""), free to run in any order.
type operatorGroup struct {
	key, name string
	indexes   []int
}

// operatorGroups groups the cells in their order, each kind group where its first cell is.
func operatorGroups(cells []matrix.Cell) []operatorGroup {
	var out []operatorGroup
	at := map[string]int{}
	for i, c := range cells {
		if c.Tier != matrix.TierKind {
			out = append(out, operatorGroup{indexes: []int{i}})
			continue
		}
		key := runner.OperatorKey(c)
		g, ok := at[key]
		if !ok {
			g = len(out)
			at[key] = g
			out = append(out, operatorGroup{key: key, name: fmt.Sprintf("kind %s operator %s (group %d)", c.Kubernetes, c.Operator.Name, len(at))})
		}
		out[g].indexes = append(out[g].indexes, i)
	}
	return out
}

// describeCell is one cell: run it once, then one spec per requirement; decorators are
// Ordered (and ContinueOnFailure for an outermost container).
func describeCell(index int, cell matrix.Cell, decorators ...any) {
	decorators = append(decorators, Label(cellLabels(cell)...))
	Describe(cell.ID, append(decorators, func() {
		var result *runner.Result
		failed := false
		tally := map[report.Outcome]int{}

		BeforeAll(func(ctx SpecContext) {
			dir, err := os.MkdirTemp("", "opconform-cell-")
			Expect(err).NotTo(HaveOccurred(), "creating the cell's work directory")
			DeferCleanup(os.RemoveAll, dir)
			result, err = runner.Run(ctx, cell, runner.Options{WorkDir: dir, ScenarioTimeout: theMatrix.Timeouts.Scenario.Duration, GoldenDir: goldenDir, RepoRoot: repoRoot, Tiers: tiers()})
			Expect(err).NotTo(HaveOccurred(), "running cell %s", cell.ID)
		}, NodeTimeout(cellTimeout(cell)))

		excluded := excludedByGates(cell)
		for _, req := range contract.Requirements() {
			if _, ok := excluded[req.ID]; ok {
				continue // not a spec: the report lists it as not applicable, with its gate
			}
			It(string(req.ID), Label("req:"+string(req.ID)), func() {
				if result.Unavailable != "" {
					AddReportEntry(findingEntry, specFinding{Cell: cellReport(index, cell, result), Requirement: report.Requirement{ID: req.ID, Outcome: report.Skip, Reason: report.Unavailable, Detail: result.Unavailable}}, ReportEntryVisibilityNever)
					tally[report.Skip]++
					Skip(result.Unavailable)
				}
				f, ok := result.Finding(req.ID)
				Expect(ok).To(BeTrue(), "cell %s has a finding for %s", cell.ID, req.ID)
				outcome, detail := report.Judge(f, cell.Expects(req.ID))
				entry := specFinding{Cell: cellReport(index, cell, result), Requirement: report.Requirement{ID: req.ID, Outcome: outcome, Reason: f.Reason, Detail: detail, Scenario: f.Scenario, Control: cell.ControlSide(req.ID), PreventedBy: f.PreventedBy}}
				AddReportEntry(findingEntry, entry, ReportEntryVisibilityNever)
				tally[outcome]++
				switch outcome {
				case report.Skip:
					Skip(fmt.Sprintf("%s: %s", f.Reason, detail))
				case report.Fail, report.UnexpectedPass:
					failed = true
					// the summary after the run lists it again with its journal and re-run command
					Fail(fmt.Sprintf("%s %s in %s: %s", req.ID, outcome, cell.ID, detail))
				}
			})
		}

		AfterAll(func() {
			if cell.Tier == matrix.TierKind {
				kindCellDone(cell, result, failed)
			}
			if result == nil {
				return
			}
			AddReportEntry("cell", fmt.Sprintf("%s: %d pass, %d expected-fail, %d fail, %d unexpected-pass, %d skip; %d scenarios in %s",
				cell.ID, tally[report.Pass], tally[report.ExpectedFail], tally[report.Fail], tally[report.UnexpectedPass], tally[report.Skip],
				len(result.Observations), result.Duration.Round(time.Millisecond)), ReportEntryVisibilityFailureOrVerbose)
			if failed || CurrentSpecReport().Failed() {
				Expect(writeJournal(cell, result)).To(Succeed(), "writing the journal of %s", cell.ID)
			}
		})
	})...)
}

// excludedByGates are the requirements that the cell's versions alone exclude, known
// before anything runs, each with its gate.
func excludedByGates(cell matrix.Cell) map[contract.RequirementID]string {
	s, err := cell.Subject()
	if err != nil {
		return nil // the runner reports it; every requirement stays a spec
	}
	out := map[contract.RequirementID]string{}
	for _, r := range contract.Requirements() {
		r = s.Gated(r)
		if applies, err := r.Applies(s.ClientVersion, s.OperatorVersion, s.MinClientVersion); err == nil && !applies {
			out[r.ID] = r.GateText()
		}
	}
	return out
}

// cellTimeout bounds a cell; on kind the first cell of a process also makes the cluster.
func cellTimeout(cell matrix.Cell) time.Duration {
	if cell.Tier == matrix.TierKind {
		return max(theMatrix.Timeouts.Cell.Duration, theMatrix.Timeouts.KindCell.Duration)
	}
	return theMatrix.Timeouts.Cell.Duration
}

// cellLabels label a cell by tier, client, operator, and negative control: a cell whose
// client or operator is one, also where it is expected to pass (a defect that shows only
// against some operators).
func cellLabels(cell matrix.Cell) []string {
	labels := []string{"tier:" + cell.Tier, "client:" + labelSafe(cell.Client.Name), "operator:" + labelSafe(cell.Operator.Name)}
	if len(cell.Expect) > 0 || len(cell.ControlSides()) > 0 {
		labels = append(labels, "negative-control")
	}
	return labels
}

// labelSafe replaces the characters Ginkgo labels cannot hold.
func labelSafe(s string) string {
	return strings.NewReplacer("&", "-", "|", "-", "!", "-", ",", "-", "(", "-", ")", "-", "/", "-").Replace(s)
}

// rerun is the command that runs one cell alone, with everything that defines it: the
// matrix (when it is not the repository's), tier, client and operator (and, on kind, the
// focus that picks its Kubernetes version). It writes its reports beside the full run's,
// in rerun/, so that the full report stays.
func rerun(cell matrix.Cell) string {
	cmd := "make conformance"
	if matrixFile != filepath.Join(repoRoot, "matrix.yaml") {
		cmd += " MATRIX=" + report.ShellQuote(matrixFile)
	}
	cmd += fmt.Sprintf(" TIER=%s CLIENTS=%s OPERATORS=%s", cell.Tier, report.ShellQuote(cell.Client.Name), report.ShellQuote(cell.Operator.Name))
	if cell.Kubernetes != "" {
		// the focus matches the cell's container text followed by the space before each
		// requirement's name
		cmd += " GINKGO_FOCUS=" + report.ShellQuote(regexp.QuoteMeta(cell.ID)+" ")
	}
	dir := artifacts
	if filepath.Base(dir) != "rerun" { // a re-run of a re-run writes where it is
		dir = filepath.Join(dir, "rerun")
	}
	return cmd + " ARTIFACTS=" + report.ShellQuote(dir)
}

// journalPath is where a cell's journal goes.
func journalPath(cell matrix.Cell) string {
	return filepath.Join(artifacts, "journals", strings.NewReplacer("/", "_", " ", "_").Replace(cell.ID)+".json")
}

// writeJournal writes the cell's journal: fingerprints only, never certificates.
func writeJournal(cell matrix.Cell, result *runner.Result) error {
	return report.WriteJournal(journalPath(cell), cell.ID, result.Observations, result.Journal)
}

// firstLine is the first line of s, at most 200 bytes of it.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// cellReport is the report's view of a cell.
func cellReport(index int, cell matrix.Cell, result *runner.Result) report.Cell {
	c := report.Cell{
		ID: cell.ID, Index: index, Tier: cell.Tier, Kubernetes: cell.Kubernetes,
		Client: cell.Client.Name, ClientVersion: cell.Client.Version, Defect: cell.Client.Defect,
		Operator: cell.Operator.Name, OperatorVersion: cell.Operator.Version, Profile: cell.Operator.Profile,
		MinClientVersion: cell.Operator.MinClientVersion, Control: strings.Join(cell.ControlSides(), ", "),
		Journal: journalPath(cell), Rerun: rerun(cell), DurationSeconds: result.Duration.Seconds(),
	}
	for _, o := range result.Observations {
		if o.Err != "" && !o.ExpectRefusal && (o.Kind == contract.ScenarioStatus || o.Kind == contract.ScenarioLs || o.Kind == contract.ScenarioExec) {
			c.CommandErrors = append(c.CommandErrors, o.Name+": "+firstLine(o.Err))
		}
	}
	for _, d := range result.RefusalToExit {
		c.RefusalToExitMillis = max(c.RefusalToExitMillis, float64(d.Microseconds())/1000)
	}
	return c
}

package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/matrix"
)

// Outcome is what a requirement came to in one cell.
type Outcome string

// Outcomes. Only fail and unexpected-pass fail a run.
const (
	Pass           Outcome = "pass"
	Fail           Outcome = "fail"
	Skip           Outcome = "skip"
	ExpectedFail   Outcome = "expected-fail"
	UnexpectedPass Outcome = "unexpected-pass"
)

// Failing reports whether o fails the run.
func (o Outcome) Failing() bool { return o == Fail || o == UnexpectedPass }

// Judge turns a finding and the cell's expectation for it (nil: none) into an outcome and a
// sentence. A negative control passes only when its requirement fails for the named reason.
func Judge(f contract.Finding, exp *matrix.Expectation) (Outcome, string) {
	switch {
	case exp == nil && f.Status == contract.Fail:
		return Fail, f.Detail
	case exp == nil && f.Status == contract.Skip:
		return Skip, f.Detail
	case exp == nil:
		return Pass, ""
	case f.Status == contract.Fail && (exp.Reason == "" || exp.Reason == f.Reason):
		return ExpectedFail, f.Detail
	case f.Status == contract.Fail:
		return UnexpectedPass, fmt.Sprintf("the negative control failed %s for %q, not for the named reason %q: %s", f.Requirement, f.Reason, exp.Reason, f.Detail)
	}
	got := "it passed"
	if f.Status == contract.Skip {
		got = fmt.Sprintf("it was not judged (%s: %s)", f.Reason, f.Detail)
	}
	return UnexpectedPass, fmt.Sprintf("the negative control went unnoticed: %s must fail (reason %q), but %s", f.Requirement, exp.Reason, got)
}

// Unavailable is the reason of a requirement whose cell could not run on this machine.
const Unavailable = "unavailable"

// Requirement is one requirement's outcome in a cell.
type Requirement struct {
	ID       contract.RequirementID `json:"id"`
	Outcome  Outcome                `json:"outcome"`
	Reason   string                 `json:"reason,omitempty"`
	Detail   string                 `json:"detail,omitempty"`
	Scenario string                 `json:"scenario,omitempty"`
	// Control is the side of the cell that is a negative control for this requirement
	// (client or operator), empty when the cell is none for it.
	Control contract.Side `json:"control,omitempty"`
	// PreventedBy is the requirement whose failure kept this one from being observed.
	PreventedBy contract.RequirementID `json:"preventedBy,omitempty"`
}

// Cell is one cell's results.
type Cell struct {
	ID string `json:"id"`
	// Index is the cell's place in the matrix's expansion; reports list cells in that order.
	Index           int    `json:"index"`
	Tier            string `json:"tier"`
	Kubernetes      string `json:"kubernetes,omitempty"`
	Client          string `json:"client"`
	ClientVersion   string `json:"clientVersion"`
	Defect          string `json:"defect,omitempty"`
	Operator        string `json:"operator"`
	OperatorVersion string `json:"operatorVersion"`
	Profile         string `json:"profile,omitempty"`
	// MinClientVersion is the operator's minimum client version, "" when it sets none.
	MinClientVersion string `json:"minClientVersion,omitempty"`
	// Control names the sides of the cell that are negative controls ("client", "operator",
	// "client, operator"); "" for released versions.
	Control string `json:"control,omitempty"`
	// CommandErrors are the client's own commands that failed where no refusal was due
	// ("exec: …"), a line each.
	CommandErrors []string      `json:"commandErrors,omitempty"`
	Requirements  []Requirement `json:"requirements"`
	// RefusalToExitMillis is the longest time from a refusal to the client's exit.
	RefusalToExitMillis float64 `json:"refusalToExitMillis,omitempty"`
	DurationSeconds     float64 `json:"durationSeconds"`
	// Journal is the artifact path of the cell's journal, written for failing cells.
	Journal string `json:"journal,omitempty"`
	// Rerun is a command that runs this cell alone.
	Rerun string `json:"rerun"`
}

// Failing reports whether any requirement of the cell fails the run.
func (c Cell) Failing() bool {
	return slices.ContainsFunc(c.Requirements, func(r Requirement) bool { return r.Outcome.Failing() })
}

// NotRunHere says why the cell could not run on this machine (a client that cannot be
// installed, kind unavailable), or "" when it ran.
func (c Cell) NotRunHere() string {
	i := slices.IndexFunc(c.Requirements, func(r Requirement) bool { return r.Reason == Unavailable })
	if i < 0 {
		return ""
	}
	return c.Requirements[i].Detail
}

// Report is a whole run, or one shard of it.
type Report struct {
	// Format is the report format version.
	Format      int       `json:"format"`
	GeneratedAt time.Time `json:"generatedAt"`
	// Source is what made the report (SourceConformance, SourceMerge, SourceCheck); Commit
	// the commit of the repository it ran from ("" where none is known).
	Source string `json:"source,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Shards names the reports merged into this one.
	Shards []string `json:"shards,omitempty"`
	// ShardStates says, for a merged report, what each shard the run should have had
	// reported: its cells, and which of them fail.
	ShardStates []ShardState `json:"shardStates,omitempty"`
	Cells       []Cell       `json:"cells"`
	// Missing lists cells that should have run and did not (or ran incompletely).
	Missing []string `json:"missing,omitempty"`
}

// Sources of reports.
const (
	SourceConformance = "make conformance"
	SourceMerge       = "ci shard merge"
	SourceCheck       = "opconform check"
)

// CommitOf is the commit a run in dir ran from: $GITHUB_SHA in a workflow, else the
// repository's HEAD (with "-dirty" when its work tree has changes), else "".
func CommitOf(dir string) string {
	if sha := os.Getenv("GITHUB_SHA"); sha != "" {
		return sha
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	head, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(head))
	if status, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(status) > 0 {
		commit += "-dirty"
	}
	return commit
}

// FormatVersion is the current report format.
const FormatVersion = 1

// Sort orders cells as the matrix lists them and requirements in the contract's order.
func (r *Report) Sort() {
	order := map[contract.RequirementID]int{}
	for i, req := range contract.Requirements() {
		order[req.ID] = i
	}
	slices.SortFunc(r.Cells, func(a, b Cell) int { return cmp.Or(cmp.Compare(a.Index, b.Index), cmp.Compare(a.ID, b.ID)) })
	for _, c := range r.Cells {
		slices.SortFunc(c.Requirements, func(a, b Requirement) int { return cmp.Compare(order[a.ID], order[b.ID]) })
	}
}

// Failing reports whether the report fails the run: a failure, a missing cell, or no cell
// at all (zero cells is not a pass).
func (r *Report) Failing() bool {
	return len(r.Cells) == 0 || len(r.Missing) > 0 || slices.ContainsFunc(r.Cells, Cell.Failing)
}

// Counts tallies outcomes over every cell.
func (r *Report) Counts() map[Outcome]int {
	out := map[Outcome]int{}
	for _, c := range r.Cells {
		for _, req := range c.Requirements {
			out[req.Outcome]++
		}
	}
	return out
}

// WriteJSON writes the report to path.
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading report %s: %w", path, err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("reading report %s: %w", path, err)
	}
	if r.Format != FormatVersion {
		return nil, fmt.Errorf("reading report %s: format %d, want %d", path, r.Format, FormatVersion)
	}
	return &r, nil
}

package report

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/opconform/opconform/contract"
)

// failureGroup is one defect as the report sees it: the same requirement failing with the
// same outcome for the same reason, in one cell or in many.
type failureGroup struct {
	id      contract.RequirementID
	outcome Outcome
	reason  string
	// cells are the cells it failed in, first the one whose detail is shown.
	cells  []Cell
	detail string
	// scenario is where the first cell showed it.
	scenario string
}

// failureGroups groups the failing requirements of every cell, in report order.
func (r *Report) failureGroups() []failureGroup {
	var out []failureGroup
	for _, c := range r.Cells {
		for _, req := range c.Requirements {
			if !req.Outcome.Failing() {
				continue
			}
			i := slices.IndexFunc(out, func(g failureGroup) bool {
				return g.id == req.ID && g.outcome == req.Outcome && g.reason == req.Reason && req.Reason != ""
			})
			if i < 0 {
				out = append(out, failureGroup{id: req.ID, outcome: req.Outcome, reason: req.Reason, detail: req.Detail, scenario: req.Scenario})
				i = len(out) - 1
			}
			out[i].cells = append(out[i].cells, c)
		}
	}
	return out
}

// Failures are the failing requirements, each defect once: what failed where, then the
// journal of its (first) cell and the command that re-runs it, on lines of their own. A
// defect that fails the same requirement for the same reason in many cells is one entry that
// names them all, with a command that re-runs them all.
func (r *Report) Failures() []string {
	var out []string
	for _, g := range r.failureGroups() {
		first := g.cells[0]
		where := "`" + first.ID + "`"
		if g.scenario != "" {
			where += " (scenario " + g.scenario + ")"
		}
		var lines []string
		if len(g.cells) == 1 {
			lines = append(lines, fmt.Sprintf("%s **%s** %s in %s: %s", symbols[g.outcome], g.id, g.outcome, where, g.detail))
		} else {
			var ids []string
			for _, c := range g.cells {
				ids = append(ids, "`"+c.ID+"`")
			}
			lines = append(lines, fmt.Sprintf("%s **%s** %s (%s) in %d cells: %s", symbols[g.outcome], g.id, g.outcome, g.reason, len(g.cells), strings.Join(ids, ", ")),
				fmt.Sprintf("first, %s: %s", where, g.detail))
		}
		if kept := prevented(first, g.id); kept != "" {
			lines = append(lines, kept)
		}
		lines = append(lines, fmt.Sprintf("journal: `%s`", first.Journal))
		if len(g.cells) == 1 {
			lines = append(lines, fmt.Sprintf("re-run: `%s`", first.Rerun))
		} else {
			lines = append(lines, fmt.Sprintf("re-run one: `%s`", first.Rerun), fmt.Sprintf("re-run all: `%s`", rerunAll(g.cells)))
		}
		out = append(out, strings.Join(lines, "\n"))
	}
	return out
}

// prevented says which requirements of the cell the failure of id kept from being judged, or
// "" when it kept none.
func prevented(c Cell, id contract.RequirementID) string {
	var kept []string
	for _, req := range c.Requirements {
		if req.PreventedBy == id {
			kept = append(kept, string(req.ID))
		}
	}
	if len(kept) == 0 {
		return ""
	}
	return "kept from being judged (not observed): " + strings.Join(kept, ", ")
}

// selection matches the parts of a re-run command that select its cell.
var selection = regexp.MustCompile(` (TIER|CLIENTS|OPERATORS|KUBERNETES|GINKGO_FOCUS)=('[^']*'|\S+)`)

// rerunAll is the re-run command of the first cell with a selection of every cell's tier,
// client, operator and Kubernetes version (which may select a few cells more: those
// between them).
func rerunAll(cells []Cell) string {
	var tiers, clients, operators, kubernetes []string
	for _, c := range cells {
		for _, v := range []struct {
			list *[]string
			name string
		}{{&tiers, c.Tier}, {&clients, c.Client}, {&operators, c.Operator}, {&kubernetes, c.Kubernetes}} {
			if v.name != "" && !slices.Contains(*v.list, v.name) {
				*v.list = append(*v.list, v.name)
			}
		}
	}
	cmd := selection.ReplaceAllString(cells[0].Rerun, "")
	rest := ""
	if i := strings.Index(cmd, " ARTIFACTS="); i >= 0 {
		cmd, rest = cmd[:i], cmd[i:]
	}
	selected := fmt.Sprintf(" TIER=%s CLIENTS=%s OPERATORS=%s", strings.Join(tiers, ","), ShellQuote(strings.Join(clients, ",")), ShellQuote(strings.Join(operators, ",")))
	if len(kubernetes) > 0 {
		selected += " KUBERNETES=" + strings.Join(kubernetes, ",")
	}
	return cmd + selected + rest
}

// plainWord is what a POSIX shell takes as it is.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./:=,+-]+$`)

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opconform/opconform/contract"
)

// Coverage is what a report shows of one requirement: in how many cells it passed, did not
// apply, could not be observed, failed, and which negative controls proved it can fail.
type Coverage struct {
	Requirement                                contract.Requirement
	Passed, NotApplicable, NotObserved, Failed int
	NotRun                                     int
	Controls                                   map[contract.Side][]string
	// Unproven are the sides of a MUST requirement that no negative control of this report
	// failed: nothing here shows that the requirement can fail on that side.
	Unproven []contract.Side
}

// Coverage tallies every requirement over the report's cells, in the contract's order.
func (r *Report) Coverage() []Coverage {
	var out []Coverage
	for _, req := range contract.Requirements() {
		c := Coverage{Requirement: req, Controls: map[contract.Side][]string{}}
		for _, cell := range r.Cells {
			for _, got := range cell.Requirements {
				if got.ID != req.ID {
					continue
				}
				switch {
				case got.Outcome == Pass:
					c.Passed++
				case got.Outcome == ExpectedFail:
					name := cell.Client
					if got.Control == contract.SideOperator {
						name = cell.Operator
					}
					if !slices.Contains(c.Controls[got.Control], name) {
						c.Controls[got.Control] = append(c.Controls[got.Control], name)
					}
				case got.Outcome.Failing():
					c.Failed++
				case got.Reason == contract.NotApplicable:
					c.NotApplicable++
				case got.Reason == Unavailable:
					c.NotRun++
				default:
					c.NotObserved++
				}
			}
		}
		if req.Level == contract.Must {
			for _, side := range req.Sides {
				if len(c.Controls[side]) == 0 {
					c.Unproven = append(c.Unproven, side)
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// requirementTable renders Coverage as Markdown.
func (r *Report) requirementTable() string {
	var b strings.Builder
	b.WriteString("## Requirements\n\nCells where each requirement passed, did not apply (its version gates), could " +
		"not be observed, failed, and the negative controls that failed it as they must (proof that it can " +
		"fail), by side.\n\n")
	b.WriteString("| requirement | level | gates | pass | n/a | not observed | fail | negative controls |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.Coverage() {
		var controls []string
		for _, side := range []contract.Side{contract.SideClient, contract.SideOperator} {
			if names := c.Controls[side]; len(names) > 0 {
				controls = append(controls, fmt.Sprintf("%s: %s", side, strings.Join(names, ", ")))
			}
		}
		for _, side := range c.Unproven {
			controls = append(controls, fmt.Sprintf("⚠️ no %s-side negative control in this run", side))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d | %d | %s |\n", c.Requirement.ID, c.Requirement.Level, c.Requirement.GateText(),
			c.Passed, c.NotApplicable, c.NotObserved, c.Failed, strings.Join(controls, "; "))
	}
	b.WriteString("\n")
	return b.String()
}

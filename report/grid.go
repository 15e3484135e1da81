package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/opconform/opconform/contract"
)

// Compatibility is the answer a report gives for one released client and operator: does the
// client work with the operator?
type Compatibility string

// The answers.
const (
	// Works: the contract holds and the client's commands succeeded.
	Works Compatibility = "works"
	// WorksInPart: the contract holds, but one of the client's commands failed (an ancient
	// operator that issues no certificates cannot serve exec).
	WorksInPart Compatibility = "works in part"
	// RefusedByDesign: the operator refuses the client for its version (a minimum client
	// version), as it should.
	RefusedByDesign Compatibility = "refused by design"
	// Breaks: a requirement failed.
	Breaks Compatibility = "breaks"
	// NotRunHere: the cell could not run on this machine.
	NotRunHere Compatibility = "not run here"
)

// compatibilityMarks are the grid's marks, one a verdict.
var compatibilityMarks = map[Compatibility]string{Works: "✅", WorksInPart: "🟡", RefusedByDesign: "⛔", Breaks: "❌", NotRunHere: "·"}

// Compatibility answers "does this client work with this operator?" for the cell, and says
// what the answer rests on: the first failing requirement, the minimum version, the command
// that failed, or why the cell did not run.
func (c Cell) Compatibility() (Compatibility, string) {
	if why := c.NotRunHere(); why != "" {
		return NotRunHere, why
	}
	if i := slices.IndexFunc(c.Requirements, func(r Requirement) bool { return r.Outcome.Failing() }); i >= 0 {
		r := c.Requirements[i]
		if r.Reason == "" {
			return Breaks, string(r.ID)
		}
		return Breaks, fmt.Sprintf("%s (%s)", r.ID, r.Reason)
	}
	if c.refusedByDesign() {
		return RefusedByDesign, "the operator serves clients from " + c.MinClientVersion + " on"
	}
	if len(c.CommandErrors) > 0 {
		return WorksInPart, strings.Join(c.CommandErrors, "; ")
	}
	return Works, ""
}

// refusedByDesign reports whether the operator's minimum client version is above the client's.
func (c Cell) refusedByDesign() bool {
	if c.MinClientVersion == "" {
		return false
	}
	client, err1 := semver.NewVersion(c.ClientVersion)
	min, err2 := semver.NewVersion(c.MinClientVersion)
	return err1 == nil && err2 == nil && client.LessThan(min)
}

// Released reports whether the cell pairs a released client with a released operator: no
// negative control on either side.
func (c Cell) Released() bool { return c.Control == "" }

// compatibilityGrid is the report's opening: per tier, released clients down, released
// operators across, one verdict a cell.
func (r *Report) compatibilityGrid() string {
	var b strings.Builder
	b.WriteString("## Does the client work with the operator?\n\nReleased versions only (negative controls are below). ")
	for _, v := range []Compatibility{Works, WorksInPart, RefusedByDesign, Breaks, NotRunHere} {
		fmt.Fprintf(&b, "%s %s · ", compatibilityMarks[v], v)
	}
	b.WriteString("\n\n")
	for _, tier := range r.tiers() {
		clients, operators := r.axesOf(tier, Cell.Released)
		if len(clients) == 0 {
			continue
		}
		fmt.Fprintf(&b, "### Tier %s\n\n| client \\ operator | %s |\n|---|%s\n", tier, strings.Join(operators, " | "), strings.Repeat("---|", len(operators)))
		for _, cl := range clients {
			row := []string{cl}
			for _, op := range operators {
				c, ok := r.cellAt(tier, cl, op)
				if !ok {
					row = append(row, "")
					continue
				}
				v, why := c.Compatibility()
				text := compatibilityMarks[v] + " " + string(v)
				if why != "" && v != NotRunHere {
					text += ": " + markdownCell(why)
				}
				row = append(row, text)
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Control is a negative control's requirement in one cell: caught (reported failing, as it
// must be) or not, or not run here (its cell could not run on this machine).
type Control struct {
	Name, Side, Cell, Requirement, Detail string
	Caught, NotRunHere                    bool
}

// Controls are every negative control's requirement in every cell, caught or not, named
// for the side (client or operator) that is the control.
func (r *Report) Controls() []Control {
	var out []Control
	for _, c := range r.Cells {
		for _, req := range c.Requirements {
			if req.Control == "" {
				continue
			}
			name := c.Client
			if req.Control == contract.SideOperator {
				name = c.Operator
			}
			out = append(out, Control{Name: name, Side: string(req.Control), Cell: c.ID, Requirement: string(req.ID), Detail: req.Detail, Caught: req.Outcome == ExpectedFail,
				NotRunHere: req.Reason == Unavailable})
		}
	}
	return out
}

// controlTable lists every negative control's requirement in every cell it ran in, caught
// or not.
func (r *Report) controlTable() string {
	var rows []string
	for _, c := range r.Controls() {
		caught := symbols[ExpectedFail] + " caught"
		if !c.Caught {
			caught = symbols[UnexpectedPass] + " not caught: " + markdownCell(c.Detail)
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | `%s` | %s | %s |", c.Name, c.Side, c.Cell, c.Requirement, caught))
	}
	if len(rows) == 0 {
		return ""
	}
	return "## Negative controls\n\nA client or operator with a deliberate defect must be reported failing the " +
		"requirement it breaks: proof that the harness can fail.\n\n| control | side | cell | requirement | " +
		"|\n|---|---|---|---|---|\n" + strings.Join(rows, "\n") + "\n\n"
}

// axesOf are the clients and operators of a tier's cells that keep holds for, in report order.
func (r *Report) axesOf(tier string, keep func(Cell) bool) (clients, operators []string) {
	for _, c := range r.Cells {
		if c.tierKey() != tier || !keep(c) {
			continue
		}
		if !slices.Contains(clients, c.Client) {
			clients = append(clients, c.Client)
		}
		if !slices.Contains(operators, c.Operator) {
			operators = append(operators, c.Operator)
		}
	}
	return clients, operators
}

// cellAt is the tier's cell of client and operator.
func (r *Report) cellAt(tier, client, operator string) (Cell, bool) {
	i := slices.IndexFunc(r.Cells, func(c Cell) bool { return c.tierKey() == tier && c.Client == client && c.Operator == operator })
	if i < 0 {
		return Cell{}, false
	}
	return r.Cells[i], true
}

// markdownCell makes text safe in a table cell: one line, no pipe, at most 120 bytes.
func markdownCell(s string) string {
	s = strings.NewReplacer("\n", " ", "|", "\\|").Replace(s)
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

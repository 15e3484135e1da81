package report

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/opconform/opconform/contract"
)

// symbols are the table's marks.
var symbols = map[Outcome]string{Pass: "✅", Fail: "❌", Skip: "·", ExpectedFail: "☑️", UnexpectedPass: "❗"}

// Markdown renders the report: a verdict, a client × operator matrix with each cell's
// tally, then every failing requirement with the command that re-runs its cell.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# opconform conformance report\n\n%s\n\n", r.Verdict())
	b.WriteString(r.compatibilityGrid())
	b.WriteString(r.controlTable())
	fmt.Fprintf(&b, "## Every cell, requirement by requirement\n\nLegend: ✅ all pass · ☑️ negative control failed as "+
		"expected · ❌ fail · ❗ negative control unnoticed · cells read pass/expected-fail/fail/not "+
		"observed/not applicable; ⏱ longest refusal → client exit.\n\n")
	for _, tier := range r.tiers() {
		clients, operators := r.axesOf(tier, func(Cell) bool { return true })
		fmt.Fprintf(&b, "### Tier %s\n\n| client \\ operator | %s |\n|---|%s\n", tier, strings.Join(operators, " | "), strings.Repeat("---|", len(operators)))
		for _, cl := range clients {
			row := []string{cl}
			for _, op := range operators {
				row = append(row, r.cellMark(tier, cl, op))
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
		}
		b.WriteString("\n")
	}
	if len(r.Cells) > 0 {
		b.WriteString(r.requirementTable())
	}
	if len(r.ShardStates) > 0 {
		b.WriteString("## Shards\n\n| shard | cells | state |\n|---|---|---|\n")
		for _, s := range r.ShardStates {
			state := symbols[Pass] + " reported, none failing"
			if p := s.Problem(); p != "" {
				state = symbols[Fail] + " " + p
			}
			fmt.Fprintf(&b, "| %s | %d | %s |\n", s.Name, s.Cells, state)
		}
		b.WriteString("\n")
	}
	if len(r.Missing) > 0 {
		fmt.Fprintf(&b, "## Missing cells\n\nThese cells should have run and did not, or ran only in part:\n\n")
		for _, m := range r.Missing {
			fmt.Fprintf(&b, "- `%s`\n", m)
		}
		b.WriteString("\n")
	}
	if notRun := r.notRunHere(); len(notRun) > 0 {
		b.WriteString("## Cells that did not run here\n\n")
		for _, line := range notRun {
			fmt.Fprintf(&b, "- %s\n", line)
		}
		b.WriteString("\n")
	}
	if failures := r.Failures(); len(failures) > 0 {
		b.WriteString("## Failures\n\n")
		for _, f := range failures {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(f, "\n", "\n  - "))
		}
	}
	return b.String()
}

// Tally is a report's requirement outcomes, one a cell and requirement: what passed, failed,
// and, apart, what did not apply (its version gates: no spec ran) and what could not be
// observed (its spec skipped) or run here.
type Tally struct {
	Pass, ExpectedFail, Fail, UnexpectedPass int
	NotObserved, NotApplicable, NotRun       int
}

// Total is every outcome counted.
func (t Tally) Total() int {
	return t.Pass + t.ExpectedFail + t.Fail + t.UnexpectedPass + t.NotObserved + t.NotApplicable + t.NotRun
}

// add counts one requirement's outcome.
func (t *Tally) add(req Requirement) {
	switch {
	case req.Outcome == Pass:
		t.Pass++
	case req.Outcome == ExpectedFail:
		t.ExpectedFail++
	case req.Outcome == Fail:
		t.Fail++
	case req.Outcome == UnexpectedPass:
		t.UnexpectedPass++
	case req.Reason == contract.NotApplicable:
		t.NotApplicable++
	case req.Reason == Unavailable:
		t.NotRun++
	default:
		t.NotObserved++
	}
}

// Tally counts the outcomes of every cell.
func (r *Report) Tally() Tally {
	var t Tally
	for _, c := range r.Cells {
		t = t.plus(c.Tally())
	}
	return t
}

// Tally counts the cell's outcomes.
func (c Cell) Tally() Tally {
	var t Tally
	for _, req := range c.Requirements {
		t.add(req)
	}
	return t
}

func (t Tally) plus(u Tally) Tally {
	return Tally{t.Pass + u.Pass, t.ExpectedFail + u.ExpectedFail, t.Fail + u.Fail, t.UnexpectedPass + u.UnexpectedPass,
		t.NotObserved + u.NotObserved, t.NotApplicable + u.NotApplicable, t.NotRun + u.NotRun}
}

// Verdict is the report's first line: whether conformance holds, over how many cells, the
// requirement outcomes, and how they relate to the specs Ginkgo counts.
func (r *Report) Verdict() string {
	t := r.Tally()
	verdict := "✅ conformance holds"
	switch {
	case len(r.Cells) == 0:
		verdict = "❌ no cell ran (a filter that matches nothing?)"
	case r.Failing():
		verdict = "❌ conformance broken"
	}
	cells := fmt.Sprintf("%d cells", len(r.Cells))
	n := 0
	for _, g := range r.NotRunHere() {
		n += len(g.Cells)
	}
	if n > 0 {
		cells += fmt.Sprintf(", %d of them did not run here (see below)", n)
	}
	return fmt.Sprintf("**%s** — %s; %d requirement outcomes (one a cell and requirement): %d pass, %d fail, %d "+
		"expected-fail (negative controls caught), %d unexpected-pass, %d not observed, %d not run here, %d "+
		"not applicable "+
		"— a spec runs only where its requirement applies: Ginkgo's passed specs are the pass and expected-fail, its skipped ones the not observed and not run here.",
		verdict, cells, t.Total(), t.Pass, t.Fail, t.ExpectedFail, t.UnexpectedPass, t.NotObserved, t.NotRun, t.NotApplicable)
}

// notRunHere lists the cells that could not run on this machine, each with why.
func (r *Report) notRunHere() []string {
	var out []string
	for _, g := range r.NotRunHere() {
		out = append(out, fmt.Sprintf("%s: `%s`", g.Why, strings.Join(g.Cells, "`, `")))
	}
	return out
}

// NotRun is a reason that kept cells from running on this machine, with those cells.
type NotRun struct {
	Why   string
	Cells []string
}

// NotRunHere groups the cells that could not run here by why, in report order.
func (r *Report) NotRunHere() []NotRun {
	var out []NotRun
	for _, c := range r.Cells {
		why := c.NotRunHere()
		if why == "" {
			continue
		}
		// the same cause names its cell's client or Kubernetes version; group by the rest
		i := slices.IndexFunc(out, func(g NotRun) bool { return g.Why == why })
		if i < 0 {
			out = append(out, NotRun{Why: why})
			i = len(out) - 1
		}
		out[i].Cells = append(out[i].Cells, c.ID)
	}
	return out
}

func (r *Report) tiers() []string {
	var out []string
	for _, c := range r.Cells {
		key := c.Tier
		if c.Kubernetes != "" {
			key += " " + c.Kubernetes
		}
		if !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	return out
}

func (c Cell) tierKey() string {
	if c.Kubernetes != "" {
		return c.Tier + " " + c.Kubernetes
	}
	return c.Tier
}

// cellMark is one table cell: a symbol and the tally.
func (r *Report) cellMark(tier, client, operator string) string {
	c, ok := r.cellAt(tier, client, operator)
	if !ok {
		return ""
	}
	if c.NotRunHere() != "" {
		return symbols[Skip] + " did not run here (see below)"
	}
	t := c.Tally()
	mark := symbols[Pass]
	switch {
	case t.UnexpectedPass > 0:
		mark = symbols[UnexpectedPass]
	case t.Fail > 0:
		mark = symbols[Fail]
	case t.ExpectedFail > 0:
		mark = symbols[ExpectedFail]
	}
	s := fmt.Sprintf("%s %d/%d/%d/%d/%d", mark, t.Pass, t.ExpectedFail, t.Fail+t.UnexpectedPass, t.NotObserved, t.NotApplicable)
	if c.RefusalToExitMillis > 0 {
		s += fmt.Sprintf(" ⏱%.1fms", c.RefusalToExitMillis)
	}
	return s
}

// WriteMarkdown writes Markdown to path.
func (r *Report) WriteMarkdown(path string) error {
	if err := os.WriteFile(path, []byte(r.Markdown()), 0o644); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	return nil
}

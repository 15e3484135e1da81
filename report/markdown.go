package report

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// symbols are the table's marks.
var symbols = map[Outcome]string{Pass: "✅", Fail: "❌", Skip: "·", ExpectedFail: "☑️", UnexpectedPass: "❗"}

// Markdown renders the report: a verdict, a client × operator matrix with each cell's
// tally, then every failing requirement with the command that re-runs its cell.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# opconform conformance report\n\n%s\n\n", r.Verdict())
	fmt.Fprintf(&b, "Legend: ✅ all pass · ☑️ negative control failed as expected · ❌ fail · ❗ negative control unnoticed · cells read pass/expected-fail/fail/skip; ⏱ longest refusal → client exit.\n\n")
	for _, tier := range r.tiers() {
		clients, operators := r.axes(tier)
		fmt.Fprintf(&b, "## Tier %s\n\n| client \\ operator | %s |\n|---|%s\n", tier, strings.Join(operators, " | "), strings.Repeat("---|", len(operators)))
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

// Verdict is the report's first line: whether conformance holds, over how many cells, and
// the requirement counts.
func (r *Report) Verdict() string {
	counts := r.Counts()
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
	return fmt.Sprintf("**%s** — %s; requirements: %d pass, %d fail, %d expected-fail (negative controls caught), %d unexpected-pass, %d skip.",
		verdict, cells, counts[Pass], counts[Fail], counts[ExpectedFail], counts[UnexpectedPass], counts[Skip])
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

func (r *Report) axes(tier string) (clients, operators []string) {
	for _, c := range r.Cells {
		if c.tierKey() != tier {
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

func (c Cell) tierKey() string {
	if c.Kubernetes != "" {
		return c.Tier + " " + c.Kubernetes
	}
	return c.Tier
}

// cellMark is one table cell: a symbol and the tally.
func (r *Report) cellMark(tier, client, operator string) string {
	i := slices.IndexFunc(r.Cells, func(c Cell) bool { return c.tierKey() == tier && c.Client == client && c.Operator == operator })
	if i < 0 {
		return ""
	}
	c := r.Cells[i]
	n := map[Outcome]int{}
	for _, req := range c.Requirements {
		n[req.Outcome]++
	}
	mark := symbols[Pass]
	switch {
	case n[UnexpectedPass] > 0:
		mark = symbols[UnexpectedPass]
	case n[Fail] > 0:
		mark = symbols[Fail]
	case n[ExpectedFail] > 0:
		mark = symbols[ExpectedFail]
	}
	if c.NotRunHere() != "" {
		return symbols[Skip] + " did not run here (see below)"
	}
	s := fmt.Sprintf("%s %d/%d/%d/%d", mark, n[Pass], n[ExpectedFail], n[Fail]+n[UnexpectedPass], n[Skip])
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

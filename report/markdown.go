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
	counts := r.Counts()
	verdict := "✅ conformance holds"
	if r.Failing() {
		verdict = "❌ conformance broken"
	}
	fmt.Fprintf(&b, "# opconform conformance report\n\n**%s** — %d cells; requirements: %d pass, %d fail, %d expected-fail (negative controls caught), %d unexpected-pass, %d skip.\n\n",
		verdict, len(r.Cells), counts[Pass], counts[Fail], counts[ExpectedFail], counts[UnexpectedPass], counts[Skip])
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
	if len(r.Missing) > 0 {
		fmt.Fprintf(&b, "## Missing cells\n\nThese cells should have run and did not, or ran only in part:\n\n")
		for _, m := range r.Missing {
			fmt.Fprintf(&b, "- `%s`\n", m)
		}
		b.WriteString("\n")
	}
	failing := false
	for _, c := range r.Cells {
		for _, req := range c.Requirements {
			if !req.Outcome.Failing() {
				continue
			}
			if !failing {
				b.WriteString("## Failures\n\n")
				failing = true
			}
			fmt.Fprintf(&b, "- %s **%s** in `%s` (%s): %s\n  - journal: `%s`\n  - re-run: `%s`\n", symbols[req.Outcome], req.ID, c.ID, req.Scenario, req.Detail, c.Journal, c.Rerun)
		}
	}
	return b.String()
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
	if n[Skip] == len(c.Requirements) {
		return symbols[Skip] + " skipped: " + firstReason(c)
	}
	s := fmt.Sprintf("%s %d/%d/%d/%d", mark, n[Pass], n[ExpectedFail], n[Fail]+n[UnexpectedPass], n[Skip])
	if c.RefusalToExitMillis > 0 {
		s += fmt.Sprintf(" ⏱%.1fms", c.RefusalToExitMillis)
	}
	return s
}

// firstReason is the reason of a cell's first requirement (why an all-skipped cell skipped).
func firstReason(c Cell) string {
	if len(c.Requirements) == 0 {
		return ""
	}
	return c.Requirements[0].Reason
}

// WriteMarkdown writes Markdown to path.
func (r *Report) WriteMarkdown(path string) error {
	if err := os.WriteFile(path, []byte(r.Markdown()), 0o644); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	return nil
}

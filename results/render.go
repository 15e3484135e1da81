package results

import (
	"fmt"
	"io"
	"strings"
)

// marks are the verdicts' marks in text and markdown.
var marks = map[Verdict]string{Works: "✅", WorksInPart: "🟡", Breaks: "❌", Regression: "❌", NeverVerified: "❔", RefusedByDesign: "⛔"}

// counterpart is the other side of p from the answer's subject.
func (a *Answer) counterpart(p Pair) string {
	if strings.HasPrefix(a.Subject, "client ") {
		return "operator " + p.Operator
	}
	return "client " + p.Client
}

// yesNo is the answer's one word.
func (a *Answer) yesNo() string {
	if a.Safe {
		return "yes"
	}
	return "no"
}

// WriteText writes the answer for a terminal: a line for the question, one per
// counterpart, and what a failing pair rests on.
func (a *Answer) WriteText(w io.Writer) {
	fmt.Fprintf(w, "can-i-deploy %s against %s: %s\n", a.Subject, a.Against, a.yesNo())
	for _, p := range a.Pairs {
		fmt.Fprintf(w, "  %s %s: %s — %s\n", marks[p.Verdict], a.counterpart(p), p.Verdict, p.Why)
		switch {
		case p.Verdict == Breaks || p.Verdict == Regression:
			fmt.Fprintf(w, "      first offending request: %s\n", p.Detail)
			fmt.Fprintf(w, "      run %s (%s, commit %s, %s); re-run: %s\n", p.Run.ID, p.Run.Source, shortCommit(p.Run.Commit), p.Run.At, p.Rerun)
		case p.Verdict == NeverVerified:
			fmt.Fprintf(w, "      to verify it: %s\n", p.Hint)
		case p.Run != nil:
			fmt.Fprintf(w, "      from run %s (%s, commit %s, %s)\n", p.Run.ID, p.Run.Source, shortCommit(p.Run.Commit), p.Run.At)
		}
		for _, n := range p.NotEvidence {
			fmt.Fprintf(w, "      not counted: run %s (%s, commit %s): %s\n", n.Run.ID, n.Run.Source, shortCommit(n.Run.Commit), n.Why)
		}
	}
}

// WriteMarkdown writes the answer as a job summary: the verdict, a table of the pairs, and
// the details of those that are not safe.
func (a *Answer) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "### Can I deploy %s? %s\n\nAgainst %s.\n\n| client | operator | verdict | why | run |\n|---|---|---|---|---|\n",
		a.Subject, strings.ToUpper(a.yesNo()[:1])+a.yesNo()[1:], a.Against)
	for _, p := range a.Pairs {
		run := ""
		if p.Run != nil {
			run = "`" + p.Run.ID + "`"
		}
		fmt.Fprintf(w, "| %s | %s | %s %s | %s | %s |\n", p.Client, p.Operator, marks[p.Verdict], p.Verdict, cell(p.Why), run)
	}
	for _, p := range a.Pairs {
		switch p.Verdict {
		case Breaks, Regression:
			fmt.Fprintf(w, "\n**client %s × operator %s: %s** — `%s` (%s): %s. Re-run: `%s`\n", p.Client, p.Operator, p.Verdict, p.Requirement, p.Reason, cell(p.Detail), p.Rerun)
		case NeverVerified:
			fmt.Fprintf(w, "\n**client %s × operator %s: never verified** — `%s`\n", p.Client, p.Operator, p.Hint)
		}
		for _, n := range p.NotEvidence {
			fmt.Fprintf(w, "\n_client %s × operator %s: run `%s` not counted: %s_\n", p.Client, p.Operator, n.Run.ID, cell(n.Why))
		}
	}
}

// cell escapes text for a markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

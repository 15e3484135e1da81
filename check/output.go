package check

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/report"
)

// marks of the requirement lines.
var marks = map[contract.Status]string{contract.Pass: "✅", contract.Fail: "❌", contract.Skip: "· "}

// print writes what the check found: who was judged as what, each refusal the operator
// answered, a line per requirement it judged, one line counting the rest by why (verbose: a
// line each), and the verdict.
func (r *Result) print(w io.Writer, verbose bool) {
	operatorRequests := 0
	for _, e := range r.Journal {
		if e.Class.IsOperator() {
			operatorRequests++
		}
	}
	scenario := r.Scenario
	if r.ScenarioInferred {
		scenario += ", inferred from its requests (--scenario to say)"
	}
	fmt.Fprintf(w, "\nopconform check: %s as client %s (from %s) against operator %s; judged as %s; %s, %d of them to the operator\n",
		r.Client, r.ClientVersion, r.VersionFrom, r.OperatorVersion, scenario, plural(len(r.Journal), "request"), operatorRequests)
	for _, e := range r.Journal {
		if e.Decision == contract.DecisionRefused {
			fmt.Fprintf(w, "  refused: request %d, %s %s (%s), answered %d %s: %s\n", e.Seq, e.Method, e.Path, e.Class, e.Code, orUnknown(e.Reason), orUnknown(e.Message))
		}
	}
	notJudged := map[string]int{}
	for _, f := range r.Findings {
		why := notJudgedWhy(f)
		if why != "" && !verbose {
			notJudged[why]++
			continue
		}
		line := fmt.Sprintf("  %s %-22s %s", marks[f.Status], f.Requirement, f.Status)
		switch {
		case f.Status == contract.Fail:
			line += fmt.Sprintf(" (%s): %s", f.Reason, f.Detail)
		case f.Reason == contract.NotObserved:
			line = fmt.Sprintf("  %s %-22s not observed: this command's requests cannot show it", marks[f.Status], f.Requirement)
		case f.Reason == contract.NotApplicable:
			line = fmt.Sprintf("  %s %-22s not applicable: %s", marks[f.Status], f.Requirement, f.Detail)
		case f.Status == contract.Skip:
			line = fmt.Sprintf("  %s %-22s not judged (%s): %s", marks[f.Status], f.Requirement, f.Reason, f.Detail)
		}
		fmt.Fprintln(w, line)
	}
	if n := notJudged["not observed"] + notJudged["not applicable"] + notJudged["not judged"]; n > 0 {
		var parts []string
		for _, why := range []string{"not observed", "not applicable", "not judged"} {
			if notJudged[why] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", notJudged[why], why))
			}
		}
		fmt.Fprintf(w, "  ·  and %s not judged here: %s (-v lists them)\n", plural(n, "requirement"), strings.Join(parts, ", "))
	}
	if r.Holds() {
		fmt.Fprintf(w, "✅ the contract holds for %s %s (it exited with %d)\n", r.Client, r.ClientVersion, r.ExitCode)
		return
	}
	fmt.Fprintf(w, "❌ the contract does not hold for %s %s (it exited with %d; opconform check exits with %d)\n", r.Client, r.ClientVersion, r.ExitCode, ExitBroken)
}

// notJudgedWhy is how a requirement the check did not judge is counted, "" for one it judged.
func notJudgedWhy(f contract.Finding) string {
	switch {
	case f.Status != contract.Skip:
		return ""
	case f.Reason == contract.NotObserved:
		return "not observed"
	case f.Reason == contract.NotApplicable:
		return "not applicable"
	}
	return "not judged"
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func orUnknown(s string) string {
	if s == "" {
		return "(no Status)"
	}
	return s
}

// write puts report.json, report.md and the journal (certificates by fingerprint only) in
// dir, as make conformance does.
func (r *Result) write(dir string, o contract.Observation) error {
	if err := os.MkdirAll(filepath.Join(dir, "journals"), 0o755); err != nil {
		return fmt.Errorf("writing the check's reports: %w", err)
	}
	id := fmt.Sprintf("check/operator-%s/%s-%s", r.OperatorVersion, r.Client, r.ClientVersion)
	journal := filepath.Join(dir, "journals", "check.json")
	cell := report.Cell{ID: id, Tier: "check", Client: r.Client, ClientVersion: r.ClientVersion,
		Operator: "operator-" + r.OperatorVersion, OperatorVersion: r.OperatorVersion, Journal: journal}
	for _, f := range r.Findings {
		outcome, detail := report.Judge(f, nil)
		cell.Requirements = append(cell.Requirements, report.Requirement{ID: f.Requirement, Outcome: outcome, Reason: f.Reason, Detail: detail, Scenario: f.Scenario})
	}
	rep := &report.Report{Format: report.FormatVersion, GeneratedAt: time.Now().UTC(), Source: report.SourceCheck, Cells: []report.Cell{cell}}
	rep.Sort()
	if err := rep.WriteJSON(filepath.Join(dir, "report.json")); err != nil {
		return err
	}
	if err := rep.WriteHTML(filepath.Join(dir, "report.html")); err != nil {
		return err
	}
	if err := rep.WriteMarkdown(filepath.Join(dir, "report.md")); err != nil {
		return err
	}
	return report.WriteJournal(journal, id, []contract.Observation{o}, r.Journal)
}

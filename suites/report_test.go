package suites

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/report"
)

// The conformance report is built once, on the first process, from the findings every spec
// reported; it also checks that every selected cell ran every requirement spec.
var _ = ReportAfterSuite("conformance report", func(r Report) {
	rep := &report.Report{Format: report.FormatVersion, GeneratedAt: time.Now().UTC(), Source: report.SourceConformance, Commit: report.CommitOf(repoRoot)}
	byCell := map[string]*report.Cell{}
	for _, spec := range r.SpecReports {
		for _, e := range spec.ReportEntries {
			if e.Name != findingEntry {
				continue
			}
			// entries of this process hold the value; those of other processes its JSON
			sf, local := e.Value.GetRawValue().(specFinding)
			if !local {
				if err := json.Unmarshal([]byte(e.Value.AsJSON), &sf); err != nil {
					Fail(fmt.Sprintf("decoding a finding of %q: %v", spec.FullText(), err))
				}
			}
			c, ok := byCell[sf.Cell.ID]
			if !ok {
				c = &sf.Cell
				byCell[c.ID] = c
			}
			c.Requirements = append(c.Requirements, sf.Requirement)
		}
	}
	// every requirement spec that ran reported a finding; without a filter, every spec of
	// every selected cell ran
	filtered := r.SuiteConfig.FocusStrings != nil || r.SuiteConfig.LabelFilter != "" || len(r.SuiteConfig.FocusFiles) > 0
	ran := map[string]int{}
	for _, spec := range r.SpecReports {
		// Conformance > [a kind operator's group >] the cell > the requirement
		texts := spec.ContainerHierarchyTexts
		if spec.LeafNodeType == types.NodeTypeIt && spec.NumAttempts > 0 && len(texts) >= 2 && texts[0] == "Conformance" {
			ran[texts[len(texts)-1]]++
		}
	}
	for _, cell := range cells {
		excluded := excludedByGates(cell)
		want := len(contract.Requirements()) - len(excluded)
		c, ok := byCell[cell.ID]
		got := 0
		if ok {
			got = len(c.Requirements)
		}
		switch {
		case got < ran[cell.ID]:
			rep.Missing = append(rep.Missing, fmt.Sprintf("%s: %d requirement specs ran, %d reported a finding", cell.ID, ran[cell.ID], got))
		case !filtered && !r.SuiteConfig.DryRun && got < want:
			rep.Missing = append(rep.Missing, fmt.Sprintf("%s: ran %d of %d requirement specs", cell.ID, got, want))
		}
		if !ok {
			continue
		}
		for _, req := range contract.Requirements() {
			if filtered {
				break // a filtered run reports only what ran
			}
			if gate, ok := excluded[req.ID]; ok {
				c.Requirements = append(c.Requirements, report.Requirement{ID: req.ID, Outcome: report.Skip, Reason: contract.NotApplicable, Detail: "its version gates exclude this cell: " + gate})
			}
		}
		rep.Cells = append(rep.Cells, *c)
	}
	rep.Sort()
	for _, write := range []func() error{
		func() error { return rep.WriteJSON(filepath.Join(artifacts, "report.json")) },
		func() error { return rep.WriteMarkdown(filepath.Join(artifacts, "report.md")) },
		func() error { return rep.WriteHTML(filepath.Join(artifacts, "report.html")) },
	} {
		if err := write(); err != nil {
			Fail(err.Error())
		}
	}
	counts := rep.Counts()
	fmt.Fprintf(GinkgoWriter, "conformance report: %d cells, %d pass, %d fail, %d expected-fail, %d unexpected-pass, %d skip; %s\n",
		len(rep.Cells), counts[report.Pass], counts[report.Fail], counts[report.ExpectedFail], counts[report.UnexpectedPass], counts[report.Skip], filepath.Join(artifacts, "report.md"))
	if len(rep.Missing) > 0 && r.SuiteSucceeded {
		Fail(fmt.Sprintf("cells ran fewer specs than they should: %v", rep.Missing))
	}
})

package report

import (
	"fmt"
	"slices"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/matrix"
)

// Comparison is how the cells of one tier fared against the same cells (operator and
// client) of the fake tier.
type Comparison struct {
	// Compared counts the cells both ran.
	Compared int
	// Narrower are differences that follow from what the other tier can see: the fake plays
	// the whole API and journals the core reads too, a cluster's operator sees only its own
	// group's requests, and golden journals are recorded against the fake. A requirement
	// the fake passed may there be not observed, or have no golden journal; and a journal
	// that dropped entries holds different ones on different tiers.
	Narrower []string
	// Differences are every other difference: the tiers disagree.
	Differences []string
	// ByTier counts the compared cells by tier.
	ByTier map[string]int
}

// CompareTiers compares the cells of other's tiers but fake with fake's fake-tier cells,
// cell by cell and requirement by requirement (one report may hold both: make test's).
// Cells that did not run in one of them are left out.
func CompareTiers(fake, other *Report) Comparison {
	c := Comparison{ByTier: map[string]int{}}
	base := map[string]Cell{}
	for _, cell := range fake.Cells {
		if cell.Tier == matrix.TierFake && cell.NotRunHere() == "" {
			base[cell.Operator+"/"+cell.Client] = cell
		}
	}
	for _, cell := range other.Cells {
		f, ok := base[cell.Operator+"/"+cell.Client]
		if !ok || cell.Tier == matrix.TierFake || cell.NotRunHere() != "" {
			continue
		}
		c.Compared++
		c.ByTier[cell.Tier]++
		for _, want := range f.Requirements {
			i := slices.IndexFunc(cell.Requirements, func(r Requirement) bool { return r.ID == want.ID })
			if i < 0 {
				c.Differences = append(c.Differences, fmt.Sprintf("%s %s: %s on the fake tier, not reported here", cell.ID, want.ID, want.Outcome))
				continue
			}
			got := cell.Requirements[i]
			if got.Outcome == want.Outcome && got.Reason == want.Reason {
				continue
			}
			line := fmt.Sprintf("%s %s: %s on the fake tier, %s here", cell.ID, want.ID, describe(want), describe(got))
			if got.Detail != "" {
				line += ": " + got.Detail
			}
			partial := want.ID != contract.ReqJournalComplete && (droppedEntries(f) || droppedEntries(cell))
			switch {
			case want.Outcome == Pass && got.Outcome == Skip && (got.Reason == contract.NotObserved || got.Reason == contract.NoGoldenJournal):
				c.Narrower = append(c.Narrower, line)
			case partial:
				// what a journal that dropped entries still holds depends on what else the
				// tier journals: such a cell is judged by JOURNAL-COMPLETE alone
				c.Narrower = append(c.Narrower, line+" (its journal dropped entries)")
			default:
				c.Differences = append(c.Differences, line)
			}
		}
	}
	return c
}

func describe(r Requirement) string {
	if r.Reason == "" {
		return string(r.Outcome)
	}
	return string(r.Outcome) + " (" + r.Reason + ")"
}

// droppedEntries reports whether the cell's journal dropped entries (JOURNAL-COMPLETE failed,
// as expected or not, for journal-dropped).
func droppedEntries(c Cell) bool {
	return slices.ContainsFunc(c.Requirements, func(r Requirement) bool {
		return r.ID == contract.ReqJournalComplete && r.Reason == "journal-dropped"
	})
}

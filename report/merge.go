package report

import (
	"fmt"
	"slices"
	"time"
)

// Merge joins the reports of several shards into one. A cell reported by more than one
// shard is kept once when the shards agree; where they disagree on a requirement, the merged
// requirement fails and says what each shard found. want lists the cells the run should
// have had: any that no shard reported is Missing, as are the shards' own missing cells.
func Merge(want []string, shards map[string]*Report) *Report {
	out := &Report{Format: FormatVersion, GeneratedAt: time.Now().UTC()}
	byID := map[string]int{}
	from := map[string]string{}
	names := make([]string, 0, len(shards))
	for name := range shards {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		shard := shards[name]
		out.Shards = append(out.Shards, name)
		out.Missing = append(out.Missing, shard.Missing...)
		for _, c := range shard.Cells {
			i, seen := byID[c.ID]
			if !seen {
				byID[c.ID] = len(out.Cells)
				from[c.ID] = name
				out.Cells = append(out.Cells, c)
				continue
			}
			out.Cells[i] = reconcile(out.Cells[i], from[c.ID], c, name)
		}
	}
	for _, id := range want {
		if _, ok := byID[id]; !ok {
			out.Missing = append(out.Missing, id+": no shard reported it")
		}
	}
	slices.Sort(out.Missing)
	out.Missing = slices.Compact(out.Missing)
	out.Sort()
	return out
}

// reconcile merges two shards' results for one cell.
func reconcile(a Cell, aShard string, b Cell, bShard string) Cell {
	out := a
	out.Requirements = nil
	index := map[string]Requirement{}
	for _, r := range b.Requirements {
		index[string(r.ID)] = r
	}
	for _, ra := range a.Requirements {
		rb, ok := index[string(ra.ID)]
		delete(index, string(ra.ID))
		switch {
		case !ok || rb.Outcome == ra.Outcome:
			out.Requirements = append(out.Requirements, ra)
		default:
			out.Requirements = append(out.Requirements, Requirement{
				ID: ra.ID, Outcome: Fail, Reason: "shards-disagree", Scenario: ra.Scenario,
				Detail: fmt.Sprintf("shard %s found %s (%s), shard %s found %s (%s)", aShard, ra.Outcome, ra.Reason, bShard, rb.Outcome, rb.Reason),
			})
		}
	}
	for _, rb := range b.Requirements {
		if _, only := index[string(rb.ID)]; only {
			out.Requirements = append(out.Requirements, rb)
		}
	}
	out.RefusalToExitMillis = max(a.RefusalToExitMillis, b.RefusalToExitMillis)
	return out
}

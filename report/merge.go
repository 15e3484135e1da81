package report

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Expected is a cell a merged run must hold, and the shard that should have reported it.
type Expected struct {
	Cell  string
	Shard string
}

// ShardState is what a merge found of one shard of the run: how many of its cells were
// reported and which of them fail.
type ShardState struct {
	Name     string   `json:"name"`
	Cells    int      `json:"cells"`
	Reported int      `json:"reported"`
	Failing  []string `json:"failing,omitempty"`
}

// Problem says what is wrong with the shard, or "" when it reported every cell and none fails.
func (s ShardState) Problem() string {
	switch {
	case s.Reported == 0:
		return fmt.Sprintf("missing: none of its %d cells was reported (no report of it among the merged ones)", s.Cells)
	case s.Reported < s.Cells:
		return fmt.Sprintf("incomplete: %d of its %d cells reported", s.Reported, s.Cells)
	case len(s.Failing) > 0:
		return fmt.Sprintf("failing: %s", strings.Join(s.Failing, ", "))
	}
	return ""
}

// Merge joins the reports of several shards into one. A cell reported by more than one
// shard is kept once when the shards agree; where they disagree on a requirement, the merged
// requirement fails and says what each shard found. want lists the cells the run should
// have had, each with its shard: any cell that no shard reported is Missing, as are the
// shards' own missing cells, and each shard's state is in ShardStates.
func Merge(want []Expected, shards map[string]*Report) *Report {
	out := &Report{Format: FormatVersion, GeneratedAt: time.Now().UTC(), Source: SourceMerge}
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
		// the run's commit: the shards', where they agree
		switch {
		case out.Commit == "":
			out.Commit = shard.Commit
		case shard.Commit != "" && shard.Commit != out.Commit:
			out.Commit = "mixed"
		}
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
	state := map[string]int{} // shard name → index in ShardStates
	for _, w := range want {
		j, seen := state[w.Shard]
		if !seen {
			j = len(out.ShardStates)
			state[w.Shard] = j
			out.ShardStates = append(out.ShardStates, ShardState{Name: w.Shard})
		}
		s := &out.ShardStates[j]
		s.Cells++
		i, ok := byID[w.Cell]
		switch {
		case !ok:
			out.Missing = append(out.Missing, fmt.Sprintf("%s: no shard reported it (its shard: %s)", w.Cell, w.Shard))
		case out.Cells[i].Failing():
			s.Reported++
			s.Failing = append(s.Failing, w.Cell)
		default:
			s.Reported++
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

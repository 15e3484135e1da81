package contract

import (
	"fmt"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// The compatibility requirements (old and new operators, unknown headers) and the journals (complete, golden).

func checkCompat(s Subject, o Observation) (bool, *violation) {
	switch o.Kind {
	case ScenarioStatus, ScenarioLs:
	case ScenarioExec:
		if s.OperatorVersion.LessThan(semver.MustParse("3.46.0-0")) {
			return false, nil // operators before client certificates cannot serve exec to new clients
		}
	default:
		return false, nil
	}
	if o.Err != "" {
		return true, &violation{"failed", fmt.Sprintf("%s failed: %s", o.Kind, o.Err)}
	}
	return true, nil
}

// checkProbe judges the operator probe: a request served bare must be served with the
// contract's headers and an unknown one too.
func checkProbe(o Observation, reason string) (bool, *violation) {
	for _, p := range o.Probes {
		if p.refusedForHeaders() {
			return true, &violation{reason, fmt.Sprintf("GET %s was answered %d without the contract's headers, %d with them and one the operator cannot know", p.Path, p.Codes[0], p.Codes[1])}
		}
	}
	return len(o.Probes) > 0, nil
}

// checkOldOperator judges the clients' scenarios and the operator probe.
func checkOldOperator(s Subject, o Observation) (bool, *violation) {
	if o.Kind == ScenarioProbe {
		return checkProbe(o, "failed")
	}
	return checkCompat(s, o)
}

// checkUnknownHeaders is judged by the operator probe alone: how the operator answers with
// and without headers it does not know, whatever it says in its refusal.
func checkUnknownHeaders(s Subject, o Observation) (bool, *violation) {
	if o.Kind != ScenarioProbe {
		return false, nil
	}
	return checkProbe(o, "refused-unknown-header")
}

func checkGolden(s Subject, observations []Observation) Finding {
	if s.Golden == nil {
		note := s.GoldenNote
		if note == "" {
			note = "no golden journal for this client version; record one with make add-client"
		}
		return Finding{Status: Skip, Reason: NoGoldenJournal, Detail: note}
	}
	have := Golden(s.ClientVersion.Original(), s.OperatorVersion.Original(), s.Headers, observations)
	if diff := have.Diff(*s.Golden); len(diff) > 0 {
		return Finding{Status: Fail, Reason: "drift", Detail: strings.Join(diff, "; "), Scenario: "golden"}
	}
	return Finding{Status: Pass}
}

// concurrentRuns splits requests, in the order they were sent, into runs of requests that
// were under way at once: each starts before an earlier one of its run was answered.
func concurrentRuns(sent []Entry) [][]Entry {
	var runs [][]Entry
	var end time.Time
	for _, e := range sent {
		if len(runs) > 0 && e.Time.Before(end) {
			runs[len(runs)-1] = append(runs[len(runs)-1], e)
		} else {
			runs = append(runs, []Entry{e})
		}
		if done := e.Time.Add(e.Duration); done.After(end) {
			end = done
		}
	}
	return runs
}

// unmatched is the first entry of window not used yet with want's method and path, or -1.
func unmatched(window []Entry, used []bool, want Entry) int {
	for k, e := range window {
		if !used[k] && e.Method == want.Method && e.Path == want.Path {
			return k
		}
	}
	return -1
}

// checkJournalComplete compares what the client sent, as the harness recorded it on the
// client's side, with what the operator journalled: every operator request, in order, with
// the same method, path and contract headers (certificates by fingerprint).
func checkJournalComplete(s Subject, o Observation) (bool, *violation) {
	if o.Sent == nil {
		return false, nil
	}
	if o.Dropped > 0 {
		return true, &violation{"journal-dropped", fmt.Sprintf("the operator's journal dropped %d entries during this scenario: it is not judged as if it were "+
			"whole (raise the fake operator's --journal-capacity)", o.Dropped)}
	}
	// a request that got no answer (a timeout, a broken connection) may never have
	// reached the operator: the harness cannot hold its journal to it
	sent := where(o.Sent, func(e Entry) bool { return e.Class.IsOperator() && e.Code != 0 })
	seen := operatorEntries(o)
	pos := 0
	for _, group := range concurrentRuns(sent) {
		// requests that were under way at once reach the operator in any order: a run of
		// them is matched with as many journal entries, whatever their order there
		window := seen[pos:min(pos+len(group), len(seen))]
		used := make([]bool, len(window))
		for j, want := range group {
			k := unmatched(window, used, want)
			if k < 0 {
				i := pos + j
				got := "nothing"
				if i < len(seen) {
					got = seen[i].Method + " " + seen[i].Path
				}
				return true, &violation{"missing-request", fmt.Sprintf("the client's request %d of %d, %s %s (%s), is not in the operator's journal (it has %s there)", i+1, len(sent), want.Method, want.Path, want.Class, got)}
			}
			used[k] = true
			for _, name := range s.Headers.Contract() {
				if a, b := strings.Join(values(want, name), ","), strings.Join(values(window[k], name), ","); a != b {
					return true, &violation{"altered", fmt.Sprintf("%s %s left the client with %s %q, the operator's journal has %q", want.Method, want.Path, name, a, b)}
				}
			}
		}
		pos += len(group)
	}
	if len(seen) > len(sent) {
		extra := seen[len(sent)]
		return true, &violation{"extra-request", fmt.Sprintf("the operator's journal has %d operator requests, the client sent %d; the first it did not send: %s "+
			"%s", len(seen), len(sent), extra.Method, extra.Path)}
	}
	return len(sent) > 0, nil
}

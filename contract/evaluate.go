package contract

import (
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Subject is the cell a journal is judged for.
type Subject struct {
	ClientVersion   *semver.Version
	OperatorVersion *semver.Version
	// MinClientVersion is the operator's minimum client version, nil when it sets none.
	MinClientVersion *semver.Version
	// Headers are the header names of the cell's contract.
	Headers HeaderNames
	// Gates override requirements' version gates, by requirement.
	Gates map[RequirementID]Gate
	// Golden is the client version's golden journal, when the cell's operator is the one it
	// was recorded against; nil otherwise, and GoldenNote says why (default: there is none).
	Golden     *GoldenJournal
	GoldenNote string
	// FailEarlyExitCode is the exit code the client must stop with after a refusal; 0 is
	// not checked.
	FailEarlyExitCode int
	// Identity is what the client reads of its user and machine, when the harness knows it
	// (the identity it gave the reference client, this machine's for a binary it runs): a
	// header the version's rules leave out for that value is not missing. Nil: every header
	// the version sends is required.
	Identity *Identity
}

// Reasons of a requirement that was not judged in a cell.
const (
	// NotApplicable: the cell's versions exclude the requirement.
	NotApplicable = "not-applicable"
	// NotObserved: no scenario of the cell could show it.
	NotObserved = "not-observed"
	// NoGoldenJournal: there is no golden journal to compare the client with.
	NoGoldenJournal = "no-golden-journal"
)

// Gated returns r with the subject's contract's gate override applied, if it has one.
func (s Subject) Gated(r Requirement) Requirement {
	if g, ok := s.Gates[r.ID]; ok {
		r.Clients, r.Operators = g.Clients, g.Operators
	}
	return r
}

// Gate is a requirement's version gate: SemVer constraints on client and operator versions.
type Gate struct {
	Clients   string `json:"clients,omitempty"`
	Operators string `json:"operators,omitempty"`
}

// Scenario kinds a cell runs.
const (
	ScenarioStatus    = "status"
	ScenarioLs        = "ls"
	ScenarioExec      = "exec"
	ScenarioExecStale = "exec-stale"
	ScenarioFixture   = "fixture"
	ScenarioTakeover  = "takeover"
	// ScenarioProbe is the harness's probe of the operator, independent of any client.
	ScenarioProbe = "probe"
)

// Observation is one scenario of a cell: what reached the operator, and how the client
// ended.
type Observation struct {
	// Kind is one of the Scenario constants; Name is unique in the cell (fixture/expired).
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Entries are the journal entries of the scenario, in order.
	Entries []Entry `json:"-"`
	// Err is the client's error, "" when it succeeded.
	Err string `json:"err,omitempty"`
	// Output is all the client wrote of its error (the whole of an external client's standard
	// error, the reference client's error message), bounded: where a refusal it passes on is
	// looked for. It stays out of reports.
	Output string `json:"-"`
	// Injected is true when the harness, not the client, chose the certificate (fixtures).
	Injected bool `json:"injected,omitempty"`
	// ExpectRefusal is true for fixtures an operator must refuse (all but "valid").
	ExpectRefusal bool `json:"expectRefusal,omitempty"`
	// ClientUserID is the user id of the client's own key, "" when unknown.
	ClientUserID string `json:"clientUserID,omitempty"`
	// Sent is the harness's own record of what the client sent, taken on the client's side
	// of the wire, each with the code it was answered with (0: none came); nil when the
	// harness has none (its own probes).
	Sent []Entry `json:"sent,omitempty"`
	// Dropped is how many entries the operator's journal could not keep during the scenario.
	Dropped uint64 `json:"dropped,omitempty"`
	// ExitCode is the client's exit code, nil when it ran no process of its own.
	ExitCode *int `json:"exitCode,omitempty"`
	// Probes are the operator probe's answers (ScenarioProbe only).
	Probes []ProbeAnswer `json:"probes,omitempty"`
}

// ProbeAnswer is how the operator answered one request of the probe: bare (Codes[0]), and
// with every contract header and one it cannot know (Codes[1]); 0 is no readable answer.
type ProbeAnswer struct {
	Path    string `json:"path"`
	Connect bool   `json:"connect,omitempty"`
	Codes   [2]int `json:"codes"`
}

// refusedForHeaders reports whether the request was served bare and not with the headers.
func (p ProbeAnswer) refusedForHeaders() bool {
	served := func(code int) bool { return code/100 == 2 || code == 101 }
	return served(p.Codes[0]) && !served(p.Codes[1])
}

// Status of a finding.
type Status string

// Finding statuses. A report adds expected-fail and unexpected-pass (see package report).
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Finding is the verdict on one requirement for one cell.
type Finding struct {
	Requirement RequirementID `json:"requirement"`
	Status      Status        `json:"status"`
	// Reason is short and machine-readable (missing, not-semver, CertificateExpired, …).
	Reason string `json:"reason,omitempty"`
	// Detail is one human sentence; Scenario names where it was found.
	Detail   string `json:"detail,omitempty"`
	Scenario string `json:"scenario,omitempty"`
	// PreventedBy is, for a requirement not observed because a scenario ended early, the
	// requirement that failed first: the root cause the report groups it under.
	PreventedBy RequirementID `json:"preventedBy,omitempty"`
}

// violation is what a check found wrong in one scenario.
type violation struct {
	reason, detail string
}

// check judges one scenario: observed says whether the scenario could show the
// requirement at all.
type check func(s Subject, o Observation) (observed bool, v *violation)

// Evaluate judges a cell's observations against every requirement, in report order: a
// requirement that does not apply is skipped (not-applicable), one no scenario could show
// is skipped (not-observed), otherwise the first violation fails it.
func Evaluate(s Subject, observations []Observation) ([]Finding, error) {
	s.Headers = s.Headers.OrDefault()
	var out []Finding
	for _, r := range Requirements() {
		r = s.Gated(r)
		applies, err := r.Applies(s.ClientVersion, s.OperatorVersion, s.MinClientVersion)
		if err != nil {
			return nil, err
		}
		f := Finding{Requirement: r.ID, Status: Skip, Reason: NotApplicable, Detail: "its version gates exclude this cell: " + r.GateText()}
		if applies {
			if r.judgeCell != nil {
				f = r.judgeCell(s, observations)
			} else {
				f = judge(r.judge, s, clientsOnly(r, observations))
			}
			f.Requirement = r.ID
		}
		out = append(out, f)
	}
	rootCauseFirst(out, observations)
	return out, nil
}

// rootCauseFirst marks the requirements that were not observed in a cell where a scenario
// ended early with an unexpected error and another requirement failed: they were kept from
// being judged, and are reported under the first failure, not as passes or failures of
// their own.
func rootCauseFirst(findings []Finding, observations []Observation) {
	first := slices.IndexFunc(findings, func(f Finding) bool { return f.Status == Fail })
	ended := slices.IndexFunc(observations, func(o Observation) bool {
		return o.Err != "" && !o.ExpectRefusal && o.Kind != ScenarioTakeover
	})
	if first < 0 || ended < 0 {
		return
	}
	cause, o := findings[first], observations[ended]
	for i, f := range findings {
		if f.Status == Skip && f.Reason == NotObserved {
			findings[i].PreventedBy = cause.Requirement
			findings[i].Detail = fmt.Sprintf("not observed: scenario %s ended early (%s) after %s failed", o.Name, firstLine(o.Err), cause.Requirement)
		}
	}
}

// firstLine is the first line of s, at most 160 bytes of it.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// clientsOnly leaves the operator probe out of the observations of a requirement it is
// not judged for.
func clientsOnly(r Requirement, observations []Observation) []Observation {
	if r.Probe {
		return observations
	}
	return slices.DeleteFunc(slices.Clone(observations), func(o Observation) bool { return o.Kind == ScenarioProbe })
}

func judge(c check, s Subject, observations []Observation) Finding {
	observed := false
	for _, o := range observations {
		seen, v := c(s, o)
		observed = observed || seen
		if v != nil {
			return Finding{Status: Fail, Reason: v.reason, Detail: v.detail, Scenario: o.Name}
		}
	}
	if !observed {
		return Finding{Status: Skip, Reason: NotObserved, Detail: "no scenario of this cell could show it"}
	}
	return Finding{Status: Pass}
}

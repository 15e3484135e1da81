package results

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/report"
)

// Verdict is can-i-deploy's answer for one client and operator pair.
type Verdict string

// Verdicts. Works and WorksInPart are safe; the others are not.
const (
	Works       Verdict = "works"
	WorksInPart Verdict = "works in part"
	Breaks      Verdict = "breaks"
	// Regression breaks where an earlier run passed.
	Regression      Verdict = "regression"
	NeverVerified   Verdict = "never verified"
	RefusedByDesign Verdict = "refused by design"
)

// Safe reports whether the verdict lets the pair ship.
func (v Verdict) Safe() bool { return v == Works || v == WorksInPart }

// Query is the question: may Client (or Operator) ship, against Counterparts, or what
// Environment runs, or — neither given — what the field runs (every environment's
// operator, or every released client).
type Query struct {
	Client, Operator string
	Counterparts     []string
	Environment      string
}

// Pair is the answer for one client version and one operator version.
type Pair struct {
	Client   string  `json:"client"`
	Operator string  `json:"operator"`
	Verdict  Verdict `json:"verdict"`
	// Why says what the verdict rests on, in a line.
	Why string `json:"why"`
	// Run is the run the verdict is read from (none for never verified).
	Run *RunRef `json:"run,omitempty"`
	// Breaks and Regression: the requirement, its reason, the first offending request (the
	// finding's detail), the cell and the command that re-runs it.
	Requirement string `json:"requirement,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Detail      string `json:"detail,omitempty"`
	Cell        string `json:"cell,omitempty"`
	Rerun       string `json:"rerun,omitempty"`
	// PassedIn is, for a regression, the latest earlier run where the pair passed.
	PassedIn *RunRef `json:"passedIn,omitempty"`
	// Hint is, for never verified, the command that would produce a result.
	Hint string `json:"hint,omitempty"`
	// NotEvidence are the pair's runs that were not counted, newest first, each with why.
	NotEvidence []Ignored `json:"notEvidence,omitempty"`
}

// RunRef names a run.
type RunRef struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Commit string `json:"commit"`
	At     string `json:"at"`
}

// Ignored is a run whose results did not count, and why.
type Ignored struct {
	Run RunRef `json:"run"`
	Why string `json:"why"`
}

// Answer is can-i-deploy's whole answer.
type Answer struct {
	// Subject is what was asked about: "client 3.251.0" or "operator 3.240.0".
	Subject string `json:"subject"`
	// Against says where the counterparts came from.
	Against string `json:"against"`
	Safe    bool   `json:"safe"`
	Pairs   []Pair `json:"pairs"`
}

// CanIDeploy answers q from the latest counted results of each pair; m (may be nil) names
// the matrix entries of the commands never-verified pairs are given.
func (s *Store) CanIDeploy(ctx context.Context, q Query, m *matrix.Matrix) (*Answer, error) {
	if (q.Client == "") == (q.Operator == "") {
		return nil, errors.New("can-i-deploy: give --client or --operator (one of them)")
	}
	counterparts, against, err := s.counterparts(ctx, q)
	if err != nil {
		return nil, err
	}
	a := &Answer{Against: against, Safe: true}
	if q.Client != "" {
		a.Subject = "client " + q.Client
	} else {
		a.Subject = "operator " + q.Operator
	}
	for _, other := range counterparts {
		client, operator := q.Client, other
		if q.Operator != "" {
			client, operator = other, q.Operator
		}
		p, err := s.pair(ctx, client, operator, m)
		if err != nil {
			return nil, err
		}
		a.Safe = a.Safe && p.Verdict.Safe()
		a.Pairs = append(a.Pairs, p)
	}
	return a, nil
}

// counterparts are the versions the query's subject meets, and where they came from.
func (s *Store) counterparts(ctx context.Context, q Query) ([]string, string, error) {
	if len(q.Counterparts) > 0 {
		if q.Environment != "" {
			return nil, "", errors.New("can-i-deploy: give the counterparts or --to-environment, not both")
		}
		return q.Counterparts, "the versions given", nil
	}
	if q.Operator != "" {
		if q.Environment != "" {
			return nil, "", errors.New("can-i-deploy --operator: --to-environment names where operators run; give --clients, or none for every released client")
		}
		released, err := s.Releases(ctx)
		if err != nil {
			return nil, "", err
		}
		if len(released) == 0 {
			return nil, "", errors.New("can-i-deploy --operator: no client release is recorded (opconform results record-release --client VERSION); or name them with --clients")
		}
		return released, "every released client", nil
	}
	if q.Environment != "" {
		v, err := s.Deployed(ctx, q.Environment)
		if err != nil {
			return nil, "", err
		}
		if v == "" {
			return nil, "", fmt.Errorf("can-i-deploy --to-environment %s: no operator deployment to %s is recorded (opconform results record-deployment --operator VERSION --environment %s)",
				q.Environment, q.Environment, q.Environment)
		}
		return []string{v}, "environment " + q.Environment, nil
	}
	envs, err := s.Environments(ctx)
	if err != nil {
		return nil, "", err
	}
	if len(envs) == 0 {
		return nil, "", errors.New("can-i-deploy --client: no operator deployment is recorded (opconform results record-deployment); or name operators with --operators or an environment with --to-environment")
	}
	var out, names []string
	for env, v := range envs {
		names = append(names, env)
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	slices.Sort(names)
	return out, "every environment (" + strings.Join(names, ", ") + ")", nil
}

// storedCell is a released cell of a pair in one run.
type storedCell struct {
	run, id, tier, verdict, why, rerun string
	no                                 int
}

// pair judges one pair from its runs, newest first.
func (s *Store) pair(ctx context.Context, client, operator string, m *matrix.Matrix) (Pair, error) {
	p := Pair{Client: client, Operator: operator}
	runs, cells, err := s.pairRuns(ctx, client, operator)
	if err != nil {
		return p, err
	}
	var counted []Run
	for _, r := range runs {
		if ok, why := r.Evidence(); !ok {
			if len(counted) == 0 {
				p.NotEvidence = append(p.NotEvidence, Ignored{Run: ref(r), Why: why})
			}
			continue
		}
		ran := slices.ContainsFunc(cells[r.ID], func(c storedCell) bool { return c.verdict != string(report.NotRunHere) })
		if !ran {
			if len(counted) == 0 {
				p.NotEvidence = append(p.NotEvidence, Ignored{Run: ref(r), Why: "its cells of this pair did not run there (" + cells[r.ID][0].why + ")"})
			}
			continue
		}
		counted = append(counted, r)
	}
	if len(counted) == 0 {
		p.Verdict, p.Hint = NeverVerified, Hint(m, client, operator)
		p.Why = "no counted result of this pair"
		if len(p.NotEvidence) > 0 {
			p.Why += fmt.Sprintf(" (%d run(s) not counted, below)", len(p.NotEvidence))
		}
		return p, nil
	}
	latest := counted[0]
	p.Run = refPtr(latest)
	broken := firstBroken(cells[latest.ID])
	if broken == nil {
		p.Verdict, p.Why = settled(cells[latest.ID])
		return p, nil
	}
	p.Verdict, p.Cell, p.Rerun = Breaks, broken.id, broken.rerun
	if err := s.firstFailure(ctx, latest.ID, *broken, &p); err != nil {
		return p, err
	}
	p.Why = fmt.Sprintf("%s (%s) in %s", p.Requirement, p.Reason, p.Cell)
	for _, earlier := range counted[1:] {
		if firstBroken(cells[earlier.ID]) == nil {
			p.Verdict, p.PassedIn = Regression, refPtr(earlier)
			p.Why += fmt.Sprintf("; it passed in run %s (%s, commit %s)", earlier.Short(), earlier.Source, shortCommit(earlier.Commit))
			break
		}
	}
	return p, nil
}

// pairRuns are the runs with released cells of the pair, newest first, and those cells.
func (s *Store) pairRuns(ctx context.Context, client, operator string) ([]Run, map[string][]storedCell, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT r.id, r.source, r.commit_sha, r.generated_at, r.cells, r.controls, r.caught, r.missed,
			c.cell_no, c.cell_id, c.tier || CASE WHEN c.kubernetes = '' THEN '' ELSE ' ' || c.kubernetes END, c.verdict, c.why, c.rerun
		FROM cells c JOIN runs r ON r.id = c.run_id
		WHERE c.client_version = ? AND c.operator_version = ? AND c.control = ''
		ORDER BY r.generated_at DESC, r.id, c.cell_no`), client, operator)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the results of client %s with operator %s: %w", client, operator, err)
	}
	defer rows.Close()
	var runs []Run
	cells := map[string][]storedCell{}
	for rows.Next() {
		var r Run
		var at, missed string
		var c storedCell
		if err := rows.Scan(&r.ID, &r.Source, &r.Commit, &at, &r.Cells, &r.Controls, &r.Caught, &missed, &c.no, &c.id, &c.tier, &c.verdict, &c.why, &c.rerun); err != nil {
			return nil, nil, fmt.Errorf("reading the results of client %s with operator %s: %w", client, operator, err)
		}
		c.run = r.ID
		if _, seen := cells[r.ID]; !seen {
			r.GeneratedAt = parseStamp(at)
			if missed != "" {
				r.Missed = strings.Split(missed, "\n")
			}
			runs = append(runs, r)
		}
		cells[r.ID] = append(cells[r.ID], c)
	}
	return runs, cells, rows.Err()
}

// firstBroken is the first cell that breaks, or nil.
func firstBroken(cells []storedCell) *storedCell {
	for i, c := range cells {
		if c.verdict == string(report.Breaks) {
			return &cells[i]
		}
	}
	return nil
}

// settled is the verdict of cells none of which breaks: refused by design when every cell
// that ran was refused for its version, works in part when a command failed, else works.
func settled(cells []storedCell) (Verdict, string) {
	var ran, refused, inPart []storedCell
	for _, c := range cells {
		if c.verdict == string(report.NotRunHere) {
			continue
		}
		ran = append(ran, c)
		switch c.verdict {
		case string(report.RefusedByDesign):
			refused = append(refused, c)
		case string(report.WorksInPart):
			inPart = append(inPart, c)
		}
	}
	switch {
	case len(refused) == len(ran):
		return RefusedByDesign, refused[0].why
	case len(inPart) > 0:
		return WorksInPart, fmt.Sprintf("%d of %d cells: %s", len(inPart), len(ran), inPart[0].why)
	}
	var tiers []string
	for _, c := range ran {
		if !slices.Contains(tiers, c.tier) {
			tiers = append(tiers, c.tier)
		}
	}
	why := fmt.Sprintf("%d cells (%s)", len(ran), strings.Join(tiers, ", "))
	if len(refused) > 0 {
		why += fmt.Sprintf("; refused by design where %s (%s)", refused[0].id, refused[0].why)
	}
	return Works, why
}

// firstFailure fills in the first failing requirement of a cell, in the contract's order.
func (s *Store) firstFailure(ctx context.Context, run string, cell storedCell, p *Pair) error {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT requirement, reason, detail FROM outcomes
		WHERE run_id = ? AND cell_no = ? AND outcome IN (?, ?)`), run, cell.no, string(report.Fail), string(report.UnexpectedPass))
	if err != nil {
		return fmt.Errorf("reading the failures of %s: %w", cell.id, err)
	}
	defer rows.Close()
	order := map[string]int{}
	for i, r := range contract.Requirements() {
		order[string(r.ID)] = i
	}
	best := -1
	for rows.Next() {
		var id, reason, detail string
		if err := rows.Scan(&id, &reason, &detail); err != nil {
			return fmt.Errorf("reading the failures of %s: %w", cell.id, err)
		}
		if i, known := order[id]; best < 0 || (known && i < best) {
			best, p.Requirement, p.Reason, p.Detail = i, id, reason, detail
		}
	}
	return rows.Err()
}

func ref(r Run) RunRef {
	return RunRef{ID: r.Short(), Source: r.Source, Commit: r.Commit, At: stamp(r.GeneratedAt)}
}

func refPtr(r Run) *RunRef {
	v := ref(r)
	return &v
}

// shortCommit is a commit as a line shows it: 12 hex digits, and "-dirty" when the work
// tree had changes.
func shortCommit(c string) string {
	if c == "" {
		return "unknown"
	}
	sha, dirty := strings.CutSuffix(c, "-dirty")
	if len(sha) > 12 {
		sha = sha[:12]
	}
	if dirty {
		sha += "-dirty"
	}
	return sha
}

// Hint is the command that would give client and operator a counted result: a
// `make conformance` that runs the pair's cells with negative controls beside them (every
// client against the operator, or the whole matrix), after adding a version the matrix
// lacks; then recording its report.
func Hint(m *matrix.Matrix, client, operator string) string {
	record := "; then opconform results record _artifacts/report.json"
	if m == nil {
		return "make conformance with a matrix that has client " + client + " and operator " + operator + record
	}
	var add []string
	if !slices.ContainsFunc(m.Clients, func(c matrix.Client) bool { return c.Version == client && c.Defect == "" && len(c.ExpectFail) == 0 }) {
		add = append(add, "make add-client VERSION="+client)
	}
	op := slices.IndexFunc(m.Operators, func(o matrix.Operator) bool { return o.Version == operator && len(o.ExpectFail) == 0 })
	if op < 0 {
		add = append(add, "make add-operator VERSION="+operator)
	}
	run := "make conformance"
	if op >= 0 {
		name := m.Operators[op].Name
		cells := m.Expand(matrix.Filter{Tiers: []string{matrix.TierFake}, Operators: []string{name}})
		if slices.ContainsFunc(cells, func(c matrix.Cell) bool { return len(c.ControlSides()) > 0 }) {
			run = "make conformance OPERATORS=" + name
		}
	}
	return strings.Join(append(add, run), ", then ") + record
}

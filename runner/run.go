package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/opconform/opconform/client"
	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/fakeoperator"
	"github.com/opconform/opconform/fixtures/certs"
	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/tier"
)

// Options configures a run of one cell.
type Options struct {
	// WorkDir holds the cell's client HOME; it must exist.
	WorkDir string
	// ScenarioTimeout bounds each client command.
	ScenarioTimeout time.Duration
	// GoldenDir holds the golden journals, <client version>.yaml; empty compares none.
	GoldenDir string
	// RepoRoot is where external clients' install commands run; default ".".
	RepoRoot string
	// Tiers are the tiers this process runs, by name (matrix.TierFake, …); the fake tier is
	// there without being named. A tier's error for which tier.IsUnavailable holds makes
	// the cell skip with its reason.
	Tiers map[string]tier.Tier
}

// Result is what a cell showed.
type Result struct {
	Cell         matrix.Cell
	Findings     []contract.Finding
	Observations []contract.Observation
	// Journal is every entry the operator recorded during the cell.
	Journal []contract.Entry
	// RefusalToExit is, per scenario the operator refused, the time from the refusal's answer
	// to the client's return.
	RefusalToExit map[string]time.Duration
	// Unavailable says why the client could not run here (not installed, downloads off);
	// the cell then has no findings and skips.
	Unavailable string
	// Golden is this run's normalised journal, as a golden file would hold it.
	Golden   contract.GoldenJournal
	Duration time.Duration
}

// Finding returns the finding for id.
func (r *Result) Finding(id contract.RequirementID) (contract.Finding, bool) {
	for _, f := range r.Findings {
		if f.Requirement == id {
			return f, true
		}
	}
	return contract.Finding{}, false
}

// Run runs cell on its tier. Everything it starts is stopped before it returns.
func Run(ctx context.Context, cell matrix.Cell, opts Options) (*Result, error) {
	start := time.Now()
	clk := clockFor(cell)
	ep, err := endpoint(ctx, cell, clk, opts)
	if tier.IsUnavailable(err) {
		return &Result{Cell: cell, Unavailable: err.Error(), Duration: time.Since(start)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cell %s: %w", cell.ID, err)
	}
	defer ep.Close()
	subject, err := cell.Subject()
	if err != nil {
		return nil, fmt.Errorf("cell %s: %w", cell.ID, err)
	}
	r := &run{cell: cell, ep: ep, opts: opts, now: clk.Now, result: &Result{Cell: cell, RefusalToExit: map[string]time.Duration{}}, version: subject.ClientVersion}
	home := filepath.Join(opts.WorkDir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("cell %s: %w", cell.ID, err)
	}
	r.store = &client.Store{Path: filepath.Join(home, ".mirrord", "credentials")}
	d, err := r.driver(ctx, home)
	defer func() {
		for _, c := range r.closers {
			c()
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("cell %s: %w", cell.ID, err)
	}
	if d == nil {
		return r.result, nil // the client is not available here: Result.Unavailable says why
	}
	if err := r.scenarios(ctx, d); err != nil {
		return nil, fmt.Errorf("cell %s: %w", cell.ID, err)
	}
	subject.Identity = d.identity()
	if cell.Client.FailEarlyExitCode == nil && cell.Client.Driver == matrix.DriverReference {
		subject.FailEarlyExitCode = client.ExitCertificateRefused
	}
	r.result.Golden = contract.Golden(cell.Client.Version, cell.Operator.Version, cell.Contract.Headers, r.result.Observations)
	if subject.Golden, subject.GoldenNote, err = goldenFor(cell, opts.GoldenDir); err != nil {
		return nil, fmt.Errorf("cell %s: %w", cell.ID, err)
	}
	findings, err := contract.Evaluate(subject, r.result.Observations)
	if err != nil {
		return nil, fmt.Errorf("cell %s: evaluating: %w", cell.ID, err)
	}
	r.result.Findings = findings
	r.result.Journal = ep.Journal()
	r.result.Duration = time.Since(start)
	return r.result, nil
}

// clockFor is the clock of a cell's operator: reference clients share the fixtures' epoch
// with it; external binaries read the machine's clock, so their operator does too.
func clockFor(cell matrix.Cell) clock.PassiveClock {
	if cell.Client.Driver == matrix.DriverExternal {
		return clock.RealClock{}
	}
	return clocktesting.NewFakePassiveClock(certs.Epoch)
}

// OperatorKey names the operator a cell runs against as its tier stands it up: cells with
// one key can share one operator (the kind tier rolls it out once for all of them).
func OperatorKey(cell matrix.Cell) string {
	if cell.Operator.Kind == matrix.KindReal {
		return cell.Tier + " " + cell.Kubernetes + " real " + cell.Operator.Name
	}
	return cell.Tier + " " + cell.Kubernetes + " " + strings.Join(tier.OperatorArgs(cell), " ")
}

// endpoint stands the cell's operator up on its tier.
func endpoint(ctx context.Context, cell matrix.Cell, clk clock.PassiveClock, opts Options) (*tier.Endpoint, error) {
	t, ok := opts.Tiers[cell.Tier]
	if !ok && cell.Tier == matrix.TierFake {
		t, ok = tier.Fake{}, true
	}
	if !ok {
		return nil, fmt.Errorf("tier %s is not running in this process", cell.Tier)
	}
	return t.Start(ctx, cell, clk)
}

// run is one cell in progress.
type run struct {
	cell    matrix.Cell
	ep      *tier.Endpoint
	opts    Options
	now     func() time.Time
	version *semver.Version
	store   *client.Store
	result  *Result
	// closers stop what the cell's driver started.
	closers []func()
	// seen is the last sequence number the journal's reads found, once read is set.
	seen uint64
	read bool
}

// step is one client scenario.
type step struct {
	kind, name string
	// command is the client command: status, ls or exec.
	command string
	// setup prepares the client's store before the command.
	setup func(context.Context) error
	// header is the certificate header a fixture scenario injects, nil otherwise.
	header *string
	// refuse says the operator must refuse the injected header.
	refuse bool
	// injected says the harness chose the certificate, through the operator (issued), where
	// header is nil; teardown undoes what setup changed.
	injected bool
	teardown func(context.Context) error
}

// outcome is how a client command ended.
type outcome struct {
	err error
	// output is all the client wrote of its error (see contract.Observation.Output).
	output string
	userID string
	// exitCode is the client's exit code (for the reference client, the one its command line
	// would exit with).
	exitCode int
}

// driver runs client commands for a cell.
type driver interface {
	// can reports whether the driver runs command, and injects certificate headers.
	can(command string) bool
	injects() bool
	run(ctx context.Context, s step) outcome
	// sentSoFar returns what the harness recorded of the client's requests so far.
	sentSoFar() []contract.Entry
	// identity is the raw user and host name the client reads.
	identity() *contract.Identity
}

// scenarios runs the cell's scenarios in order: status, ls, exec, then for clients with
// certificates exec with an expired certificate in the store, the takeover probe, and exec
// with every certificate fixture (drivers that can inject a certificate); last, whatever the
// client, the operator probe. A client failing is an observation, not an error: only the
// harness failing is.
func (r *run) scenarios(ctx context.Context, d driver) error {
	if err := r.clientScenarios(ctx, d); err != nil {
		return err
	}
	return r.probeOperator(ctx)
}

// clientScenarios runs the scenarios of the client, in the order scenarios says.
func (r *run) clientScenarios(ctx context.Context, d driver) error {
	steps := []step{
		{kind: contract.ScenarioStatus, name: "status", command: "status"},
		{kind: contract.ScenarioLs, name: "ls", command: "ls"},
		{kind: contract.ScenarioExec, name: "exec", command: "exec"},
	}
	certified := client.BehavioursAt(r.version)[client.CertificateOnConnect]
	if certified {
		steps = append(steps, step{kind: contract.ScenarioExecStale, name: "exec-stale", command: "exec", setup: r.seedExpired})
	}
	for _, s := range steps {
		if d.can(s.command) {
			if err := r.scenario(ctx, d, s); err != nil {
				return err
			}
		}
	}
	if !certified {
		return nil
	}
	if err := r.takeover(ctx); err != nil {
		return err
	}
	if d.can("exec") && r.ep.SetIssuing != nil {
		// refusals any client meets, a black box too: the operator issues a certificate it
		// then refuses
		for _, as := range fakeoperator.Issuings {
			issued := step{kind: contract.ScenarioFixture, name: "issued/" + string(as), command: "exec", refuse: true, injected: true,
				setup: r.issuing(as), teardown: r.issuing(fakeoperator.IssueValid)}
			if err := r.scenario(ctx, d, issued); err != nil {
				return err
			}
		}
	}
	if !d.injects() {
		return nil
	}
	fixtures, err := certs.All()
	if err != nil {
		return err
	}
	for _, f := range fixtures {
		header := f.Header
		fixture := step{kind: contract.ScenarioFixture, name: "fixture/" + f.Name, command: "exec", header: &header, refuse: f.Refuse}
		if err := r.scenario(ctx, d, fixture); err != nil {
			return err
		}
	}
	return nil
}

// issuing makes the operator issue as, and empties the client's store, so that its next
// command asks for a certificate.
func (r *run) issuing(as fakeoperator.Issuing) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := os.Remove(r.store.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("emptying the client's credential store: %w", err)
		}
		return r.ep.SetIssuing(ctx, as)
	}
}

// journalMark is where an observation window starts: the sequence number of the last entry
// the journal's last read found (the cell's first window reads it). Windows follow one
// another with none of the client's requests between them, so the read that closes one
// window opens the next: on kind each read is a round trip through kube-apiserver.
func (r *run) journalMark() uint64 {
	if !r.read {
		r.seen, r.read = lastSeq(r.ep.Journal()), true
	}
	return r.seen
}

// journalSince is what the operator journalled after the entry numbered mark. By sequence
// number, not position: a bounded journal that dropped its oldest entries in the meantime
// still gives every new entry it kept, and JOURNAL-COMPLETE says it dropped some.
func (r *run) journalSince(mark uint64) []contract.Entry {
	all := r.ep.Journal()
	r.seen, r.read = max(r.seen, lastSeq(all)), true
	return all[sort.Search(len(all), func(i int) bool { return all[i].Seq > mark }):]
}

// lastSeq is the sequence number of the last of entries (in arrival order), 0 for none.
func lastSeq(entries []contract.Entry) uint64 {
	if len(entries) == 0 {
		return 0
	}
	return entries[len(entries)-1].Seq
}

// dropped is how many entries the operator's journal has dropped so far.
func (r *run) dropped() uint64 {
	if r.ep.Dropped == nil {
		return 0
	}
	return r.ep.Dropped()
}

// scenario runs one client command and records what the operator saw of it.
func (r *run) scenario(ctx context.Context, d driver, s step) error {
	if s.setup != nil {
		if err := s.setup(ctx); err != nil {
			return fmt.Errorf("setting up %s: %w", s.name, err)
		}
	}
	mark, sentMark, droppedMark := r.journalMark(), len(d.sentSoFar()), r.dropped()
	ctx, cancel := context.WithTimeout(ctx, r.opts.ScenarioTimeout)
	defer cancel()
	out := d.run(ctx, s)
	returned := time.Now()
	entries := r.journalSince(mark)
	o := contract.Observation{Kind: s.kind, Name: s.name, Entries: entries, Injected: s.header != nil || s.injected, ExpectRefusal: s.refuse, ClientUserID: out.userID, Output: out.output,
		Sent: append([]contract.Entry{}, d.sentSoFar()[sentMark:]...), Dropped: r.dropped() - droppedMark, ExitCode: &out.exitCode}
	if out.err != nil {
		o.Err = out.err.Error()
	}
	for _, e := range entries {
		if e.Decision == contract.DecisionRefused {
			r.result.RefusalToExit[s.name] = returned.Sub(e.Time.Add(e.Duration))
			break
		}
	}
	r.result.Observations = append(r.result.Observations, o)
	if s.teardown != nil {
		if err := s.teardown(ctx); err != nil {
			return fmt.Errorf("after %s: %w", s.name, err)
		}
	}
	return nil
}

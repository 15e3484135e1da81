package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/Masterminds/semver/v3"

	clientpkg "github.com/opconform/opconform/client"
	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/journal"
)

// ExitBroken is the exit code of opconform check when the command ran and the contract does
// not hold; when it holds, the check exits with the command's own code.
const ExitBroken = 9

// Options configures a check. Command is required; every other field may stay empty.
type Options struct {
	// Kubeconfig and Context pick the cluster with client-go's loading rules: an empty
	// Kubeconfig means $KUBECONFIG, then ~/.kube/config, then the in-cluster configuration.
	Kubeconfig, Context string
	// ClientVersion is the client's SemVer, for a client that sends no (usable) version header.
	ClientVersion string
	// OperatorVersion is the operator's SemVer; empty reads it from the cluster's
	// MirrordOperator object.
	OperatorVersion string
	// Contract is the header naming: "mirrord" (the default) or "design-note".
	Contract string
	// Scenario is what the command does, for the requirements that depend on it: status,
	// ls or exec; empty infers it from the requests (a target connect: exec; a certificate
	// sent or requested: ls; else status).
	Scenario string
	// Command is the client's command line.
	Command []string
	// Stdin, Stdout and Stderr are the command's; the check's own lines go to Stderr.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Signals delivers the signals to forward to the command while it runs.
	Signals <-chan os.Signal
	// Artifacts, when set, is where report.json, report.md and the journal are written.
	Artifacts string
	// Verbose lists the requirements that were not judged too, one line each.
	Verbose bool
}

// Result is what a check found.
type Result struct {
	// Client names the command and its version; VersionFrom says where the version came from.
	Client, ClientVersion, VersionFrom string
	OperatorVersion                    string
	// Scenario is the scenario the command was judged as, and whether it was inferred.
	Scenario         string
	ScenarioInferred bool
	// Journal is every request the client sent through the proxy.
	Journal  []contract.Entry
	Findings []contract.Finding
	// ExitCode is the command's own; LastError the line of its standard error that says what
	// went wrong (contract.ErrorLine).
	ExitCode  int
	LastError string
}

// Holds reports whether no requirement failed.
func (r *Result) Holds() bool {
	for _, f := range r.Findings {
		if f.Status == contract.Fail {
			return false
		}
	}
	return true
}

// ExitCodeOf is what opconform check exits with: the command's code when the contract
// holds, ExitBroken when it does not.
func (r *Result) ExitCodeOf() int {
	if r.Holds() {
		return r.ExitCode
	}
	return ExitBroken
}

// ErrCannotJudge is wrapped by Run's errors when the check could not be made (exit 2): no
// usable input, no cluster, or nothing the command did that the contract could judge.
var ErrCannotJudge = errors.New("cannot judge")

// Run starts the recording proxy in front of the cluster, runs the command through it,
// evaluates the journal, prints a line per requirement it judged and the verdict to Stderr,
// and writes the reports to Artifacts when set. The proxy's kubeconfig lives in a private
// temporary directory, removed before Run returns. A command whose requests show nothing
// the contract can judge is no pass: Run says why, in an error that wraps ErrCannotJudge.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if len(opts.Command) == 0 {
		return nil, errors.New("no command to check: give it after --, e.g. opconform check -- mirrord ls")
	}
	headers, err := headersOf(opts.Contract)
	if err != nil {
		return nil, err
	}
	if opts.Scenario != "" && !validScenario(opts.Scenario) {
		return nil, fmt.Errorf("--scenario %q: want status, ls or exec", opts.Scenario)
	}
	var flagVersion, flagOperator *semver.Version
	if opts.ClientVersion != "" {
		if flagVersion, err = semver.StrictNewVersion(opts.ClientVersion); err != nil {
			return nil, fmt.Errorf("--client-version %q is not SemVer: %w", opts.ClientVersion, err)
		}
	}
	if opts.OperatorVersion != "" {
		if flagOperator, err = semver.StrictNewVersion(opts.OperatorVersion); err != nil {
			return nil, fmt.Errorf("--operator-version %q is not SemVer: %w", opts.OperatorVersion, err)
		}
	}
	cluster, namespace, err := loadCluster(opts.Kubeconfig, opts.Context)
	if err != nil {
		return nil, err
	}

	rec, err := journal.NewProxy(cluster, headers)
	if err != nil {
		return nil, err
	}
	defer rec.Close()
	dir, err := os.MkdirTemp("", "opconform-check-")
	if err != nil {
		return nil, fmt.Errorf("making the check's private directory: %w", err)
	}
	defer os.RemoveAll(dir)
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := journal.WriteKubeconfig(kubeconfig, journal.Kubeconfig{Name: "opconform-check", Endpoint: rec.Config, Namespace: namespace}); err != nil {
		return nil, fmt.Errorf("the client's kubeconfig: %w", err)
	}
	ran, err := runCommand(opts.Command, kubeconfig, opts.Stdin, opts.Stdout, opts.Stderr, opts.Signals)
	if err != nil {
		return nil, err
	}

	r := &Result{Client: filepath.Base(opts.Command[0]), Journal: rec.Journal(),
		ExitCode: ran.exitCode, LastError: ran.lastError, Scenario: opts.Scenario}
	if why := r.nothingToJudge(); why != "" {
		return r, fmt.Errorf("%w %s: %s", ErrCannotJudge, r.Client, why)
	}
	client, err := r.clientVersion(headers, flagVersion)
	if err != nil {
		return r, err
	}
	operator := flagOperator
	if operator == nil {
		// read as the client reads it: with its version, which an operator with a minimum
		// client version may ask for
		if operator, err = operatorVersion(ctx, cluster, headers.Version, client.Original()); err != nil {
			return r, err
		}
	}
	r.OperatorVersion = operator.Original()
	if r.Scenario == "" {
		r.Scenario, r.ScenarioInferred = inferScenario(r.Journal), true
	}
	o := contract.Observation{Kind: r.Scenario, Name: "command", Entries: r.Journal}
	if r.ExitCode != 0 {
		o.Err = fmt.Sprintf("%s exited with %d: %s", r.Client, r.ExitCode, r.LastError)
		o.Output = ran.output
	}
	// the command runs here, as this machine's user: it reads this machine's identity
	identity, _, _ := clientpkg.MachineIdentity()
	s := contract.Subject{ClientVersion: client, OperatorVersion: operator, Headers: headers, Identity: &identity,
		GoldenNote: "a check compares no golden journal: they are recorded against the fake operator (make conformance)"}
	if r.Findings, err = contract.Evaluate(s, []contract.Observation{o}); err != nil {
		return nil, fmt.Errorf("evaluating the journal: %w", err)
	}
	if !r.judged() {
		return r, fmt.Errorf("%w %s %s: none of the contract's requirements for operator %s could be observed in its %s",
			ErrCannotJudge, r.Client, r.ClientVersion, r.OperatorVersion, plural(len(r.Journal), "request"))
	}
	r.print(opts.Stderr, opts.Verbose)
	if opts.Artifacts != "" {
		if err := r.write(opts.Artifacts, o); err != nil {
			return r, err
		}
	}
	return r, nil
}

// nothingToJudge says why the journal holds nothing to judge the client by, "" when it does:
// no request, none to the operator, or none the cluster answered.
func (r *Result) nothingToJudge() string {
	operator, answered := 0, 0
	for _, e := range r.Journal {
		if e.Class.IsOperator() {
			operator++
			if e.Code != 0 && e.Code != http.StatusBadGateway {
				answered++
			}
		}
	}
	exited := fmt.Sprintf("(it exited with %d: %s)", r.ExitCode, orNone(r.LastError))
	switch {
	case len(r.Journal) == 0:
		return "it sent no request " + exited
	case operator == 0:
		return fmt.Sprintf("it sent %s, none to the operator %s", plural(len(r.Journal), "request"), exited)
	case answered == 0:
		return fmt.Sprintf("the cluster answered none of its %s to the operator: is it up? %s", plural(operator, "request"), exited)
	}
	return ""
}

// judged reports whether some requirement passed or failed.
func (r *Result) judged() bool {
	for _, f := range r.Findings {
		if f.Status != contract.Skip {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "no error output"
	}
	return s
}

// headersOf returns the header names of a contract naming.
func headersOf(name string) (contract.HeaderNames, error) {
	switch name {
	case "", "mirrord":
		return contract.MirrordHeaders(), nil
	case "design-note":
		return contract.DesignNoteHeaders(), nil
	}
	return contract.HeaderNames{}, fmt.Errorf("--contract %q: want mirrord or design-note", name)
}

func validScenario(s string) bool {
	return s == contract.ScenarioStatus || s == contract.ScenarioLs || s == contract.ScenarioExec
}

// clientVersion is the version the client sent on its first operator request, when that is
// SemVer, else the flag's; with neither the check cannot gate the requirements.
func (r *Result) clientVersion(headers contract.HeaderNames, flag *semver.Version) (*semver.Version, error) {
	sent := ""
	for _, e := range r.Journal {
		if e.Class.IsOperator() && e.ClientVersion != "" {
			sent = e.ClientVersion
			break
		}
	}
	if v, err := semver.StrictNewVersion(sent); err == nil {
		r.ClientVersion, r.VersionFrom = v.Original(), "its "+headers.Version+" header"
		return v, nil
	}
	if flag != nil {
		r.ClientVersion, r.VersionFrom = flag.Original(), "--client-version"
		return flag, nil
	}
	if sent != "" {
		return nil, fmt.Errorf("cannot judge %s: it sent %s %q, which is not SemVer; give its version with --client-version", r.Client, headers.Version, sent)
	}
	return nil, fmt.Errorf("cannot judge %s: it sent no %s; give its version with --client-version", r.Client, headers.Version)
}

// inferScenario reads what the command did from its requests.
func inferScenario(journal []contract.Entry) string {
	kind := contract.ScenarioStatus
	for _, e := range journal {
		switch {
		case e.Class.IsConnect():
			return contract.ScenarioExec
		case e.Class == contract.ClassCredentialRequest || (e.Class.IsOperator() && e.Certificate != nil):
			kind = contract.ScenarioLs
		}
	}
	return kind
}

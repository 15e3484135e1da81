package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/opconform/opconform/fakeoperator"
	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/runner"
)

// goldenOperator is the operator golden journals are recorded against.
const goldenOperator = "current-3.250.0"

// addFlags are the flags add-client, add-operator and golden share.
type addFlags struct {
	root     string
	version  string
	operator string
	released bool
}

func parseAdd(name string, args []string, stderr io.Writer, needVersion bool) (*addFlags, error) {
	f := &addFlags{}
	fs := flag.NewFlagSet("opconform "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.root, "root", ".", "repository root (matrix.yaml, fixtures/clients)")
	fs.StringVar(&f.version, "version", "", "the release's SemVer, e.g. 3.251.0")
	fs.StringVar(&f.operator, "operator", goldenOperator, "operator golden journals are recorded against")
	if name == "add-client" {
		fs.BoolVar(&f.released, "released", false, "also add the released mirrord CLI of that version (an external client installed by scripts/install-mirrord.sh)")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if needVersion {
		if err := matrix.CheckVersion(f.version); err != nil {
			return nil, fmt.Errorf("--version: %w", err)
		}
	}
	return f, nil
}

// addClient adds a client release: a matrix line, its golden journal, and the difference
// to the nearest older version's journal.
func addClient(args []string, stdout, stderr io.Writer) error {
	f, err := parseAdd("add-client", args, stderr, true)
	if err != nil {
		return err
	}
	name := "mirrord-" + f.version
	err = matrix.AddClient(filepath.Join(f.root, "matrix.yaml"), f.version)
	if f.released && errors.Is(err, matrix.ErrExists) {
		return addReleased(f, stdout) // the reference client is there already
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added client %s to matrix.yaml\n", name)
	if f.released {
		if err := addReleased(f, stdout); err != nil {
			return err
		}
	}
	g, err := runner.RecordGolden(f.root, name, f.operator)
	if err != nil {
		return err
	}
	dir := filepath.Join(f.root, "fixtures", "clients")
	fmt.Fprintf(stdout, "recorded %s\n", runner.GoldenPath(dir, f.version))
	older, err := runner.NearestOlderGolden(dir, f.version)
	if err != nil || older == nil {
		fmt.Fprintln(stdout, "no older golden journal to compare with")
		return err
	}
	diff := g.Diff(*older)
	fmt.Fprintf(stdout, "difference to %s (%d):\n", older.ClientVersion, len(diff))
	for _, line := range diff {
		fmt.Fprintln(stdout, "  "+line)
	}
	return nil
}

// addReleased adds the released CLI of f.version next to the reference clients.
func addReleased(f *addFlags, stdout io.Writer) error {
	name := "mirrord-cli-" + f.version
	if err := matrix.AddReleasedClient(filepath.Join(f.root, "matrix.yaml"), f.version, f.operator); err != nil {
		return fmt.Errorf("adding %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "added client %s (the released CLI, installed by scripts/install-mirrord.sh) to matrix.yaml\n", name)
	return nil
}

// addOperator adds an operator release to the matrix and prints how it differs from the
// nearest older operator: profile and advertised features.
func addOperator(args []string, stdout, stderr io.Writer) error {
	f, err := parseAdd("add-operator", args, stderr, true)
	if err != nil {
		return err
	}
	v := semver.MustParse(f.version)
	p, err := fakeoperator.SelectProfile("", v)
	if err != nil {
		return err
	}
	name := p.Name + "-" + f.version
	if err := matrix.AddOperator(filepath.Join(f.root, "matrix.yaml"), name, f.version); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added operator %s (profile %s) to matrix.yaml\n", name, p.Name)
	m, err := matrix.Load(filepath.Join(f.root, "matrix.yaml"))
	if err != nil {
		return err
	}
	var older *semver.Version
	for _, o := range m.Operators {
		ov := semver.MustParse(o.Version)
		if o.Profile == "" && ov.LessThan(v) && (older == nil || ov.GreaterThan(older)) {
			older = ov
		}
	}
	if older == nil {
		fmt.Fprintln(stdout, "no older operator to compare with")
		return nil
	}
	op, _ := fakeoperator.SelectProfile("", older)
	fmt.Fprintf(stdout, "difference to %s: profile %s → %s; features %s\n", older, op.Name, p.Name, featureDiff(fakeoperator.Features(older), fakeoperator.Features(v)))
	return nil
}

func featureDiff(before, after []fakeoperator.Feature) string {
	var parts []string
	for _, f := range after {
		if !slices.Contains(before, f) {
			parts = append(parts, "+"+string(f))
		}
	}
	for _, f := range before {
		if !slices.Contains(after, f) {
			parts = append(parts, "-"+string(f))
		}
	}
	if len(parts) == 0 {
		return "unchanged"
	}
	return strings.Join(parts, " ")
}

// goldenCommand re-records the golden journal of every sound reference client of the
// matrix (after an intended change of the client or the fake operator).
func goldenCommand(args []string, stdout, stderr io.Writer) error {
	f, err := parseAdd("golden", args, stderr, false)
	if err != nil {
		return err
	}
	m, err := matrix.Load(filepath.Join(f.root, "matrix.yaml"))
	if err != nil {
		return err
	}
	for _, c := range m.Clients {
		if c.Driver != matrix.DriverReference || c.Defect != "" || c.Contract != matrix.DefaultContract {
			continue
		}
		if _, err := runner.RecordGolden(f.root, c.Name, f.operator); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "recorded %s\n", runner.GoldenPath(filepath.Join(f.root, "fixtures", "clients"), c.Version))
	}
	return nil
}

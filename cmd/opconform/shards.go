package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/report"
	"github.com/opconform/opconform/tier"
)

// shard is one CI job: one tier, one Kubernetes version (kind only), one operator.
type shard struct {
	Name       string `json:"name"`
	Tier       string `json:"tier"`
	Kubernetes string `json:"kubernetes"`
	Operator   string `json:"operator"`
}

// shards splits the matrix's cells into CI jobs.
func shards(m *matrix.Matrix, f matrix.Filter) []shard {
	var out []shard
	seen := map[string]bool{}
	for _, c := range m.Expand(f) {
		s := shard{Tier: c.Tier, Kubernetes: c.Kubernetes, Operator: c.Operator.Name}
		s.Name = strings.Join(nonEmpty(s.Tier, s.Kubernetes, s.Operator), "-")
		if !seen[s.Name] {
			seen[s.Name] = true
			out = append(out, s)
		}
	}
	return out
}

func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseLoading parses a command's flags, with --matrix among them, and loads the matrix;
// it returns the matrix and its path.
func parseLoading(fs *flag.FlagSet, args []string, usage string) (*matrix.Matrix, string, error) {
	path := fs.String("matrix", "matrix.yaml", usage)
	if err := fs.Parse(args); err != nil {
		return nil, "", err
	}
	m, err := matrix.Load(*path)
	return m, *path, err
}

// shardsCommand prints the shards, or with --github the `strategy.matrix` JSON.
func shardsCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opconform matrix", flag.ContinueOnError)
	fs.SetOutput(stderr)
	github := fs.Bool("github", false, "print a GitHub Actions job matrix ({\"include\": [...]}) on one line")
	tiers := fs.String("tiers", "", "only the shards of these tiers, comma-separated (default: all)")
	m, _, err := parseLoading(fs, args, "matrix file")
	if err != nil {
		return err
	}
	f := matrix.Filter{Tiers: matrix.SplitNames(*tiers)}
	if err := m.CheckFilter(f); err != nil {
		return err
	}
	list := shards(m, f)
	if *github {
		data, err := json.Marshal(map[string][]shard{"include": list})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(data))
		return nil
	}
	for _, s := range list {
		line := fmt.Sprintf("make conformance TIER=%s OPERATORS=%s", s.Tier, s.Operator)
		if s.Kubernetes != "" {
			line += " KUBERNETES=" + s.Kubernetes
		}
		fmt.Fprintf(stdout, "%s\t%s\n", s.Name, line)
	}
	return nil
}

// kubernetesCommand prints the matrix's Kubernetes versions (the kind tier's), one a line.
func kubernetesCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opconform matrix kubernetes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	selected := fs.String("only", "", "print only these of them, comma-separated (KUBERNETES)")
	m, _, err := parseLoading(fs, args, "matrix file")
	if err != nil {
		return err
	}
	for _, k := range m.Kubernetes {
		if only := matrix.SplitNames(*selected); len(only) == 0 || slices.Contains(only, k) {
			fmt.Fprintln(stdout, k)
		}
	}
	return nil
}

// checkCommand loads the matrix and checks a selection of it, as make conformance does
// before it runs anything: every problem once, each with its path and line.
func checkCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opconform matrix check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tiers := fs.String("tier", "", "tiers, comma-separated (default: fake)")
	clients := fs.String("clients", "", "clients, comma-separated names (default: all)")
	operators := fs.String("operators", "", "operators, comma-separated names (default: all)")
	kubernetes := fs.String("kubernetes", "", "the kind tier's Kubernetes versions, comma-separated (default: all)")
	m, path, err := parseLoading(fs, args, "matrix file")
	if err != nil {
		return err
	}
	f := matrix.Filter{Tiers: matrix.SplitNames(*tiers), Clients: matrix.SplitNames(*clients), Operators: matrix.SplitNames(*operators), Kubernetes: matrix.SplitNames(*kubernetes)}
	if len(f.Tiers) == 0 {
		f.Tiers = []string{matrix.TierFake}
	}
	if err := m.CheckFilter(f); err != nil {
		return fmt.Errorf("selecting from %s:\n%w", path, err)
	}
	n := len(m.Expand(f))
	if n == 0 {
		return fmt.Errorf("selecting from %s: tiers %v, clients %v, operators %v select no cell (clients and operators may exclude each other)", path, f.Tiers, f.Clients, f.Operators)
	}
	fmt.Fprintf(stdout, "matrix %s: %d cells selected\n", path, n)
	return nil
}

// errFailing is returned when a report fails the run.
var errFailing = errors.New("the report fails the run")

// compareCommand checks that another tier's cells came to the fake tier's outcomes; it
// lists the differences that follow from what that tier can see, and fails on any other.
func compareCommand(fakePath, otherPath string, stdout io.Writer) error {
	fake, err := report.ReadJSON(fakePath)
	if err != nil {
		return err
	}
	other, err := report.ReadJSON(otherPath)
	if err != nil {
		return err
	}
	c := report.CompareTiers(fake, other)
	fmt.Fprintf(stdout, "compared %d cells of %s with the fake tier's (%s)\n", c.Compared, otherPath, fakePath)
	for _, d := range c.Narrower {
		fmt.Fprintf(stdout, "  narrower view, as expected: %s\n", d)
	}
	for _, d := range c.Differences {
		fmt.Fprintf(stdout, "  DIFFERENT: %s\n", d)
	}
	switch {
	case c.Compared == 0:
		return fmt.Errorf("no cell ran in both reports")
	case len(c.Differences) > 0:
		return fmt.Errorf("%d requirement outcomes differ from the fake tier's", len(c.Differences))
	}
	fmt.Fprintln(stdout, "same outcomes as the fake tier")
	return nil
}

// summaryCommand prints what a user needs at the end of a run: the verdict, the cells that
// did not run here and why, each failure once with its journal and re-run command, and where
// the reports are. It fails when the report does.
func summaryCommand(args []string, stdout io.Writer) error {
	r, err := report.ReadJSON(args[0])
	if err != nil {
		return err
	}
	plain := strings.NewReplacer("**", "", "`", "")
	fmt.Fprintln(stdout, plain.Replace(r.Verdict()))
	for _, g := range r.NotRunHere() {
		cells := g.Cells[0]
		if len(g.Cells) > 1 {
			cells = fmt.Sprintf("%d cells (%s, …)", len(g.Cells), g.Cells[0])
		}
		fmt.Fprintf(stdout, "  did not run here: %s: %s\n", cells, g.Why)
	}
	for _, m := range r.Missing {
		fmt.Fprintf(stdout, "  missing: %s\n", m)
	}
	for _, f := range r.Failures() {
		fmt.Fprintf(stdout, "  %s\n", plain.Replace(strings.ReplaceAll(f, "\n", "\n    ")))
	}
	dir := filepath.Dir(args[0])
	fmt.Fprintf(stdout, "reports: %s (report.json, junit.xml and ginkgo.json beside it; journals/ of failing cells)\n", filepath.Join(dir, "report.md"))
	if r.Failing() {
		return errFailing
	}
	return nil
}

// mergeCommand merges shard reports; the shard's name is its report's directory name.
func mergeCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opconform report merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "_artifacts/merged", "directory for the merged report.json and report.md")
	tiers := fs.String("tiers", "", "the tiers whose shards ran, comma-separated (default: all)")
	m, _, err := parseLoading(fs, args, "matrix file: every cell it expands to must be in some shard")
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("report merge: give the shards' report.json files")
	}
	f := matrix.Filter{Tiers: matrix.SplitNames(*tiers)}
	if err := m.CheckFilter(f); err != nil {
		return err
	}
	var want []string
	for _, c := range m.Expand(f) {
		want = append(want, c.ID)
	}
	reports := map[string]*report.Report{}
	for _, file := range fs.Args() {
		r, err := report.ReadJSON(file)
		if err != nil {
			return err
		}
		name := filepath.Base(filepath.Dir(file))
		if _, dup := reports[name]; dup {
			name = file
		}
		reports[name] = r
	}
	merged := report.Merge(want, reports)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := merged.WriteJSON(filepath.Join(*out, "report.json")); err != nil {
		return err
	}
	if err := merged.WriteMarkdown(filepath.Join(*out, "report.md")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "merged %d shards, %d cells, %d missing: %s\n", len(reports), len(merged.Cells), len(merged.Missing), filepath.Join(*out, "report.md"))
	if merged.Failing() {
		return errFailing
	}
	return nil
}

// preflightCommand checks, before a run of the kind tier creates anything, that kind can
// make a cluster for every Kubernetes version of the matrix; it fails with one line naming
// what is missing.
func preflightCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opconform preflight", flag.ContinueOnError)
	fs.SetOutput(stderr)
	selected := fs.String("kubernetes", "", "only these Kubernetes versions, comma-separated (KUBERNETES)")
	m, _, err := parseLoading(fs, args, "matrix file")
	if err != nil {
		return err
	}
	for _, kube := range m.Kubernetes {
		if only := matrix.SplitNames(*selected); len(only) > 0 && !slices.Contains(only, kube) {
			continue
		}
		image, err := tier.Preflight(context.Background(), kube)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "kind preflight: clusters of Kubernetes %s can be made here, from %s\n", kube, image)
	}
	return nil
}

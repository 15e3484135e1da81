package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/report"
)

// errFailing is returned when a report fails the run.
var errFailing = errors.New("the report fails the run")

// compareCommand checks that another tier's cells came to the fake tier's outcomes; it
// lists the differences that follow from what that tier can see, and fails on any other.
// One report may hold both (make test's: fake and kind).
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
	var tiers []string
	for _, t := range slices.Sorted(maps.Keys(c.ByTier)) {
		tiers = append(tiers, fmt.Sprintf("%d %s", c.ByTier[t], t))
	}
	fmt.Fprintf(stdout, "compared %d cells (%s) of %s with the fake tier's (%s)\n", c.Compared, strings.Join(tiers, ", "), otherPath, fakePath)
	for _, d := range c.Narrower {
		fmt.Fprintf(stdout, "  narrower view, as expected: %s\n", d)
	}
	for _, d := range c.Differences {
		fmt.Fprintf(stdout, "  DIFFERENT: %s\n", d)
	}
	switch {
	case c.Compared == 0:
		return fmt.Errorf("no cell of another tier than fake ran in %s with a fake-tier cell of %s to compare it with", otherPath, fakePath)
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
	fmt.Fprintf(stdout, "reports: %s (report.html, report.json, junit.xml and ginkgo.json beside it; journals/ of failing cells)\n", filepath.Join(dir, "report.md"))
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
	var want []report.Expected
	for _, c := range m.Expand(f) {
		want = append(want, report.Expected{Cell: c.ID, Shard: shardOf(c).Name})
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
	if err := merged.WriteHTML(filepath.Join(*out, "report.html")); err != nil {
		return err
	}
	if err := merged.WriteMarkdown(filepath.Join(*out, "report.md")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "merged %d shard reports, %d cells, %d missing: %s\n", len(reports), len(merged.Cells), len(merged.Missing), filepath.Join(*out, "report.md"))
	for _, s := range merged.ShardStates {
		if p := s.Problem(); p != "" {
			fmt.Fprintf(stdout, "  shard %s: %s\n", s.Name, p)
		}
	}
	if merged.Failing() {
		return errFailing
	}
	return nil
}

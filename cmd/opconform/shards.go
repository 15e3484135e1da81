package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/opconform/opconform/matrix"
)

// shard is one CI job: one tier, one Kubernetes version (kind only), one operator.
type shard struct {
	Name       string `json:"name"`
	Tier       string `json:"tier"`
	Kubernetes string `json:"kubernetes"`
	Operator   string `json:"operator"`
}

// shardOf is the CI job that runs a cell.
func shardOf(c matrix.Cell) shard {
	s := shard{Tier: c.Tier, Kubernetes: c.Kubernetes, Operator: c.Operator.Name}
	s.Name = strings.Join(nonEmpty(s.Tier, s.Kubernetes, s.Operator), "-")
	return s
}

// shards splits the matrix's cells into CI jobs.
func shards(m *matrix.Matrix, f matrix.Filter) []shard {
	var out []shard
	seen := map[string]bool{}
	for _, c := range m.Expand(f) {
		if s := shardOf(c); !seen[s.Name] {
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

// matrixCheckCommand loads the matrix and checks a selection of it, as make conformance does
// before it runs anything: every problem once, each with its path and line.
func matrixCheckCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opconform matrix check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	filter := selectionFlags(fs)
	labelFilter := fs.String("label-filter", "", "a Ginkgo label filter to check (GINKGO_LABEL_FILTER)")
	m, path, err := parseLoading(fs, args, "matrix file")
	if err != nil {
		return err
	}
	if _, err := types.ParseLabelFilter(*labelFilter); err != nil {
		return fmt.Errorf("GINKGO_LABEL_FILTER %q: %v (labels: tier:…, client:…, operator:…, req:…, negative-control; see "+
			"README.md, \"Knobs\")", *labelFilter, strings.Join(strings.Fields(stripANSI(err.Error())), " "))
	}
	cells, err := selectCells(m, path, filter())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "matrix %s: %d cells selected\n", path, len(cells))
	return nil
}

// selectionFlags defines the flags that select a run's cells (make conformance's TIER,
// CLIENTS, OPERATORS, KUBERNETES) and returns the filter they give once parsed.
func selectionFlags(fs *flag.FlagSet) func() matrix.Filter {
	tiers := fs.String("tier", "", "tiers, comma-separated (default: fake)")
	clients := fs.String("clients", "", "clients, comma-separated names (default: all)")
	operators := fs.String("operators", "", "operators, comma-separated names (default: all)")
	kubernetes := fs.String("kubernetes", "", "the kind tier's Kubernetes versions, comma-separated (default: all)")
	return func() matrix.Filter {
		f := matrix.Filter{Tiers: matrix.SplitNames(*tiers), Clients: matrix.SplitNames(*clients), Operators: matrix.SplitNames(*operators), Kubernetes: matrix.SplitNames(*kubernetes)}
		if len(f.Tiers) == 0 {
			f.Tiers = []string{matrix.TierFake}
		}
		return f
	}
}

// selectCells checks the selection f against the matrix at path and expands it.
func selectCells(m *matrix.Matrix, path string, f matrix.Filter) ([]matrix.Cell, error) {
	if err := m.CheckFilter(f); err != nil {
		return nil, fmt.Errorf("selecting from %s:\n%w", path, err)
	}
	cells := m.Expand(f)
	if len(cells) == 0 {
		return nil, fmt.Errorf("selecting from %s: tiers %v, clients %v, operators %v select no cell (clients and operators may "+
			"exclude each other)", path, f.Tiers, f.Clients, f.Operators)
	}
	return cells, nil
}

// ansi matches the colour codes Ginkgo's errors carry.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func stripANSI(s string) string { return ansi.ReplaceAllString(s, "") }

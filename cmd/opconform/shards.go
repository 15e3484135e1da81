package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/tier"
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

// matrixCheckCommand loads the matrix and checks a selection of it, as make conformance does
// before it runs anything: every problem once, each with its path and line.
func matrixCheckCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opconform matrix check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tiers := fs.String("tier", "", "tiers, comma-separated (default: fake)")
	clients := fs.String("clients", "", "clients, comma-separated names (default: all)")
	operators := fs.String("operators", "", "operators, comma-separated names (default: all)")
	kubernetes := fs.String("kubernetes", "", "the kind tier's Kubernetes versions, comma-separated (default: all)")
	labelFilter := fs.String("label-filter", "", "a Ginkgo label filter to check (GINKGO_LABEL_FILTER)")
	m, path, err := parseLoading(fs, args, "matrix file")
	if err != nil {
		return err
	}
	if _, err := types.ParseLabelFilter(*labelFilter); err != nil {
		return fmt.Errorf("GINKGO_LABEL_FILTER %q: %v (labels: tier:…, client:…, operator:…, req:…, negative-control; see README.md, \"Knobs\")", *labelFilter, strings.Join(strings.Fields(stripANSI(err.Error())), " "))
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

// ansi matches the colour codes Ginkgo's errors carry.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func stripANSI(s string) string { return ansi.ReplaceAllString(s, "") }

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
		image, err := tier.Preflight(context.Background(), kube, m.Timeouts.Preflight.Duration)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "kind preflight: clusters of Kubernetes %s can be made here, from %s\n", kube, image)
	}
	return nil
}

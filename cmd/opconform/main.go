// Command opconform is the harness's tool: it lists the contract's requirements, checks and
// edits the matrix (its shards for GitHub Actions, add-client, add-operator), records the
// golden journals, merges, summarises and compares reports, regenerates the certificate
// fixtures, prepares a run (control plane, node images, the kind preflight) and deletes the
// project's kind clusters, checks a real client against a real cluster, and keeps results
// across runs to answer can-i-deploy.
//
//	go run ./cmd/opconform requirements
//	go run ./cmd/opconform matrix --github
//	go run ./cmd/opconform matrix check --matrix matrix.yaml --tier fake --clients mirrord-3.250.0
//	go run ./cmd/opconform add-client --version 3.251.0
//	go run ./cmd/opconform report merge --out _artifacts/merged shard-*/report.json
//	go run ./cmd/opconform report compare _artifacts/report.json _artifacts/kind/report.json
//	go run ./cmd/opconform fixtures --out fixtures/certs
//	go run ./cmd/opconform check --kubeconfig ~/.kube/config -- mirrord ls
//	go run ./cmd/opconform results record _artifacts/report.json
//	go run ./cmd/opconform can-i-deploy --client 3.250.0 --to-environment prod
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/fixtures/certs"
	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/tier"
)

const usage = `Usage: opconform <command> [flags]

Commands:
  requirements   list the contract's requirements with their levels and version gates
  matrix         print the matrix's shards (tier × Kubernetes × operator); --github as a job matrix
  matrix check   load the matrix and check a selection (--tier, --clients, --operators): every problem at once
  report merge   merge shards' report.json files into one report.json and report.md
  report summary print a report's verdict, the cells that did not run here, and each failure once
  report compare FAKE.json OTHER.json: the same cells on another tier must come to the same outcomes
  report compare REPORT.json: the same, within one report of several tiers (make test's fake and kind)
  check          run a client command through a recording proxy in front of a cluster and judge it: check -- mirrord ls
  results        keep results across runs: record REPORT.json…, record-release, record-deployment (and undo-…)
  can-i-deploy   may this version ship? --client V [--to-environment E | --operators …] or --operator V [--clients …]
  prepare        prepare what a selection needs before its first cell (control plane, node images, kind preflight, operator image)
  host           print this machine's facts kind's nodes depend on (cgroup v1, CAP_SYS_RESOURCE), as JSON
  kind-down      delete every kind cluster and docker network this project made, nothing else
  add-client     add a client release: matrix line, golden journal, diff to the previous (--version)
  add-operator   add an operator release: matrix line, diff to the previous (--version)
  golden         re-record the golden journals of every sound reference client
  fixtures       regenerate the certificate fixtures (--out fixtures/certs)
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errFailing) {
			os.Exit(1) // the report said why
		}
		var code exitCode
		if errors.As(err, &code) {
			os.Exit(int(code)) // opconform check: the command's own code, or check.ExitBroken
		}
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0) // -h, --help: the usage was asked for, as Go's flag package and kubectl have it
		}
		fmt.Fprintln(os.Stderr, "opconform:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "requirements":
		return requirementsCommand(args[1:], stdout, stderr)
	case "matrix":
		if len(args) > 1 && args[1] == "check" {
			return matrixCheckCommand(args[2:], stdout, stderr)
		}
		return shardsCommand(args[1:], stdout, stderr)
	case "report":
		switch {
		case len(args) > 2 && args[1] == "summary":
			return summaryCommand(args[2:], stdout)
		case len(args) > 3 && args[1] == "compare":
			return compareCommand(args[2], args[3], stdout)
		case len(args) == 3 && args[1] == "compare":
			return compareCommand(args[2], args[2], stdout) // one report of several tiers
		case len(args) > 1 && args[1] == "merge":
			return mergeCommand(args[2:], stdout, stderr)
		}
		return errors.New("usage: opconform report merge [--matrix F] [--out DIR] REPORT.json… | opconform report summary REPORT.json | opconform report compare [FAKE.json] REPORT.json")
	case "check":
		return checkCommand(args[1:], stdout, stderr)
	case "results":
		return resultsCommand(args[1:], stdout, stderr)
	case "can-i-deploy":
		return canIDeployCommand(args[1:], stdout, stderr)
	case "prepare":
		return prepareCommand(args[1:], stderr)
	case "host":
		return hostCommand(stdout)
	case "kind-down":
		done, err := tier.KindDown(context.Background(), matrix.DefaultTimeouts().Preflight.Duration)
		for _, line := range done {
			fmt.Fprintln(stdout, line)
		}
		if err == nil && len(done) == 0 {
			fmt.Fprintln(stdout, "no kind cluster or network of this project")
		}
		return err
	case "add-client":
		return addClient(args[1:], stdout, stderr)
	case "add-operator":
		return addOperator(args[1:], stdout, stderr)
	case "golden":
		return goldenCommand(args[1:], stdout, stderr)
	case "fixtures":
		fs := flag.NewFlagSet("opconform fixtures", flag.ContinueOnError)
		fs.SetOutput(stderr)
		out := fs.String("out", "fixtures/certs", "directory to write the fixtures to")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if err := certs.Generate(*out); err != nil {
			return fmt.Errorf("generating fixtures: %w", err)
		}
		fmt.Fprintf(stdout, "fixtures written to %s\n", *out)
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// requirementsCommand prints the requirement table, with the matrix's negative controls of
// each side; --markdown prints it as docs/requirements.md shows it.
func requirementsCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opconform requirements", flag.ContinueOnError)
	fs.SetOutput(stderr)
	markdown := fs.Bool("markdown", false, "a Markdown table, as docs/requirements.md shows it")
	m, _, err := parseLoading(fs, args, "matrix file whose negative controls are listed")
	if err != nil {
		return err
	}
	controls := m.NegativeControls()
	sideText := func(r contract.Requirement, side contract.Side) string {
		if !slices.Contains(r.Sides, side) {
			return "—"
		}
		if names := controls[r.ID][side]; len(names) > 0 {
			return strings.Join(names, ", ")
		}
		return "none"
	}
	if *markdown {
		fmt.Fprintln(stdout, "| requirement | level | clients | operators | client-side negative controls | operator-side negative controls |")
		fmt.Fprintln(stdout, "|---|---|---|---|---|---|")
		for _, r := range contract.Requirements() {
			clients, operators := gates(r)
			fmt.Fprintf(stdout, "| `%s` | %s | %s | %s | %s | %s |\n", r.ID, r.Level, clients, operators, sideText(r, contract.SideClient), sideText(r, contract.SideOperator))
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tCLIENTS\tOPERATORS\tREQUIREMENT")
	for _, r := range contract.Requirements() {
		clients, operators := gates(r)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Level, clients, operators, r.Sentence)
	}
	return tw.Flush()
}

// gates are a requirement's client and operator version gates, as a listing shows them.
func gates(r contract.Requirement) (clients, operators string) {
	clients, operators = orAll(r.Clients), orAll(r.Operators)
	if r.WithMinimumClientVersion {
		clients = "below the operator's minimum"
	}
	return clients, operators
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/opconform/opconform/prepare"
	"github.com/opconform/opconform/tier"
)

// prepareCommand prepares what a run's selection needs before its first cell (package
// prepare: control plane, node images, the kind preflight, the operator image) and writes
// it where the suite reads it.
func prepareCommand(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("opconform prepare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	filter := selectionFlags(fs)
	root := fs.String("root", ".", "the repository (its scripts/ build what is missing)")
	kindRequired := fs.Bool("kind-required", false, "build a missing node image, and fail when kind cannot make clusters here (KIND_REQUIRED=1)")
	out := fs.String("out", "", "write what was prepared to this file, for the suite (--conformance.prepared)")
	m, path, err := parseLoading(fs, args, "matrix file")
	if err != nil {
		return err
	}
	cells, err := selectCells(m, path, filter())
	if err != nil {
		return err
	}
	p, err := prepare.Run(context.Background(), prepare.Options{
		Root: *root, Cells: cells, KindRequired: *kindRequired, Timeouts: m.Timeouts, Progress: stderr,
	})
	if err != nil {
		return err
	}
	if *out == "" {
		return nil
	}
	return p.Write(*out)
}

// hostCommand prints what this machine lets kind's nodes do (make docker-up reads it).
func hostCommand(stdout io.Writer) error {
	data, err := json.Marshal(tier.HostFacts())
	if err != nil {
		return fmt.Errorf("encoding the host's facts: %w", err)
	}
	fmt.Fprintln(stdout, string(data))
	return nil
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/opconform/opconform/check"
)

// exitCode asks main to exit with a code, printing nothing more: the command said why.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit code %d", int(e)) }

const checkUsage = `Usage: opconform check [flags] -- COMMAND [ARG...]

Runs COMMAND (a client: the mirrord CLI, kubectl, opclient) with KUBECONFIG pointing at a
recording proxy in front of the cluster, then judges every request it sent against the
contract for its version. Exit code: the command's own when the contract holds, 9 when it
does not, 2 when the check could not be made.

Flags:
`

// checkCommand is opconform check.
func checkCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("opconform check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, checkUsage); fs.PrintDefaults() }
	var o check.Options
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "the cluster's kubeconfig (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)")
	fs.StringVar(&o.Context, "context", "", "the kubeconfig context (default: its current context)")
	fs.StringVar(&o.ClientVersion, "client-version", "", "the client's SemVer, for a client that sends no version header")
	fs.StringVar(&o.OperatorVersion, "operator-version", "", "the operator's SemVer (default: read from the cluster's MirrordOperator)")
	fs.StringVar(&o.Contract, "contract", "mirrord", "header naming: mirrord or design-note")
	fs.StringVar(&o.Scenario, "scenario", "", "what the command does: status, ls or exec (default: inferred from its requests)")
	fs.StringVar(&o.Artifacts, "artifacts", "", "write report.json, report.md and journals/ here, as make conformance does")
	fs.BoolVar(&o.Verbose, "v", false, "list the requirements that were not judged too")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Command = fs.Args()
	o.Stdin, o.Stdout, o.Stderr = os.Stdin, stdout, stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	o.Signals = sigs
	r, err := check.Run(context.Background(), o)
	if err != nil {
		return err
	}
	if code := r.ExitCodeOf(); code != 0 {
		return exitCode(code)
	}
	return nil
}

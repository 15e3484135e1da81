// Command opclient is the reference client of the contract: the mirrord CLI's operator
// request sequences (status, ls, exec) with the headers of the version it was built at.
//
//	go build -ldflags "-X github.com/opconform/opconform/client.version=3.250.0" ./cmd/opclient
//
// Exit codes: 0 success; 1 failure; 2 usage; 3 the operator refused the client certificate;
// 4 the operator refused the client's version; 5 the operator is not installed; 6 the
// operator refused another of the contract's headers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/opconform/opconform/client"
	"github.com/opconform/opconform/contract"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `Usage: opclient <command> [flags]

Commands:
  version   print version, commit, build date and platform
  status    read the operator object (no certificate)
  ls        list targets; requests a certificate when none is stored
  exec      connect to a target twice with one session: exec --target deployment.nginx

Exit codes: 0 success, 1 failure, 2 usage, 3 certificate refused, 4 version refused,
5 operator not installed, 6 another contract header refused.
`

// run is main without os.Exit, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	build, err := client.Build()
	if err != nil {
		fmt.Fprintf(stderr, "opclient: refusing to run: %v\n", err)
		return client.ExitFailure
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return client.ExitUsage
		}
		return client.ExitOK
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("opclient "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	kubeContext := fs.String("context", "", "kubeconfig context to use")
	namespace := fs.String("namespace", "default", "target namespace")
	naming := fs.String("headers", "mirrord", "header naming: mirrord or design-note")
	timeout := fs.Duration("timeout", 60*time.Second, "bound on the whole command")
	var eo client.ExecOptions
	if cmd == "exec" {
		fs.StringVar(&eo.Target, "target", "", "target: {type}[.{name}][.container.{c}], e.g. deployment.nginx")
		fs.BoolVar(&eo.CopyTarget, "copy-target", false, "connect to a copy of the target")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return client.ExitOK
		}
		return client.ExitUsage
	}
	if cmd == "version" {
		fmt.Fprintf(stdout, "opclient %s\ncommit: %s\nbuilt: %s\nplatform: %s\n", build.Version, orUnknown(build.Commit), orUnknown(build.BuildDate), build.Platform)
		if build.Defect != client.DefectNone {
			fmt.Fprintf(stdout, "defect: %s (negative control)\n", build.Defect)
		}
		return client.ExitOK
	}
	if cmd == "exec" && eo.Target == "" {
		fmt.Fprintln(stderr, "opclient exec: --target is required")
		return client.ExitUsage
	}
	headers, ok := map[string]contract.HeaderNames{"mirrord": contract.MirrordHeaders(), "design-note": contract.DesignNoteHeaders()}[*naming]
	if !ok {
		fmt.Fprintf(stderr, "opclient: --headers %q: want mirrord or design-note\n", *naming)
		return client.ExitUsage
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = *kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: *kubeContext}).ClientConfig()
	if err != nil {
		fmt.Fprintf(stderr, "opclient: loading kubeconfig: %v\n", err)
		return client.ExitFailure
	}
	storePath, err := client.DefaultStorePath()
	if err != nil {
		fmt.Fprintf(stderr, "opclient: %v\n", err)
		return client.ExitFailure
	}
	c, err := client.New(client.Options{Config: cfg, Namespace: *namespace, Build: build, Headers: headers, Store: &client.Store{Path: storePath}, Out: stdout})
	if err != nil {
		fmt.Fprintf(stderr, "opclient: %v\n", err)
		return client.ExitFailure
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	switch cmd {
	case "status":
		err = c.Status(ctx)
	case "ls":
		err = c.Ls(ctx)
	case "exec":
		err = c.Exec(ctx, eo)
	default:
		fmt.Fprintf(stderr, "opclient: unknown command %q\n%s", cmd, usage)
		return client.ExitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "opclient: %v\n", err)
	}
	return c.ExitCode(err)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

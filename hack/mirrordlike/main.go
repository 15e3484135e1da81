// Command mirrordlike stands in for the released mirrord CLI where the harness can see it, so
// that the harness can be held to how a real CLI behaves, not to the reference client's
// habits. Written from the CLI's source (metalbear-co/mirrord, at the tags
// ../../shared/reference/real-cli-3.250.0.md names), it does what the released CLI does on
// these points:
//
//   - commands and arguments: `operator status`, `ls` (a JSON array of targets) and
//     `exec --target KIND/NAME[/container/C] -- COMMAND…`, the target in the CLI's form;
//   - the wire, through the reference client built at the stand-in's version: headers and
//     identity cleaning per version, the discovery request after any API error on the
//     operator GET, the credential store ~/.mirrord/credentials keyed by the licence
//     fingerprint and reused while valid, both connections of an exec under one session;
//   - errors as miette prints a `main() -> miette::Result` failure: `Error:   × ` and the
//     CliError's message (`mirrord operator rejected <operation>: <Status message>` for a
//     403, `mirrord operator API failed: <operation> failed with ApiError: <message>:
//     <reason> (Status { … })` for other codes), then the CLI's help text, whose last line is
//     `>> Or email us at hi@metalbear.com` (report.go);
//   - exit code 1 for every error; an exec's own exit code otherwise.
//
// What it does not do: read a mirrord configuration file, run COMMAND with mirrord's layer
// (it runs it plainly, after both connections), speak the agent protocol beyond the connect
// handshake, or retry (the CLI retries 429, 503 and 504, which the fake operator never
// sends). Its version is set at build time like opclient's (scripts/build-client.sh
// --stand-in VERSION [DEFECT]); a defect of the reference client (client/defects.go) breaks it
// on purpose, for negative controls.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/opconform/opconform/client"
)

func main() {
	build, err := client.Build()
	if err != nil {
		os.Exit(fail(os.Stderr, fmt.Errorf("refusing to run: %w", err)))
	}
	os.Exit(run(build, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// exitError is the CLI's exit code for every error (main returns miette's Err).
const exitError = 1

// commandTimeout bounds a command, as the CLI's startup retries and timeouts do.
const commandTimeout = 2 * time.Minute

const usage = `Usage: mirrord <COMMAND>

Commands:
  operator status   Print the operator's status
  ls                List targets
  exec              Execute a binary using mirrord: exec --target deployment/nginx -- COMMAND
`

// run is main without os.Exit, for tests: the command line args of a build.
func run(build client.BuildInfo, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	switch {
	case len(args) >= 2 && args[0] == "operator" && args[1] == "status":
		return withClient(stdout, stderr, build, func(c *client.Client) error { return c.Status(ctx) })
	case len(args) >= 1 && args[0] == "ls":
		var out strings.Builder
		code := withClient(&out, stderr, build, func(c *client.Client) error { return c.Ls(ctx) })
		if code == 0 {
			printTargets(stdout, out.String())
		}
		return code
	case len(args) >= 1 && args[0] == "exec":
		return execCommand(ctx, args[1:], build, stdin, stdout, stderr)
	case len(args) >= 1 && (args[0] == "--version" || args[0] == "-V"):
		fmt.Fprintf(stdout, "mirrord %s\n", build.Version)
		return 0
	case len(args) >= 1 && (args[0] == "--help" || args[0] == "-h"):
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprint(stderr, usage)
	return 2 // clap's usage error
}

// execCommand is `mirrord exec --target KIND/NAME -- COMMAND…`.
func execCommand(ctx context.Context, args []string, build client.BuildInfo, stdin io.Reader, stdout, stderr io.Writer) int {
	target, command, err := execArgs(args)
	if err != nil {
		fmt.Fprintln(stderr, "error: "+err.Error())
		fmt.Fprint(stderr, usage)
		return 2
	}
	code := withClient(io.Discard, stderr, build, func(c *client.Client) error {
		return c.Exec(ctx, client.ExecOptions{Target: target})
	})
	if code != 0 {
		return code
	}
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		return fail(stderr, fmt.Errorf("failed to execute binary %q: %w", command[0], err))
	}
	return 0
}

// execArgs reads --target (or -t) and the command after --.
func execArgs(args []string) (target string, command []string, err error) {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--":
			command = args[i+1:]
			i = len(args)
		case (a == "--target" || a == "-t") && i+1 < len(args):
			target, i = args[i+1], i+1
		case strings.HasPrefix(a, "--target="):
			target = strings.TrimPrefix(a, "--target=")
		default:
			return "", nil, fmt.Errorf("unexpected argument %q", a)
		}
	}
	if target == "" {
		return "", nil, errors.New("--target is required here (the stand-in reads no configuration file)")
	}
	if len(command) == 0 {
		return "", nil, errors.New("the binary to execute is required after --")
	}
	return targetName(target), command, nil
}

// targetName turns the CLI's target form (deployment/nginx, pod/x/container/c) into the
// operator's URL form (deployment.nginx, pod.x.container.c).
func targetName(path string) string {
	return strings.Join(strings.Split(path, "/"), ".")
}

// withClient loads the kubeconfig as the CLI does and runs f with a client of the stand-in's
// version writing to out; an error is reported as the CLI reports it.
func withClient(out, stderr io.Writer, build client.BuildInfo, f func(*client.Client) error) int {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return fail(stderr, fmt.Errorf("failed to create Kubernetes API client: %w", err))
	}
	storePath, err := client.DefaultStorePath()
	if err != nil {
		return fail(stderr, err)
	}
	c, err := client.New(client.Options{Config: cfg, Build: build, Store: &client.Store{Path: storePath}, Out: out})
	if err != nil {
		return fail(stderr, err)
	}
	if err := f(c); err != nil {
		fmt.Fprint(stderr, report(err, build.Defect))
		return exitError
	}
	return 0
}

// fail reports an error that is not the operator's, and returns the CLI's exit code.
func fail(stderr io.Writer, err error) int {
	fmt.Fprint(stderr, miette(err.Error(), generalHelp))
	return exitError
}

// printTargets prints the reference client's targets (deployment/x, pod/y, one a line) as
// the CLI's `ls` prints them: a JSON array.
func printTargets(stdout io.Writer, lines string) {
	targets := slices.DeleteFunc(strings.Split(strings.TrimSpace(lines), "\n"), func(s string) bool {
		return s == "" || strings.HasPrefix(s, "warning:")
	})
	if targets == nil {
		targets = []string{}
	}
	data, _ := json.Marshal(targets)
	fmt.Fprintln(stdout, string(data))
}

// statusDebug formats a Status as kube-rs's derived Debug of its Status does.
func statusDebug(st metav1.Status) string {
	return fmt.Sprintf("Status { status: Some(Failure), code: %d, message: %q, reason: %q, details: None, metadata: None }", st.Code, st.Message, st.Reason)
}

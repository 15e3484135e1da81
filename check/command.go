package check

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/opconform/opconform/contract"
)

// outputGrace bounds the reading of the command's output after it exited.
const outputGrace = 3 * time.Second

// commandRun is how the client's command ended.
type commandRun struct {
	// exitCode is the command's exit code, 128+N when signal N ended it.
	exitCode int
	// output is what the command wrote to standard error (its last contract.MaxOutput
	// bytes), where a refusal it passes on is looked for; lastError its error line.
	output, lastError string
}

// runCommand runs argv with KUBECONFIG set to kubeconfig (its environment otherwise the
// caller's), standard input and output passed through and standard error copied through
// (and kept: a client names a refusal there). Signals from sigs
// are forwarded to it until it ends; SIGINT only when standard input is not a terminal,
// since a terminal's Ctrl-C reaches the whole foreground process group, the command too.
func runCommand(argv []string, kubeconfig string, stdin io.Reader, stdout, stderr io.Writer, sigs <-chan os.Signal) (commandRun, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(withoutVar(os.Environ(), "KUBECONFIG"), "KUBECONFIG="+kubeconfig)
	var output contract.Output
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, io.MultiWriter(stderr, &output)
	// a child the command leaves behind may hold its output open: once the command has
	// exited, its output is read for at most this long
	cmd.WaitDelay = outputGrace
	if err := cmd.Start(); err != nil {
		return commandRun{}, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	interactive := false
	if f, ok := stdin.(*os.File); ok {
		interactive = term.IsTerminal(int(f.Fd()))
	}
	done := make(chan struct{})
	var forwarding sync.WaitGroup
	forwarding.Add(1)
	go func() {
		defer forwarding.Done()
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				if sig == os.Interrupt && interactive {
					continue
				}
				_ = cmd.Process.Signal(sig)
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	forwarding.Wait()
	run := commandRun{output: output.String()}
	run.lastError = contract.ErrorLine(run.output)
	var exit *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay): // exited 0; a child held its output
	case errors.As(err, &exit):
		run.exitCode = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			run.exitCode = 128 + int(ws.Signal())
		}
	default:
		return run, fmt.Errorf("running %s: %w", argv[0], err)
	}
	return run, nil
}

// withoutVar returns env without the variable name.
func withoutVar(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

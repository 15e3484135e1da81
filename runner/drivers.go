package runner

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/opconform/opconform/client"
	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/journal"
	"github.com/opconform/opconform/matrix"
)

// driver returns the cell's client driver, or nil (with Result.Unavailable set) when an
// external client cannot run on this machine.
func (r *run) driver(ctx context.Context, home string) (driver, error) {
	if r.cell.Client.Driver != matrix.DriverExternal {
		return &reference{r: r, sent: journal.NewTransport(r.cell.Contract.Headers), connectTLS: connectTLS(tls.NewLRUClientSessionCache(4))}, nil
	}
	ext := r.cell.Client.External
	if env := missingRequirement(ext); env != "" {
		r.result.Unavailable = fmt.Sprintf("client %s needs %s to be installed (needs internet); set it where the client can be installed", r.cell.Client.Name, env)
		return nil, nil
	}
	binary, err := install(ctx, ext.Install, r.cell.Client.Version, r.opts.RepoRoot)
	if errors.Is(err, errNotInstallable) {
		r.result.Unavailable = fmt.Sprintf("client %s is not installed: %v", r.cell.Client.Name, err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("installing client %s: %w", r.cell.Client.Name, err)
	}
	// the recording proxy in front of the operator: the harness's own record of what the
	// binary sent, on its side of the operator
	rec, err := journal.NewProxy(r.ep.Config, r.cell.Contract.Headers)
	if err != nil {
		return nil, err
	}
	r.closers = append(r.closers, rec.Close)
	kubeconfig := filepath.Join(r.opts.WorkDir, "kubeconfig")
	if err := journal.WriteKubeconfig(kubeconfig, journal.Kubeconfig{Name: "opconform", Endpoint: rec.Config}); err != nil {
		return nil, err
	}
	return &external{r: r, binary: binary, home: home, kubeconfig: kubeconfig, sent: rec}, nil
}

// reference runs the reference client in process, as a fresh client per command, its
// requests recorded as they leave it. Its connects are made cheap where the contract does
// not look (connectTLS).
type reference struct {
	r          *run
	sent       *journal.Transport
	connectTLS func(*tls.Config)
}

// connectTLS makes the reference client's connects in one cell share sessions, so that a
// connect resumes the cell's first session rather than have the server sign and the client
// verify a new handshake; offer no ML-KEM key the server would not use (the fake operator
// prefers X25519); and speak TLS 1.2, whose resumption skips the key exchange that TLS
// 1.3's keeps (in Go, always with a new X25519 share: a tenth of the big matrix's CPU).
// None of it is in the contract; the client's other requests, and every external client,
// speak what they would.
func connectTLS(sessions tls.ClientSessionCache) func(*tls.Config) {
	return func(c *tls.Config) {
		c.ClientSessionCache = sessions
		// P-256 too: in TLS 1.2 a server takes an ECDSA P-256 certificate only for a client
		// that names the curve (kube-apiserver, whose serving key is one, answered with
		// another certificate). TLS 1.2 sends no key share with the hello, so naming it
		// costs nothing; the key exchange stays X25519.
		c.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
		c.MaxVersion = tls.VersionTLS12
	}
}

func (d *reference) sentSoFar() []contract.Entry { return d.sent.Entries() }

func (d *reference) can(string) bool { return true }
func (d *reference) injects() bool   { return true }

func (d *reference) run(ctx context.Context, s step) outcome {
	r := d.r
	c, err := client.New(client.Options{
		Config: d.sent.Config(r.ep.Config), Build: client.BuildInfo{Version: r.version, Defect: client.Defect(r.cell.Client.Defect)},
		Headers: r.cell.Contract.Headers, Identity: &referenceIdentity,
		Store: r.store, Now: r.now, CertificateHeader: s.header, ConnectTLS: d.connectTLS,
	})
	if err != nil {
		return outcome{err: err}
	}
	switch s.command {
	case "status":
		err = c.Status(ctx)
	case "ls":
		err = c.Ls(ctx)
	default:
		err = c.Exec(ctx, client.ExecOptions{Target: target})
	}
	out := outcome{err: err, userID: c.UserID(), exitCode: c.ExitCode(err)}
	if err != nil {
		out.output = err.Error() // what its command line prints
	}
	return out
}

// referenceIdentity is the user and host the reference client reads: a name the cleaning
// changes (from 3.104.0), a host name that keeps its capitals.
var referenceIdentity = client.Identity{Name: "Zoë Tester", Hostname: "Laptop-7"}

func (d *reference) identity() *contract.Identity { return &referenceIdentity }

// target is the target every exec connects to, in the operator's URL form; targetPath is the
// same in the mirrord CLI's `--target` form.
const (
	target     = "deployment.nginx"
	targetPath = "deployment/nginx"
)

// external runs a binary from command templates, with its own HOME and KUBECONFIG, through
// a recording proxy.
type external struct {
	r          *run
	binary     string
	home       string
	kubeconfig string
	sent       *journal.Proxy
}

func (d *external) sentSoFar() []contract.Entry { return d.sent.Journal() }

// identity is what a binary run here reads of its user and host: this machine's.
func (d *external) identity() *contract.Identity {
	id, _, _ := client.MachineIdentity()
	return &id
}

func (d *external) can(command string) bool { return d.r.cell.Client.External.Commands[command] != "" }
func (d *external) injects() bool           { return false }

func (d *external) run(ctx context.Context, s step) outcome {
	line := strings.NewReplacer("{binary}", shellQuote(d.binary), "{namespace}", "default", "{target}", target, "{targetPath}", targetPath).
		Replace(d.r.cell.Client.External.Commands[s.command])
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", line)
	cmd.Env = append(os.Environ(), "HOME="+d.home, "KUBECONFIG="+d.kubeconfig)
	var stderr contract.Output
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	err := cmd.Run()
	out := outcome{userID: d.userID(), exitCode: cmd.ProcessState.ExitCode(), output: stderr.String()}
	if err != nil {
		out.err = fmt.Errorf("%s: %w: %s", line, err, contract.ErrorLine(out.output))
	}
	return out
}

// userID is the identity of the key the client stored for the operator's licence, if any.
func (d *external) userID() string {
	cred, err := d.r.store.Lookup(d.r.ep.LicenseFingerprint)
	if err != nil || cred == nil {
		return ""
	}
	return credentials.UserID(cred.Key.Public().(ed25519.PublicKey))
}

// errNotInstallable is an install command's exit 3 (or a shell's 127, command not found):
// the client cannot be had on this machine, and its cells skip saying why. Any other failure
// (a checksum mismatch, say) fails the cell.
var errNotInstallable = errors.New("not installable here")

// missingRequirement is the first of the client's requires (NAME or NAME=VALUE) this
// environment lacks, "" when it has them all.
func missingRequirement(ext *matrix.External) string {
	for _, env := range ext.Requires {
		name, want, _ := strings.Cut(env, "=")
		if got, ok := os.LookupEnv(name); !ok || (want != "" && got != want) {
			return env
		}
	}
	return ""
}

// Installed is what Preinstall installed: binaries by install command line and root.
type Installed map[string]string

// Preinstall runs, at once (as many as the machine has cores), the install command of every
// external client of cells that this environment lets install, each command line once, and
// returns what installed. One process can do this for all (the suites' first), which then
// hand the result to UseInstalled: a binary is built once for a run, not once a process,
// and before the cells that run it. A failed install is not an error here: the cells of its
// client run it again and report it.
func Preinstall(ctx context.Context, cells []matrix.Cell, root string) Installed {
	lines := map[string]bool{}
	for _, c := range cells {
		if c.Client.Driver == matrix.DriverExternal && missingRequirement(c.Client.External) == "" {
			lines[strings.ReplaceAll(c.Client.External.Install, "{version}", c.Client.Version)] = true
		}
	}
	out := Installed{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.NumCPU())
	for line := range lines {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			if path, err := runInstall(ctx, line, root); err == nil {
				mu.Lock()
				out[root+"\x00"+line] = path
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out
}

// UseInstalled makes this process's cells use binaries another process installed.
func UseInstalled(in Installed) {
	for key, path := range in {
		installed.Store(key, path)
	}
}

// installed holds the binaries this process installed, by install command line and root:
// a binary is installed once for all the cells of its client.
var installed sync.Map

// install runs the install command, once a process for each command line, and returns the
// binary's path: its last output line.
func install(ctx context.Context, command, version, root string) (string, error) {
	line := strings.ReplaceAll(command, "{version}", version)
	key := root + "\x00" + line
	if path, ok := installed.Load(key); ok {
		if _, err := os.Stat(path.(string)); err == nil {
			return path.(string), nil
		}
	}
	path, err := runInstall(ctx, line, root)
	if err == nil {
		installed.Store(key, path)
	}
	return path, err
}

// runInstall runs an install command line in root.
func runInstall(ctx context.Context, line, root string) (string, error) {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", line)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && (exit.ExitCode() == 3 || exit.ExitCode() == 127) {
			err = fmt.Errorf("%w (%w)", errNotInstallable, err)
		}
		return "", fmt.Errorf("%s: %w: %s", line, err, lastLine(stderr.String()))
	}
	path := lastLine(stdout.String())
	if path == "" {
		return "", fmt.Errorf("%s printed no path", line)
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	return path, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

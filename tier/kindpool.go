package tier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"k8s.io/utils/clock"

	"github.com/opconform/opconform/matrix"
)

// KindPool is the kind tier of one process: its cluster of the Kubernetes version its cells
// are at, made on first use and deleted when the cells move on to the next version, or by
// Stop (or kept, with Keep).
type KindPool struct {
	// Unavailable is prepare's line when kind cannot make clusters here; Required makes that
	// an error of every cell rather than a skip.
	Unavailable string
	Required    bool
	// NodeImages are the node images prepare chose, by Kubernetes version; Host the
	// machine's facts.
	NodeImages map[string]string
	Host       Host
	// Image is the fake operator's image; RepoRoot holds deploy/ and the fixtures' licence.
	Image, RepoRoot string
	// Artifacts is where progress.log (what a run shows as it goes) and kind-logs/ go.
	Artifacts string
	// Keep keeps the clusters for the next run (KEEP_CLUSTER=1); Process names them: this
	// Ginkgo process's number, or 0 where each Kubernetes version is one process's (the
	// cluster's name is then the same whichever process took the version, so the next run
	// finds it).
	Keep    bool
	Process int
	// Operators are, by Kubernetes version, the fake operators' flags (OperatorArgs) of the
	// cells this process will run on that version's cluster, when it runs them all (each
	// version one process's): the cluster deploys them all when it is made, at once, rather
	// than one at a time as cells need them. Nil deploys each as its first cell needs it.
	Operators map[string][][]string
	// Messages receives what Stop has to say (how to reach a kept cluster, a failed delete).
	Messages io.Writer
	// Timeouts bound the clusters' waits (KindInput.Timeouts).
	Timeouts matrix.Timeouts

	mu       sync.Mutex
	clusters map[string]*making
	pending  sync.WaitGroup       // clusters being made
	parked   map[string]*KindTier // kept clusters of versions this process is done with, paused
	progress *os.File
	// startKind makes a cluster: StartKind, or a test's stand-in
	startKind func(context.Context, KindInput) (*KindTier, error)
}

// Start stands the cell's operator up on the cluster of its Kubernetes version.
func (p *KindPool) Start(ctx context.Context, cell matrix.Cell, clk clock.PassiveClock) (*Endpoint, error) {
	if cell.Operator.Kind == matrix.KindReal {
		if _, err := RealLicense(cell.Operator); err != nil {
			return nil, err // before making a cluster it could not use
		}
	}
	k, err := p.Cluster(ctx, cell.Kubernetes)
	if err != nil {
		return nil, err
	}
	return k.Start(ctx, cell, clk)
}

// Cluster returns the cluster of Kubernetes version kube, made on first use; one try a
// version: after a failure the other cells of that version fail at once, naming it. A
// process holds one version's cluster at a time: the suite runs the kind cells version by
// version, so a cell of a new version retires the cluster of the one before (deleted, or
// kept with Keep), and two processes on two cores run two clusters, not four (with as many
// versions as processes, each process has one version and makes one cluster).
func (p *KindPool) Cluster(ctx context.Context, kube string) (*KindTier, error) {
	c, err := p.cluster(ctx, kube)
	if p.Required && errors.Is(err, ErrKindUnavailable) {
		// not a skip: this run asked for the kind tier
		return nil, fmt.Errorf("the kind tier is required in this run: %s", err.Error())
	}
	return c, err
}

// making is a cluster being made, or made: done closes when tier or err is set.
type making struct {
	done chan struct{}
	tier *KindTier
	err  error
}

func (p *KindPool) cluster(ctx context.Context, kube string) (*KindTier, error) {
	m, err := p.makingOf(kube)
	if err != nil {
		return nil, err
	}
	select {
	case <-m.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the kind cluster of %s: %w", kube, context.Cause(ctx))
	}
	if m.err != nil {
		if errors.Is(m.err, ErrKindUnavailable) {
			return nil, m.err
		}
		return nil, fmt.Errorf("the kind cluster of %s could not be made in this process: %w", kube, m.err)
	}
	return m.tier, nil
}

// isDone reports whether m's cluster is made or failed (then m.tier and m.err may be read).
func isDone(m *making) bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// makingOf returns the making of kube's cluster, starting it (and retiring the other
// versions' clusters) if it has not started.
func (p *KindPool) makingOf(kube string) (*making, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Unavailable != "" {
		return nil, fmt.Errorf("%w: %s", ErrKindUnavailable, strings.TrimPrefix(p.Unavailable, ErrKindUnavailable.Error()+": "))
	}
	if m, ok := p.clusters[kube]; ok {
		return m, nil
	}
	if p.clusters == nil {
		p.clusters = map[string]*making{}
		f, err := os.OpenFile(filepath.Join(p.Artifacts, "progress.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("the kind tier's progress log: %w", err)
		}
		p.progress = f
	}
	for _, v := range slices.Sorted(maps.Keys(p.clusters)) {
		m := p.clusters[v]
		if !isDone(m) || m.tier == nil {
			continue
		}
		delete(p.clusters, v)
		if !p.Keep {
			fmt.Fprintf(p.progress, "%s: done with Kubernetes %s in this process, now %s: deleting it\n", m.tier.Name, v, kube)
			p.stop(v, m.tier)
			continue
		}
		// kept for the next run: paused until this run ends
		fmt.Fprintf(p.progress, "%s: done with Kubernetes %s in this process, now %s: pausing it until the run ends (KEEP_CLUSTER=1)\n", m.tier.Name, v, kube)
		if err := m.tier.Park(); err != nil {
			fmt.Fprintf(p.progress, "%s: %v (it goes on running)\n", m.tier.Name, err)
		}
		if p.parked == nil {
			p.parked = map[string]*KindTier{}
		}
		p.parked[v] = m.tier
	}
	if c, ok := p.parked[kube]; ok { // a cell out of the version order: resume it
		delete(p.parked, kube)
		m := &making{done: make(chan struct{}), tier: c}
		close(m.done)
		if m.err = c.Unpark(); m.err != nil {
			m.tier = nil
		}
		p.clusters[kube] = m
		return m, nil
	}
	return p.start(kube), nil
}

// start makes kube's cluster in the background, bounded by the kind cell's timeout, not by
// the cell that asked first (its cluster serves the process's later cells too); p.mu held.
func (p *KindPool) start(kube string) *making {
	m := &making{done: make(chan struct{})}
	p.clusters[kube] = m
	in, err := p.input(kube)
	if err != nil {
		m.err = err
		close(m.done)
		return m
	}
	startKind := p.startKind
	if startKind == nil {
		startKind = StartKind
	}
	p.pending.Add(1)
	go func() {
		defer p.pending.Done()
		ctx, cancel := context.WithTimeout(context.Background(), p.Timeouts.KindCell.Duration)
		defer cancel()
		m.tier, m.err = startKind(ctx, in)
		if errors.Is(m.err, ErrKindUnavailable) {
			p.mu.Lock()
			p.Unavailable = m.err.Error()
			p.mu.Unlock()
		}
		close(m.done)
	}()
	return m
}

// input is what StartKind needs for a cluster of version kube.
func (p *KindPool) input(kube string) (KindInput, error) {
	dir, err := os.MkdirTemp("", "opconform-kind-")
	if err != nil {
		return KindInput{}, fmt.Errorf("the kind cluster's directory: %w", err)
	}
	manifests, err := filepath.Glob(filepath.Join(p.RepoRoot, "deploy", "*.yaml"))
	if err != nil {
		return KindInput{}, fmt.Errorf("the operator's manifests: %w", err)
	}
	key, err := os.ReadFile(filepath.Join(p.RepoRoot, "fixtures", "certs", "licence-ca.key.pem"))
	if err != nil {
		return KindInput{}, fmt.Errorf("the fixtures' licence key: %w", err)
	}
	return KindInput{
		Kubernetes: kube, NodeImage: p.NodeImages[kube], Host: p.Host, Dir: dir, Image: p.Image, Manifests: manifests, LicenseKeyPEM: key, Keep: p.Keep, Process: p.Process,
		Operators: p.Operators[kube], Progress: p.progress, LogsDir: filepath.Join(p.Artifacts, "kind-logs"), Timeouts: p.Timeouts,
	}, nil
}

// Stop deletes the pool's clusters (or, with Keep, resumes the paused ones and says how to
// reach them all), after a line each on its rollouts and switches for its cells.
func (p *KindPool) Stop() {
	p.pending.Wait() // each is bounded by the kind cell's timeout
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, kube := range slices.Sorted(maps.Keys(p.parked)) {
		c := p.parked[kube]
		if err := c.Unpark(); err != nil && p.progress != nil {
			fmt.Fprintf(p.progress, "%s: %v (the next KEEP_CLUSTER=1 run resumes it)\n", c.Name, err)
		}
		p.stop(kube, c)
	}
	p.parked = nil
	for _, kube := range slices.Sorted(maps.Keys(p.clusters)) {
		if c := p.clusters[kube].tier; c != nil { // else never made: its cells said why
			p.stop(kube, c)
		}
	}
	p.clusters = nil
	if p.progress != nil {
		_ = p.progress.Close()
		p.progress = nil
	}
}

// stop writes c's summary to the progress log and deletes it (or, with Keep, says how to
// reach it); what it says goes to Messages and to the progress log, which is what a user
// of make conformance sees (Ginkgo's own output goes to a file); p.mu held.
func (p *KindPool) stop(kube string, c *KindTier) {
	out := p.Messages
	if out == nil {
		out = os.Stderr
	}
	if p.progress != nil {
		out = io.MultiWriter(out, p.progress)
		fmt.Fprintln(p.progress, c.Summary())
	}
	msg, err := c.Stop()
	if msg != "" {
		fmt.Fprintln(out, msg)
	}
	if err != nil {
		fmt.Fprintf(out, "deleting kind cluster for %s: %v\n", kube, err)
	}
}

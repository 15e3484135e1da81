package tier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"k8s.io/utils/clock"

	"github.com/opconform/opconform/matrix"
)

// KindPool is the kind tier of one process: its clusters, one per Kubernetes version, made
// on first use and deleted by Stop (or kept, with Keep).
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
	// Keep keeps the clusters for the next run (KEEP_CLUSTER=1); Process names them.
	Keep    bool
	Process int
	// Messages receives what Stop has to say (how to reach a kept cluster, a failed delete).
	Messages io.Writer
	// Timeouts bound the clusters' waits (KindInput.Timeouts).
	Timeouts matrix.Timeouts

	mu       sync.Mutex
	clusters map[string]*KindTier
	failed   map[string]error
	progress *os.File
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

// Cluster returns the cluster of Kubernetes version kube, making it on first use (one try a
// process: after a failure the other cells fail at once, naming it).
func (p *KindPool) Cluster(ctx context.Context, kube string) (*KindTier, error) {
	c, err := p.cluster(ctx, kube)
	if p.Required && errors.Is(err, ErrKindUnavailable) {
		// not a skip: this run asked for the kind tier
		return nil, fmt.Errorf("the kind tier is required in this run: %s", err.Error())
	}
	return c, err
}

func (p *KindPool) cluster(ctx context.Context, kube string) (*KindTier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Unavailable != "" {
		return nil, fmt.Errorf("%w: %s", ErrKindUnavailable, strings.TrimPrefix(p.Unavailable, ErrKindUnavailable.Error()+": "))
	}
	if c, ok := p.clusters[kube]; ok {
		return c, nil
	}
	if err, ok := p.failed[kube]; ok {
		return nil, fmt.Errorf("the kind cluster of %s could not be made earlier in this process (see that cell): %w", kube, err)
	}
	if p.clusters == nil {
		p.clusters, p.failed = map[string]*KindTier{}, map[string]error{}
	}
	if p.progress == nil {
		f, err := os.OpenFile(filepath.Join(p.Artifacts, "progress.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("the kind tier's progress log: %w", err)
		}
		p.progress = f
	}
	in, err := p.input(kube)
	if err != nil {
		return nil, err
	}
	c, err := StartKind(ctx, in)
	if err != nil {
		if errors.Is(err, ErrKindUnavailable) {
			p.Unavailable = err.Error()
		}
		p.failed[kube] = err
		return nil, err
	}
	p.clusters[kube] = c
	return c, nil
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
		Progress: p.progress, LogsDir: filepath.Join(p.Artifacts, "kind-logs"), Timeouts: p.Timeouts,
	}, nil
}

// Stop deletes the pool's clusters (or, with Keep, says how to reach them), after a line
// each on its rollouts for its cells.
func (p *KindPool) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.Messages
	if out == nil {
		out = os.Stderr
	}
	for kube, c := range p.clusters {
		if p.progress != nil {
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
	p.clusters = map[string]*KindTier{}
	if p.progress != nil {
		_ = p.progress.Close()
		p.progress = nil
	}
}

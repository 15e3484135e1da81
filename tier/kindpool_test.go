package tier

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/matrix"
)

// fakeStarts stands in for StartKind: it records the versions asked for and makes each
// cluster when release says so.
type fakeStarts struct {
	mu      sync.Mutex
	started []string
	release chan struct{}
	fail    map[string]error
}

func (f *fakeStarts) start(ctx context.Context, in KindInput) (*KindTier, error) {
	f.mu.Lock()
	f.started = append(f.started, in.Kubernetes)
	f.mu.Unlock()
	select {
	case <-f.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := f.fail[in.Kubernetes]; err != nil {
		return nil, err
	}
	return &KindTier{Name: "opconform-" + in.Kubernetes, keep: true}, nil // Stop keeps it: no docker here
}

func (f *fakeStarts) versions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.started...)
}

// pool is a KindPool over a repo root with the files input reads, using starts.
func pool(t *testing.T, starts *fakeStarts) *KindPool {
	root := t.TempDir()
	for _, f := range []string{"deploy/operator.yaml", "fixtures/certs/licence-ca.key.pem"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	timeouts := matrix.DefaultTimeouts()
	return &KindPool{
		NodeImages: map[string]string{"v1.37.0": "node:v1.37.0", "v1.36.1": "node:v1.36.1"},
		RepoRoot:   root, Artifacts: t.TempDir(), Timeouts: timeouts, startKind: starts.start,
	}
}

// progressLog is what the pool wrote to its progress log.
func progressLog(t *testing.T, p *KindPool) string {
	b, err := os.ReadFile(filepath.Join(p.Artifacts, "progress.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAProcessHoldsOneVersionsClusterAtATime(t *testing.T) {
	g := NewWithT(t)
	starts := &fakeStarts{release: make(chan struct{})}
	close(starts.release)
	p := pool(t, starts)
	var messages bytes.Buffer
	p.Messages = &messages
	ctx := context.Background()
	first, err := p.Cluster(ctx, "v1.37.0")
	g.Expect(err).NotTo(HaveOccurred())
	again, err := p.Cluster(ctx, "v1.37.0")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(BeIdenticalTo(first), "the version's later cells use the same cluster")
	next, err := p.Cluster(ctx, "v1.36.1")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(next.Name).To(Equal("opconform-v1.36.1"))
	g.Expect(starts.versions()).To(Equal([]string{"v1.37.0", "v1.36.1"}))
	g.Expect(messages.String()).To(ContainSubstring("kept kind cluster opconform-v1.37.0"), "the earlier version's cluster was retired when the next was asked for")
	p.Stop()
	g.Expect(messages.String()).To(ContainSubstring("kept kind cluster opconform-v1.36.1"))
	g.Expect(progressLog(t, p)).To(And(
		ContainSubstring("opconform-v1.37.0: done with Kubernetes v1.37.0 in this process, now v1.36.1"),
		ContainSubstring("opconform-v1.37.0: 0 operator rollouts (0 of them side by side when the cluster was ready) and 0 switches to kept operators for 0 cells"),
		ContainSubstring("opconform-v1.36.1: 0 operator rollouts (0 of them side by side when the cluster was ready) and 0 switches to kept operators for 0 cells")))
}

func TestAKeptClusterIsPausedUntilTheRunEnds(t *testing.T) {
	g := NewWithT(t)
	starts := &fakeStarts{release: make(chan struct{})}
	close(starts.release)
	p := pool(t, starts)
	p.Keep = true
	var messages bytes.Buffer
	p.Messages = &messages
	for _, kube := range []string{"v1.37.0", "v1.36.1"} {
		_, err := p.Cluster(context.Background(), kube)
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(messages.String()).To(BeEmpty(), "the earlier version's cluster is kept, not stopped, while the run goes on")
	p.Stop()
	g.Expect(messages.String()).To(And(ContainSubstring("kept kind cluster opconform-v1.37.0"), ContainSubstring("kept kind cluster opconform-v1.36.1")))
	// no node container is behind these stand-ins: docker pause and unpause fail, and say so
	g.Expect(progressLog(t, p)).To(And(
		ContainSubstring("opconform-v1.37.0: done with Kubernetes v1.37.0 in this process, now v1.36.1: pausing it until the run ends (KEEP_CLUSTER=1)"),
		ContainSubstring("opconform-v1.37.0: pausing kind cluster opconform-v1.37.0"),
		ContainSubstring("opconform-v1.37.0: resuming kind cluster opconform-v1.37.0"),
		ContainSubstring("kept kind cluster opconform-v1.36.1 and its operators, one per configuration (the next run with KEEP_CLUSTER=1 reuses them); reach it with: kubectl --kubeconfig")),
		"how to reach a kept cluster is in the progress log too: make conformance shows that one, Ginkgo's output goes to a file")
}

func TestAClusterThatFailedFailsEveryCellOfItsVersion(t *testing.T) {
	g := NewWithT(t)
	starts := &fakeStarts{release: make(chan struct{}), fail: map[string]error{"v1.36.1": errors.New("kubeadm init failed")}}
	close(starts.release)
	p := pool(t, starts)
	ctx := context.Background()
	_, err := p.Cluster(ctx, "v1.36.1")
	g.Expect(err).To(MatchError(ContainSubstring("the kind cluster of v1.36.1 could not be made in this process: kubeadm init failed")))
	_, err = p.Cluster(ctx, "v1.36.1")
	g.Expect(err).To(MatchError(ContainSubstring("kubeadm init failed")), "the second cell names the first failure")
	c, err := p.Cluster(ctx, "v1.37.0")
	g.Expect(err).NotTo(HaveOccurred(), "the other version's cluster is not affected")
	g.Expect(c.Name).To(Equal("opconform-v1.37.0"))
	g.Expect(starts.versions()).To(ConsistOf("v1.36.1", "v1.37.0"), "no version is tried twice")
}

func TestACellStopsWaitingAtItsOwnBoundButTheClusterGoesOn(t *testing.T) {
	g := NewWithT(t)
	starts := &fakeStarts{release: make(chan struct{})}
	p := pool(t, starts)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := p.Cluster(ctx, "v1.37.0")
	g.Expect(err).To(MatchError(ContainSubstring("waiting for the kind cluster of v1.37.0: context deadline exceeded")))
	close(starts.release)
	c, err := p.Cluster(context.Background(), "v1.37.0")
	g.Expect(err).NotTo(HaveOccurred(), "the next cell gets the cluster the first one started")
	g.Expect(c.Name).To(Equal("opconform-v1.37.0"))
}

func TestAnUnavailableKindTierSkipsEveryLaterCell(t *testing.T) {
	g := NewWithT(t)
	starts := &fakeStarts{release: make(chan struct{}), fail: map[string]error{"v1.37.0": ErrKindUnavailable}}
	close(starts.release)
	p := pool(t, starts)
	_, err := p.Cluster(context.Background(), "v1.37.0")
	g.Expect(err).To(MatchError(ErrKindUnavailable))
	p.pending.Wait()
	_, err = p.Cluster(context.Background(), "v1.99.0")
	g.Expect(err).To(MatchError(ErrKindUnavailable), "later cells skip without trying")
	p.Required = true
	_, err = p.Cluster(context.Background(), "v1.99.0")
	g.Expect(err).To(MatchError(ContainSubstring("the kind tier is required in this run")))
}

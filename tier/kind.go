package tier

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
)

// NodeImages pins kind's node image, by digest, per Kubernetes version (kind v0.33.0).
var NodeImages = map[string]string{
	"v1.37.0": "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5",
}

// ErrKindUnavailable is returned by Preflight when a kind cluster cannot be made here.
var ErrKindUnavailable = errors.New("kind tier unavailable")

// preflightWait bounds each preflight command.
const preflightWait = 2 * time.Minute

// Preflight checks, before anything is created, that a kind cluster of Kubernetes version
// kube can be made here: a Docker engine answers, the node image is present (or may be
// pulled: OPCONFORM_DOWNLOAD=1), and the engine runs privileged containers. Its error is
// one line naming what is missing.
func Preflight(ctx context.Context, kube string) error {
	image, ok := NodeImages[kube]
	if !ok {
		return fmt.Errorf("%w: no kind node image pinned for Kubernetes %s (tier.NodeImages has %v)", ErrKindUnavailable, kube, keys(NodeImages))
	}
	if out, err := docker(ctx, "info", "--format", "{{.ServerVersion}}"); err != nil {
		return fmt.Errorf("%w: no Docker engine answers (docker info: %s); install and start one", ErrKindUnavailable, out)
	}
	if _, err := docker(ctx, "image", "inspect", image); err != nil {
		if os.Getenv("OPCONFORM_DOWNLOAD") != "1" {
			return fmt.Errorf("%w: node image %s is not present; pull it (docker pull) or set OPCONFORM_DOWNLOAD=1 where a registry is reachable", ErrKindUnavailable, image)
		}
		if out, err := docker(ctx, "pull", image); err != nil {
			return fmt.Errorf("%w: pulling node image %s: %s", ErrKindUnavailable, image, out)
		}
	}
	if out, err := docker(ctx, "run", "--rm", "--privileged", "--network", "host", "--entrypoint", "true", image); err != nil {
		return fmt.Errorf("%w: the Docker engine refuses privileged containers, which kind nodes need (%s)", ErrKindUnavailable, out)
	}
	return nil
}

// docker runs a docker command, bounded, and returns its last output line.
func docker(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, preflightWait)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return lastLine(out.String()), err
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Kind is a kind cluster made for one run.
type Kind struct {
	// Name is unique per run; Kubeconfig reaches the cluster.
	Name       string
	Kubeconfig string
	provider   *cluster.Provider
	keep       bool
}

// kindReady bounds cluster creation.
const kindReady = 5 * time.Minute

// CreateKind makes a cluster for Kubernetes version kube with kind's Go API, after the
// preflight. With keep (KEEP_CLUSTER=1) Delete leaves it running and says how to reach it.
func CreateKind(ctx context.Context, kube, dir string, keep bool) (*Kind, error) {
	if err := Preflight(ctx, kube); err != nil {
		return nil, err
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	k := &Kind{
		Name:       "opconform-" + strings.ReplaceAll(strings.TrimPrefix(kube, "v"), ".", "-") + "-" + hex.EncodeToString(suffix),
		Kubeconfig: filepath.Join(dir, "kind-kubeconfig"),
		provider:   cluster.NewProvider(cluster.ProviderWithDocker()),
		keep:       keep,
	}
	err := k.provider.Create(k.Name,
		cluster.CreateWithNodeImage(NodeImages[kube]),
		cluster.CreateWithKubeconfigPath(k.Kubeconfig),
		cluster.CreateWithWaitForReady(kindReady),
		cluster.CreateWithDisplayUsage(false), cluster.CreateWithDisplaySalutation(false))
	if err != nil {
		_ = k.provider.Delete(k.Name, k.Kubeconfig)
		return nil, fmt.Errorf("creating kind cluster %s: %w", k.Name, err)
	}
	return k, nil
}

// LoadImage loads a local image into every node, as `kind load docker-image` does.
func (k *Kind) LoadImage(ctx context.Context, image string) error {
	archive := filepath.Join(filepath.Dir(k.Kubeconfig), "image.tar")
	if out, err := docker(ctx, "save", "-o", archive, image); err != nil {
		return fmt.Errorf("saving %s: %s", image, out)
	}
	defer os.Remove(archive)
	nodes, err := k.provider.ListInternalNodes(k.Name)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		f, err := os.Open(archive)
		if err != nil {
			return err
		}
		err = nodeutils.LoadImageArchive(n, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("loading %s into %s: %w", image, n.String(), err)
		}
	}
	return nil
}

// Delete deletes the cluster, or with keep says how to reach it and leaves it.
func (k *Kind) Delete() (string, error) {
	if k.keep {
		return fmt.Sprintf("KEEP_CLUSTER=1: kept kind cluster %s; reach it with: kubectl --kubeconfig %s get apiservices; delete it with: kind delete cluster --name %s", k.Name, k.Kubeconfig, k.Name), nil
	}
	return "", k.provider.Delete(k.Name, k.Kubeconfig)
}

// lastLine is the last non-empty line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

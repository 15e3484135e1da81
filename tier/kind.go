package tier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
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

// lastLine is the last non-empty line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

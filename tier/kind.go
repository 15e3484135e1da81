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
// Where it cannot be pulled, an image of the same version built here by
// scripts/build-node-image.sh (make node-image) is used: BuiltNodeImage.
var NodeImages = map[string]string{
	"v1.37.0": "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5",
}

// BuiltNodeImage is the name scripts/build-node-image.sh gives the node image it builds.
func BuiltNodeImage(kube string) string { return "opconform/kind-node:" + kube }

// ErrKindUnavailable is returned by Preflight when a kind cluster cannot be made here.
var ErrKindUnavailable = errors.New("kind tier unavailable")

// Preflight checks, before anything is created, that a kind cluster of Kubernetes version
// kube can be made here, and returns the node image to make it from: a Docker engine
// answers; the pinned kindest/node is present (or may be pulled: OPCONFORM_DOWNLOAD=1), or
// else the image built here is; and the engine runs privileged containers (on machines
// that lack a capability privileged containers ask for, make docker-up registers the
// runtime that drops it). Each command is bounded by wait. Its error is one line naming
// what is missing.
func Preflight(ctx context.Context, kube string, wait time.Duration) (string, error) {
	pinned, ok := NodeImages[kube]
	if !ok {
		return "", fmt.Errorf("%w: no kind node image pinned for Kubernetes %s (tier.NodeImages has %v)", ErrKindUnavailable, kube, keys(NodeImages))
	}
	if out, err := docker(ctx, wait, "info", "--format", "{{.ServerVersion}}"); err != nil {
		return "", fmt.Errorf("%w: no Docker engine answers (docker info: %s); make docker-up starts one", ErrKindUnavailable, out)
	}
	image, err := nodeImage(ctx, wait, kube, pinned)
	if err != nil {
		return "", fmt.Errorf("the node image of Kubernetes %s: %w", kube, err)
	}
	if out, err := docker(ctx, wait, "run", "--rm", "--privileged", "--network", "none", "--entrypoint", "true", image); err != nil {
		hint := "make docker-up starts one that can"
		if !HostFacts().SysResource {
			hint = "this machine lacks CAP_SYS_RESOURCE: stop the engine and run make docker-up, which registers hack/runc-capdrop"
		}
		return "", fmt.Errorf("%w: the Docker engine refuses privileged containers, which kind nodes are (%s); %s", ErrKindUnavailable, out, hint)
	}
	return image, nil
}

// nodeImage picks the node image: the pinned one where it is present or may be pulled,
// else the one built here.
func nodeImage(ctx context.Context, wait time.Duration, kube, pinned string) (string, error) {
	if _, err := docker(ctx, wait, "image", "inspect", pinned); err == nil {
		return pinned, nil
	}
	built := BuiltNodeImage(kube)
	if _, err := docker(ctx, wait, "image", "inspect", built); err == nil {
		return built, nil
	}
	if os.Getenv("OPCONFORM_DOWNLOAD") == "1" {
		if out, err := docker(ctx, wait, "pull", pinned); err != nil {
			return "", fmt.Errorf("%w: pulling node image %s: %s", ErrKindUnavailable, pinned, out)
		}
		return pinned, nil
	}
	return "", fmt.Errorf("%w: neither node image %s nor %s is present: build one here with make node-image KUBERNETES=%s, or set OPCONFORM_DOWNLOAD=1 where a registry is reachable", ErrKindUnavailable, pinned, built, kube)
}

// docker runs a docker command, bounded by wait, and returns its last output line.
func docker(ctx context.Context, wait time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
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

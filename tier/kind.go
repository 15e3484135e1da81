package tier

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// NodeImages pins kind's node image, by digest, per Kubernetes version: each is the default
// image of the kind release named beside it (pkg/apis/config/defaults/image.go), which that
// release was tested with; kind supports other releases' images on a best-effort basis.
// Where it cannot be pulled, an image of the same version built here by
// scripts/build-node-image.sh (make node-image) is used: BuiltNodeImage. Which one a run
// uses is decided in prepare.
var NodeImages = map[string]string{
	"v1.37.0": "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5", // kind v0.33.0
	"v1.36.1": "kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5", // kind v0.32.0
}

// BuiltNodeImage is the name scripts/build-node-image.sh gives the node image it builds.
func BuiltNodeImage(kube string) string { return "opconform/kind-node:" + kube }

// ErrKindUnavailable says a kind cluster cannot be made here (prepare decides it before
// anything is created).
var ErrKindUnavailable = errors.New("kind tier unavailable")

// PinnedVersions are the Kubernetes versions NodeImages pins, in order.
func PinnedVersions() []string { return slices.Sorted(maps.Keys(NodeImages)) }

// Docker runs a docker command, bounded by wait, and returns its last output line.
func Docker(ctx context.Context, wait time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return lastLine(out.String()), err
}

// lastLine is the last non-empty line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// Package prepare decides, once, what a run needs before its first cell and prepares it:
// the apiserver tier's control plane (built here and cached), the kind tier's node image of
// each Kubernetes version (the pinned kindest/node where it is present or may be pulled,
// else one built here), whether this machine's Docker engine can run kind's nodes, the fake
// operator's image, and the host's facts kind's configuration depends on. `opconform
// prepare` (which make conformance calls) writes the result to a file the suite reads; a
// suite run without one calls Run itself.
package prepare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/tier"
)

// OperatorImage is the name the fake operator's image is built under for the kind tier.
const OperatorImage = "opconform/fakeoperator:dev"

// Options is what Run prepares for.
type Options struct {
	// Root is the repository (its scripts/ build what is missing).
	Root string
	// Cells are the run's cells: their tiers, and the kind cells' Kubernetes versions, say
	// what is prepared.
	Cells []matrix.Cell
	// KindRequired builds a missing node image and makes kind's unavailability an error;
	// without it (make test) nothing long is built for kind, and its cells skip with the
	// reason.
	KindRequired bool
	// Timeouts bound the builds (Setup; NodeImage) and each docker command (Preflight).
	Timeouts matrix.Timeouts
	// Progress receives a line per decision and the builds' progress.
	Progress io.Writer
}

// Prepared is what Run prepared, for the suite.
type Prepared struct {
	// ControlPlane is the directory holding kube-apiserver and etcd (apiserver tier).
	ControlPlane string `json:"controlPlane,omitempty"`
	// NodeImages is the node image of each Kubernetes version (kind tier).
	NodeImages map[string]string `json:"nodeImages,omitempty"`
	// KindUnavailable says why kind cannot make clusters here (kind cells then skip).
	KindUnavailable string `json:"kindUnavailable,omitempty"`
	// OperatorImage is the fake operator's image, built for the kind tier.
	OperatorImage string `json:"operatorImage,omitempty"`
	// Host is what this machine lets kind's nodes do.
	Host tier.Host `json:"host"`
}

// Run prepares what the tiers of o need, and says what it decided on o.Progress.
func Run(ctx context.Context, o Options) (Prepared, error) {
	out := o.Progress
	if out == nil {
		out = io.Discard
	}
	p := Prepared{Host: tier.HostFacts()}
	tiers, kubes := needs(o.Cells)
	if slices.Contains(tiers, matrix.TierAPIServer) {
		dir, err := script(ctx, o, o.Timeouts.Setup.Duration, "build-control-plane.sh")
		if err != nil {
			return p, fmt.Errorf("the apiserver tier's control plane: %w", err)
		}
		p.ControlPlane = dir
		fmt.Fprintf(out, "prepare: the apiserver tier's kube-apiserver and etcd: %s\n", dir)
	}
	if !slices.Contains(tiers, matrix.TierKind) {
		return p, nil
	}
	images, err := nodeImages(ctx, o, kubes, p.Host, out)
	if err != nil {
		if o.KindRequired || !errors.Is(err, tier.ErrKindUnavailable) {
			return p, err
		}
		p.KindUnavailable = err.Error()
		fmt.Fprintf(out, "prepare: kind cells will not run here: %s\n", err)
		return p, nil
	}
	p.NodeImages = images
	if _, err := script(ctx, o, o.Timeouts.Setup.Duration, "image.sh", "build", OperatorImage); err != nil {
		return p, fmt.Errorf("the fake operator's image: %w", err)
	}
	p.OperatorImage = OperatorImage
	fmt.Fprintf(out, "prepare: the fake operator's image %s built\n", OperatorImage)
	return p, nil
}

// nodeImages decides the node image of each Kubernetes version and checks, before anything
// is created, that the Docker engine runs it as kind runs its nodes (privileged); host says
// what to suggest when it does not.
func nodeImages(ctx context.Context, o Options, kubes []string, host tier.Host, out io.Writer) (map[string]string, error) {
	wait := o.Timeouts.Preflight.Duration
	if info, err := tier.Docker(ctx, wait, "info", "--format", "{{.ServerVersion}}"); err != nil {
		return nil, fmt.Errorf("%w: no Docker engine answers (docker info: %s); make docker-up starts one", tier.ErrKindUnavailable, info)
	}
	images := map[string]string{}
	for _, kube := range kubes {
		image, how, err := nodeImage(ctx, o, kube, out)
		if err != nil {
			return nil, fmt.Errorf("the node image of Kubernetes %s: %w", kube, err)
		}
		if msg, err := tier.Docker(ctx, wait, "run", "--rm", "--privileged", "--network", "none", "--entrypoint", "true", image); err != nil {
			hint := "make docker-up starts one that can"
			if !host.SysResource {
				hint = "this machine lacks CAP_SYS_RESOURCE: stop the engine and run make docker-up, which registers hack/runc-capdrop"
			}
			return nil, fmt.Errorf("%w: the Docker engine refuses privileged containers, which kind nodes are (%s); %s", tier.ErrKindUnavailable, msg, hint)
		}
		images[kube] = image
		fmt.Fprintf(out, "prepare: kind clusters of Kubernetes %s can be made here, from %s (%s)\n", kube, image, how)
	}
	return images, nil
}

// nodeImage is the one decision of which node image a version runs: the pinned kindest/node
// where it is present or may be pulled (OPCONFORM_DOWNLOAD=1), else the one built here,
// building it when the run requires kind. how says which, for the progress line.
func nodeImage(ctx context.Context, o Options, kube string, out io.Writer) (image, how string, err error) {
	wait := o.Timeouts.Preflight.Duration
	pinned, ok := tier.NodeImages[kube]
	if !ok {
		return "", "", fmt.Errorf("%w: no kind node image is pinned for Kubernetes %s (tier.NodeImages has %s)",
			tier.ErrKindUnavailable, kube, strings.Join(tier.PinnedVersions(), ", "))
	}
	if _, err := tier.Docker(ctx, wait, "image", "inspect", pinned); err == nil {
		return pinned, "pinned, present", nil
	}
	built := tier.BuiltNodeImage(kube)
	if _, err := tier.Docker(ctx, wait, "image", "inspect", built); err == nil {
		return built, "built here earlier", nil
	}
	if os.Getenv("OPCONFORM_DOWNLOAD") == "1" {
		if msg, err := tier.Docker(ctx, o.Timeouts.NodeImage.Duration, "pull", pinned); err != nil {
			return "", "", fmt.Errorf("%w: pulling node image %s: %s", tier.ErrKindUnavailable, pinned, msg)
		}
		return pinned, "pinned, pulled (OPCONFORM_DOWNLOAD=1)", nil
	}
	if !o.KindRequired {
		return "", "", fmt.Errorf("%w: neither node image %s nor %s is present: make node-image KUBERNETES=%s builds one here "+
			"(make conformance TIER=kind does so itself), or set OPCONFORM_DOWNLOAD=1 where a registry is reachable",
			tier.ErrKindUnavailable, pinned, built, kube)
	}
	fmt.Fprintf(out, "prepare: no node image of Kubernetes %s is present and none can be pulled: building %s here "+
		"(scripts/build-node-image.sh; about 30 minutes cold on 2 cores, cached after)\n", kube, built)
	start := time.Now()
	if _, err := script(ctx, o, o.Timeouts.NodeImage.Duration, "build-node-image.sh", kube); err != nil {
		return "", "", fmt.Errorf("building node image %s: %w", built, err)
	}
	return built, fmt.Sprintf("built here now in %s", time.Since(start).Round(time.Second)), nil
}

// script runs scripts/name bounded by wait, its progress (stderr) on o.Progress, and
// returns the last line of its output.
func script(ctx context.Context, o Options, wait time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(o.Root, "scripts", name), args...)
	cmd.Dir = o.Root
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if o.Progress != nil {
		cmd.Stderr = io.MultiWriter(&stderr, o.Progress)
	}
	cmd.WaitDelay = o.Timeouts.Stop.Duration
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("scripts/%s did not finish within %s", name, wait)
		}
		return "", fmt.Errorf("scripts/%s: %w: %s", name, err, tail(stderr.String(), 10))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	return lines[len(lines)-1], nil
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// needs are the tiers of cells and the Kubernetes versions of their kind cells, in order.
func needs(cells []matrix.Cell) (tiers, kubes []string) {
	for _, c := range cells {
		if !slices.Contains(tiers, c.Tier) {
			tiers = append(tiers, c.Tier)
		}
		if c.Tier == matrix.TierKind && !slices.Contains(kubes, c.Kubernetes) {
			kubes = append(kubes, c.Kubernetes)
		}
	}
	slices.Sort(tiers)
	slices.Sort(kubes)
	return tiers, kubes
}

// Write writes p to path, for the suite.
func (p Prepared) Write(path string) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding what was prepared: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing what was prepared: %w", err)
	}
	return nil
}

// Load reads what `opconform prepare` wrote to path and checks that it prepared what the
// run's cells need.
func Load(path string, cells []matrix.Cell) (Prepared, error) {
	var p Prepared
	data, err := os.ReadFile(path)
	if err != nil {
		return p, fmt.Errorf("reading what was prepared: %w", err)
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	tiers, kubes := needs(cells)
	if slices.Contains(tiers, matrix.TierAPIServer) && p.ControlPlane == "" {
		return p, fmt.Errorf("%s: controlPlane: empty, but the run has the apiserver tier (opconform prepare --tier apiserver prepares it)", path)
	}
	if p.KindUnavailable == "" {
		for _, kube := range kubes {
			if p.NodeImages[kube] == "" {
				return p, fmt.Errorf("%s: nodeImages: none for Kubernetes %s, which the run's kind cells need "+
					"(opconform prepare with the run's selection prepares it)", path, kube)
			}
		}
	}
	return p, nil
}

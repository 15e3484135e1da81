package prepare

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/tier"
)

// root makes a repository whose scripts/ holds the given scripts (name → body).
func root(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, "scripts", name), []byte("#!/usr/bin/env bash\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func options(r string, cells ...matrix.Cell) Options {
	return Options{Root: r, Cells: cells, Timeouts: matrix.DefaultTimeouts()}
}

func TestFakeCellsNeedNothingBuilt(t *testing.T) {
	g := NewWithT(t)
	var progress bytes.Buffer
	o := options(root(t, nil), matrix.Cell{Tier: matrix.TierFake})
	o.Progress = &progress
	p, err := Run(context.Background(), o)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.ControlPlane).To(BeEmpty())
	g.Expect(p.NodeImages).To(BeEmpty())
	g.Expect(p.OperatorImage).To(BeEmpty())
	g.Expect(p.Host).To(Equal(tier.HostFacts()))
	g.Expect(progress.String()).To(BeEmpty(), "nothing decided, nothing said")
}

func TestTheControlPlaneIsWhatItsScriptPrints(t *testing.T) {
	g := NewWithT(t)
	var progress bytes.Buffer
	r := root(t, map[string]string{"build-control-plane.sh": `echo "building etcd" >&2; echo "/cache/bin/control-plane-x"`})
	o := options(r, matrix.Cell{Tier: matrix.TierAPIServer}, matrix.Cell{Tier: matrix.TierFake})
	o.Progress = &progress
	p, err := Run(context.Background(), o)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.ControlPlane).To(Equal("/cache/bin/control-plane-x"))
	g.Expect(progress.String()).To(ContainSubstring("building etcd"), "the build's progress shows")
	g.Expect(progress.String()).To(ContainSubstring("prepare: the apiserver tier's kube-apiserver and etcd: /cache/bin/control-plane-x"))
}

func TestAFailedOrSlowBuildSaysWhich(t *testing.T) {
	g := NewWithT(t)
	r := root(t, map[string]string{"build-control-plane.sh": `echo "go: module lookup disabled" >&2; exit 3`})
	_, err := Run(context.Background(), options(r, matrix.Cell{Tier: matrix.TierAPIServer}))
	g.Expect(err).To(MatchError(And(ContainSubstring("the apiserver tier's control plane: scripts/build-control-plane.sh"),
		ContainSubstring("exit status 3"), ContainSubstring("go: module lookup disabled"))))

	r = root(t, map[string]string{"build-control-plane.sh": `sleep 30`})
	o := options(r, matrix.Cell{Tier: matrix.TierAPIServer})
	o.Timeouts.Setup.Duration = 200 * time.Millisecond
	o.Timeouts.Stop.Duration = time.Second
	_, err = Run(context.Background(), o)
	g.Expect(err).To(MatchError(ContainSubstring("scripts/build-control-plane.sh did not finish within 200ms")))
}

func TestUnpinnedVersionsAreRefused(t *testing.T) {
	_, _, err := nodeImage(context.Background(), options(t.TempDir()), "v1.2.3", &bytes.Buffer{})
	g := NewWithT(t)
	g.Expect(err).To(MatchError(tier.ErrKindUnavailable))
	g.Expect(err).To(MatchError(ContainSubstring("no kind node image is pinned for Kubernetes v1.2.3 (tier.NodeImages has v1.36.1, v1.37.0)")))
}

// TestTheKindPreflightNamesWhatIsMissing decides the node images on this machine, without
// building one. Where kind can make clusters it finds an image; elsewhere its one line
// names what is missing, and nothing was created.
func TestTheKindPreflightNamesWhatIsMissing(t *testing.T) {
	g := NewWithT(t)
	var progress bytes.Buffer
	images, err := nodeImages(context.Background(), options(t.TempDir()), []string{"v1.37.0"}, tier.HostFacts(), &progress)
	if err == nil {
		g.Expect(images).To(HaveKeyWithValue("v1.37.0", Or(Equal(tier.NodeImages["v1.37.0"]), Equal(tier.BuiltNodeImage("v1.37.0")))))
		g.Expect(progress.String()).To(ContainSubstring("prepare: kind clusters of Kubernetes v1.37.0 can be made here, from " + images["v1.37.0"]))
		return
	}
	t.Logf("preflight: %v", err)
	g.Expect(err).To(MatchError(tier.ErrKindUnavailable))
	g.Expect(err.Error()).NotTo(ContainSubstring("\n"), "one line")
	g.Expect(err.Error()).To(Or(ContainSubstring("Docker engine"), ContainSubstring("make node-image KUBERNETES=v1.37.0"), ContainSubstring("privileged")))
	if _, lookErr := exec.LookPath("docker"); lookErr == nil {
		out, _ := exec.Command("docker", "ps", "-a", "--filter", "label=io.x-k8s.kind.cluster", "--format", "{{.Names}}").Output()
		g.Expect(string(out)).To(BeEmpty(), "the preflight created no kind node")
	}
}

func TestLoadChecksWhatTheCellsNeed(t *testing.T) {
	g := NewWithT(t)
	path := filepath.Join(t.TempDir(), "prepared.json")
	api, kind := matrix.Cell{Tier: matrix.TierAPIServer}, matrix.Cell{Tier: matrix.TierKind, Kubernetes: "v1.37.0"}

	g.Expect(Prepared{NodeImages: map[string]string{"v1.37.0": "img"}}.Write(path)).To(Succeed())
	_, err := Load(path, []matrix.Cell{api})
	g.Expect(err).To(MatchError(ContainSubstring("controlPlane: empty, but the run has the apiserver tier")))
	p, err := Load(path, []matrix.Cell{kind})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.NodeImages).To(HaveKeyWithValue("v1.37.0", "img"))

	g.Expect(Prepared{ControlPlane: "/bin"}.Write(path)).To(Succeed())
	_, err = Load(path, []matrix.Cell{api, kind})
	g.Expect(err).To(MatchError(ContainSubstring("nodeImages: none for Kubernetes v1.37.0")))

	g.Expect(Prepared{KindUnavailable: "kind tier unavailable: no Docker engine answers"}.Write(path)).To(Succeed())
	p, err = Load(path, []matrix.Cell{kind})
	g.Expect(err).NotTo(HaveOccurred(), "kind cells skip with the reason")
	g.Expect(p.KindUnavailable).To(ContainSubstring("no Docker engine"))

	g.Expect(os.WriteFile(path, []byte("{"), 0o644)).To(Succeed())
	_, err = Load(path, nil)
	g.Expect(err).To(MatchError(ContainSubstring(path)))
	_, err = Load(filepath.Join(t.TempDir(), "none.json"), nil)
	g.Expect(err).To(MatchError(ContainSubstring("reading what was prepared")))
}

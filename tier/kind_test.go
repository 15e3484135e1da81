package tier

import (
	"context"
	"os/exec"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// TestPreflightNamesWhatIsMissing runs the kind preflight on this machine. Where kind can
// make clusters it passes; elsewhere its one line names what is missing, and nothing was
// created.
func TestPreflightNamesWhatIsMissing(t *testing.T) {
	g := NewWithT(t)
	image, err := Preflight(context.Background(), "v1.37.0", time.Minute)
	if err == nil {
		t.Logf("kind clusters can be made on this machine, from %s", image)
		return
	}
	t.Logf("preflight: %v", err)
	g.Expect(err).To(MatchError(ErrKindUnavailable))
	g.Expect(err.Error()).NotTo(ContainSubstring("\n"), "one line")
	g.Expect(err.Error()).To(Or(ContainSubstring("Docker engine"), ContainSubstring("node image"), ContainSubstring("privileged"), ContainSubstring("make node-image")))
	if _, lookErr := exec.LookPath("docker"); lookErr == nil {
		out, _ := exec.Command("docker", "ps", "-a", "--filter", "label=io.x-k8s.kind.cluster", "--format", "{{.Names}}").Output()
		g.Expect(string(out)).To(BeEmpty(), "the preflight created no kind node")
	}
}

func TestPreflightRefusesUnpinnedVersions(t *testing.T) {
	_, err := Preflight(context.Background(), "v1.2.3", time.Minute)
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring("no kind node image pinned for Kubernetes v1.2.3")))
}

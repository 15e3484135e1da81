package scripts

import (
	"os"
	"regexp"
	"slices"
	"testing"

	. "github.com/onsi/gomega"

	// the names matrix.yaml's defects and profiles are checked against
	_ "github.com/opconform/opconform/client"
	_ "github.com/opconform/opconform/fakeoperator"
	"github.com/opconform/opconform/matrix"
)

// TestOneKubernetesBuildServesBothTiers: the apiserver tier's Kubernetes (scripts/lib/
// versions.sh) is a version the kind tier runs, so the node image of that version takes its
// kube-apiserver and etcd from the control plane's build instead of building them again.
func TestOneKubernetesBuildServesBothTiers(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile("lib/versions.sh")
	g.Expect(err).NotTo(HaveOccurred())
	pinned := regexp.MustCompile(`(?m)^KUBERNETES_VERSION="([^"]+)"$`).FindSubmatch(data)
	g.Expect(pinned).NotTo(BeNil(), "versions.sh pins KUBERNETES_VERSION")
	m, err := matrix.Load("../matrix.yaml")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(slices.Contains(m.Kubernetes, string(pinned[1]))).To(BeTrue(),
		"KUBERNETES_VERSION %s is one of matrix.yaml's kubernetes %v", pinned[1], m.Kubernetes)
}

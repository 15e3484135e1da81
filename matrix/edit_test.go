package matrix

import (
	"os"
	"testing"

	. "github.com/onsi/gomega"
)

// TestAddEntries: an entry goes after the last of its kind in its section, comments kept;
// one that is there already is ErrExists; a file that would not load is left as it was.
func TestAddEntries(t *testing.T) {
	g := NewWithT(t)
	path := t.TempDir() + "/matrix.yaml"
	orig := "tiers: [fake]\nclients:\n  # the first\n  - {name: mirrord-3.250.0, version: 3.250.0}\noperators:\n  - {name: current-3.250.0, version: 3.250.0}\n"
	g.Expect(os.WriteFile(path, []byte(orig), 0o644)).To(Succeed())
	g.Expect(AddClient(path, "3.251.0")).To(Succeed())
	g.Expect(AddOperator(path, "current-3.251.0", "3.251.0")).To(Succeed())
	data, _ := os.ReadFile(path)
	g.Expect(string(data)).To(Equal("tiers: [fake]\nclients:\n  # the first\n  - {name: mirrord-3.250.0, version: 3.250.0}\n  - {name: mirrord-3.251.0, version: 3.251.0}\noperators:\n  - {name: current-3.250.0, version: 3.250.0}\n  - {name: current-3.251.0, version: 3.251.0}\n"))
	g.Expect(AddClient(path, "3.251.0")).To(MatchError(ErrExists))
	g.Expect(AddOperator(path, "bad", "3.1")).To(MatchError(ContainSubstring("would not load")))
	after, _ := os.ReadFile(path)
	g.Expect(after).To(Equal(data), "unchanged")
}

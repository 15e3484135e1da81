package matrix

import (
	"testing"

	. "github.com/onsi/gomega"
)

// TestKnownNames: a name is checked against what was registered, and a program that
// registered none is told so rather than letting the name through.
func TestKnownNames(t *testing.T) {
	g := NewWithT(t)
	g.Expect(checkKnown("defect", "no-refresh", []string{"no-refresh", "omit-hostname"})).To(Succeed())
	g.Expect(checkKnown("defect", "bogus", []string{"no-refresh", "omit-hostname"})).To(MatchError(`unknown defect "bogus"; known: no-refresh, omit-hostname`))
	g.Expect(checkKnown("defect", "bogus", nil)).To(MatchError(ContainSubstring(`defect "bogus" cannot be checked: this program registered no defects`)))
}

package matrix_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/client"
	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/fakeoperator"
	"github.com/opconform/opconform/matrix"
)

func TestLoadMinimalDefaults(t *testing.T) {
	g := NewWithT(t)
	m, err := matrix.Load("testdata/valid-minimal.yaml")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(m.Tiers).To(Equal([]string{matrix.TierFake}))
	g.Expect(m.Clients[0].Driver).To(Equal(matrix.DriverReference))
	g.Expect(m.Clients[0].Contract).To(Equal(matrix.DefaultContract))
	g.Expect(m.Operators[0].Kind).To(Equal(matrix.KindFake))
	g.Expect(m.Timeouts.Cell.Duration).NotTo(BeZero())
	cells := m.Expand(matrix.Filter{})
	g.Expect(cells).To(HaveLen(1))
	g.Expect(cells[0].ID).To(Equal("fake/o/c"))
	g.Expect(cells[0].Contract.Headers).To(Equal(contract.MirrordHeaders()))
}

func TestValidateReportsEveryProblemWithItsPath(t *testing.T) {
	g := NewWithT(t)
	_, err := matrix.Load("testdata/invalid-everything.yaml")
	g.Expect(err).To(HaveOccurred())
	for _, want := range []string{
		`tiers[1] (line 1): unknown tier "cloud"`,
		`clients[0].version (line 3): "v3.250.0" has a "v" prefix: write 3.250.0`,
		`clients[0].defect (line 3): unknown defect "bogus"`,
		`clients[1].name (line 4): duplicate name "c"`,
		`clients[1].driver (line 4): unknown driver "magic"`,
		`clients[1].contract (line 4): unknown contract "nope"`,
		`clients[1].operators[0] (line 4): unknown operator "ghost"`,
		`clients[2].expectFail[0].requirement (line 7): unknown requirement "NOPE"`,
		`operators[0].version (line 9): "3.1" is not MAJOR.MINOR.PATCH: write 3.1.0`,
		`operators[0].kind (line 9): unknown kind "imaginary"`,
		`operators[0].minClientVersion (line 9): "latest" is not SemVer`,
		`operators[1].profile (line 10): unknown operator profile "unknown-profile"`,
		`operators[1].clients[0] (line 10): unknown client "nobody"`,
		`contracts[0].requirements[0].id (line 17): unknown requirement "NOPE"`,
		`operators[2].real (line 11): required for kind real`,
		`operators[3].real.licenseEnv (line 12): required`,
		`contracts[0].requirements[1].clients (line 18): ">= banana" is not a SemVer constraint`,
	} {
		g.Expect(err.Error()).To(ContainSubstring(want))
	}
}

func TestStrictUnmarshal(t *testing.T) {
	_, err := matrix.Load("testdata/invalid-unknown-key.yaml")
	NewWithT(t).Expect(err).To(MatchError(ContainSubstring(`clients[0].colour (line 2): unknown field "colour"; known fields: contract, defect`)))
}

func TestEveryKeyProblemAtOnceWithItsLine(t *testing.T) {
	g := NewWithT(t)
	_, err := matrix.Load("testdata/invalid-keys.yaml")
	g.Expect(err).To(HaveOccurred())
	for _, want := range []string{
		`Tiers (line 2): unknown field "Tiers" (keys are case-sensitive: did you mean "tiers"?)`,
		`clients[0].extrnal (line 4): unknown field "extrnal"; known fields:`,
		`clients[1].Version (line 6): unknown field "Version" (keys are case-sensitive: did you mean "version"?)`,
		`clients[1].name (line 7): duplicate key, first at line 5`,
		`operators[0].clients[0] (line 9): unknown client "nobody"`,
		`see README.md, "Adding a client or operator version"`,
	} {
		g.Expect(err.Error()).To(ContainSubstring(want))
	}
	g.Expect(strings.Count(err.Error(), "\n")).To(Equal(5), "one line per problem, then where to read more:\n%s", err)
}

func TestDefaultMatrixCoversTheContractHistory(t *testing.T) {
	g := NewWithT(t)
	m, err := matrix.Load("../matrix.yaml")
	g.Expect(err).NotTo(HaveOccurred())
	versions := map[string]bool{}
	defects := map[string]bool{}
	for _, c := range m.Clients {
		versions[c.Version] = true
		if c.Defect != "" {
			defects[c.Defect] = true
			g.Expect(c.ExpectFail).NotTo(BeEmpty(), "negative control %s names what it must break", c.Name)
		}
	}
	for _, v := range []string{"3.41.0", "3.46.0", "3.85.0", "3.108.0", "3.109.0", "3.164.0", "3.224.0", "3.250.0"} {
		g.Expect(versions).To(HaveKey(v))
	}
	g.Expect(defects).To(HaveLen(len(client.Defects)), "every defect of the reference client is a negative control")
	cells := m.Expand(matrix.Filter{Tiers: []string{matrix.TierFake}})
	g.Expect(len(cells)).To(BeNumerically(">=", 40))
	broken := 0
	for _, c := range cells {
		if c.Operator.Profile != "" {
			broken++
			g.Expect(c.Expect).NotTo(BeEmpty())
		}
	}
	g.Expect(broken).To(Equal(len(fakeoperator.Profiles())-3), "every broken profile is a negative control")
	g.Expect(m.Expand(matrix.Filter{Clients: []string{"mirrord-3.250.0"}, Operators: []string{"current-3.250.0"}})).To(HaveLen(4), "one per tier and, on kind, per Kubernetes version")
}

// TestEveryMustRequirementCanFail: every side of every MUST requirement has a negative
// control in the repository's matrix.
func TestEveryMustRequirementCanFail(t *testing.T) {
	g := NewWithT(t)
	m, err := matrix.Load("../matrix.yaml")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(m.Uncovered()).To(BeEmpty())

	// without its operator-side control, EARLY-REFUSAL is reported uncovered
	for i := range m.Operators {
		m.Operators[i].ExpectFail = slices.DeleteFunc(m.Operators[i].ExpectFail, func(e matrix.Expectation) bool { return e.Requirement == contract.ReqEarlyRefusal })
	}
	g.Expect(m.Uncovered()).To(Equal([]string{"EARLY-REFUSAL: no operator-side negative control"}))
}

func TestKubernetesSelectsTheKindTiersVersions(t *testing.T) {
	g := NewWithT(t)
	m, err := matrix.Parse([]byte("tiers: [fake, kind]\nkubernetes: [v1.37.0, v1.36.4]\nclients:\n  - {name: c, version: 3.250.0}\noperators:\n  - {name: o, version: 3.250.0}\n"))
	g.Expect(err).NotTo(HaveOccurred())
	ids := func(f matrix.Filter) []string {
		var out []string
		for _, c := range m.Expand(f) {
			out = append(out, c.ID)
		}
		return out
	}
	g.Expect(ids(matrix.Filter{})).To(Equal([]string{"fake/o/c", "kind/v1.37.0/o/c", "kind/v1.36.4/o/c"}))
	g.Expect(ids(matrix.Filter{Tiers: []string{matrix.TierKind}, Kubernetes: []string{"v1.36.4"}})).To(Equal([]string{"kind/v1.36.4/o/c"}), "a kind shard runs only its version")
	g.Expect(ids(matrix.Filter{Kubernetes: []string{"v1.36.4"}})).To(ContainElement("fake/o/c"), "other tiers have no Kubernetes version to select")
	g.Expect(m.CheckFilter(matrix.Filter{Kubernetes: []string{"v1.99.0"}})).To(MatchError(`KUBERNETES: the matrix has no "v1.99.0"; it has: v1.37.0, v1.36.4`))
}

// TestBadValuesAreNamedWithTheirLines: every value that cannot be its field's type is named
// with its path and line, all at once, and a flow mapping left open is found where it opened.
func TestBadValuesAreNamedWithTheirLines(t *testing.T) {
	g := NewWithT(t)
	_, err := matrix.Load("testdata/invalid-values.yaml")
	g.Expect(err).To(HaveOccurred())
	for _, want := range []string{
		`timeouts.cell (line 2): "60sec" is not a duration (write e.g. 60s, 2m, 1m30s)`,
		`timeouts.scenario (line 3): "20x" is not a duration`,
		`clients[0].failEarlyExitCode (line 5): "three" is a string, want int`,
	} {
		g.Expect(err.Error()).To(ContainSubstring(want))
	}
	g.Expect(err.Error()).NotTo(ContainSubstring("error unmarshaling JSON"), "no unmarshalling error without field or line")

	_, err = matrix.Load("testdata/invalid-unclosed-flow.yaml")
	g.Expect(err).To(MatchError(ContainSubstring(`line 3: a { or [ opened on this line is not closed`)))
}

func TestCheckVersion(t *testing.T) {
	g := NewWithT(t)
	for v, want := range map[string]string{
		"3.251":    `"3.251" is not MAJOR.MINOR.PATCH: write 3.251.0`,
		"v3.251.0": `"v3.251.0" has a "v" prefix: write 3.251.0`,
		"3":        `"3" is not MAJOR.MINOR.PATCH: write 3.0.0`,
		"latest":   `"latest" is not SemVer`,
	} {
		g.Expect(matrix.CheckVersion(v)).To(MatchError(ContainSubstring(want)), v)
	}
	g.Expect(matrix.CheckVersion("3.250.0-beta.1+20250616")).To(Succeed())
}

// TestTimeoutsDefaultWhereUnset: a matrix sets the waits it cares about; every other wait
// takes its default, and a negative one is an error naming its field.
func TestTimeoutsDefaultWhereUnset(t *testing.T) {
	g := NewWithT(t)
	m, err := matrix.Parse([]byte("timeouts: {rollout: 7m, request: 2s}\nclients: [{name: c, version: 3.250.0}]\noperators: [{name: o, version: 3.250.0}]\n"))
	g.Expect(err).NotTo(HaveOccurred())
	defaults := matrix.DefaultTimeouts()
	g.Expect(m.Timeouts.Rollout.Duration).To(Equal(7 * time.Minute))
	g.Expect(m.Timeouts.Request.Duration).To(Equal(2 * time.Second))
	g.Expect(m.Timeouts.Setup).To(Equal(defaults.Setup))
	g.Expect(m.Timeouts.KindCluster).To(Equal(defaults.KindCluster))
	g.Expect(m.Timeouts.Cell).To(Equal(defaults.Cell))
	g.Expect(m.Timeouts.Probe.Duration).To(Equal(10 * time.Second))
	g.Expect(m.Timeouts.Stop.Duration).To(Equal(10 * time.Second))
	all := reflect.ValueOf(m.Timeouts)
	for i := range all.NumField() {
		g.Expect(all.Field(i).Interface()).NotTo(BeZero(), "timeouts.%s has a default", all.Type().Field(i).Name)
	}

	_, err = matrix.Parse([]byte("timeouts: {helm: -1m}\nclients: [{name: c, version: 3.250.0}]\noperators: [{name: o, version: 3.250.0}]\n"))
	g.Expect(err).To(MatchError(ContainSubstring("timeouts.helm")))
	g.Expect(err).To(MatchError(ContainSubstring("-1m0s is negative")))
}

// TestCellSubject: a cell's versions are parsed once into what the contract judges it by.
func TestCellSubject(t *testing.T) {
	g := NewWithT(t)
	m, err := matrix.Parse([]byte("clients: [{name: c, version: 3.109.0, failEarlyExitCode: 3}]\noperators: [{name: o, version: 3.250.0, minClientVersion: 3.200.0}]\n"))
	g.Expect(err).NotTo(HaveOccurred())
	s, err := m.Expand(matrix.Filter{})[0].Subject()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.ClientVersion.String()).To(Equal("3.109.0"))
	g.Expect(s.OperatorVersion.String()).To(Equal("3.250.0"))
	g.Expect(s.MinClientVersion.String()).To(Equal("3.200.0"))
	g.Expect(s.FailEarlyExitCode).To(Equal(3))
	g.Expect(s.Headers).To(Equal(contract.MirrordHeaders()))

	cell := matrix.Cell{Client: matrix.Client{Name: "c", Version: "3.250"}, Operator: matrix.Operator{Name: "o", Version: "3.250.0"}}
	_, err = cell.Subject()
	g.Expect(err).To(MatchError(ContainSubstring(`client c: version "3.250"`)))
}

package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/utils/clock"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/tier"
)

func runCell(t *testing.T, client, operator string) *Result {
	t.Helper()
	m, err := matrix.Load("../matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cells := m.Expand(matrix.Filter{Tiers: []string{matrix.TierFake}, Clients: []string{client}, Operators: []string{operator}})
	if len(cells) != 1 {
		t.Fatalf("%d cells for %s × %s", len(cells), client, operator)
	}
	res, err := Run(context.Background(), cells[0], Options{WorkDir: t.TempDir(), ScenarioTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSoundClientAgainstCurrentOperatorPassesEverything(t *testing.T) {
	g := NewWithT(t)
	res := runCell(t, "mirrord-3.250.0", "current-3.250.0")
	for _, f := range res.Findings {
		g.Expect(f.Status).NotTo(Equal(contract.Fail), "%s: %s (%s) in %s", f.Requirement, f.Reason, f.Detail, f.Scenario)
	}
	passed := 0
	for _, f := range res.Findings {
		if f.Status == contract.Pass {
			passed++
		}
	}
	g.Expect(passed).To(BeNumerically(">=", 10), "%+v", res.Findings)
	g.Expect(res.RefusalToExit).NotTo(BeEmpty(), "fixtures were refused")
}

func TestNegativeControlsAreCaught(t *testing.T) {
	m := matrix.MustLoad("../matrix.yaml")
	for _, cell := range m.Expand(matrix.Filter{Tiers: []string{matrix.TierFake}}) {
		if len(cell.Expect) == 0 {
			continue
		}
		t.Run(cell.ID, func(t *testing.T) {
			g := NewWithT(t)
			res, err := Run(context.Background(), cell, Options{WorkDir: t.TempDir(), ScenarioTimeout: 20 * time.Second, RepoRoot: ".."})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Unavailable).To(BeEmpty(), "a negative control that cannot run here proves nothing")
			for _, e := range cell.Expect {
				f, ok := res.Finding(e.Requirement)
				g.Expect(ok).To(BeTrue())
				g.Expect(f.Status).To(Equal(contract.Fail), "%s must fail: %+v", e.Requirement, f)
				g.Expect(f.Reason).To(Equal(e.Reason), "%s fails for the named reason: %s", e.Requirement, f.Detail)
			}
			for _, f := range res.Findings {
				if cell.Expects(f.Requirement) == nil {
					g.Expect(f.Status).NotTo(Equal(contract.Fail), "only the named requirements fail: %s %s %s (%s)", f.Requirement, f.Reason, f.Detail, f.Scenario)
				}
			}
		})
	}
}

func TestGoldenJournalDriftIsAFinding(t *testing.T) {
	g := NewWithT(t)
	m := matrix.MustLoad("../matrix.yaml")
	cell := m.Expand(matrix.Filter{Tiers: []string{matrix.TierFake}, Clients: []string{"mirrord-3.250.0"}, Operators: []string{"current-3.250.0"}})[0]
	golden, err := ReadGolden(GoldenPath("../fixtures/clients", "3.250.0"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(golden).NotTo(BeNil())

	dir := t.TempDir()
	g.Expect(WriteGolden(GoldenPath(dir, "3.250.0"), *golden)).To(Succeed())
	res, err := Run(context.Background(), cell, Options{WorkDir: t.TempDir(), ScenarioTimeout: 20 * time.Second, GoldenDir: dir})
	g.Expect(err).NotTo(HaveOccurred())
	f, _ := res.Finding(contract.ReqGoldenJournal)
	g.Expect(f.Status).To(Equal(contract.Pass), "%+v", f)

	// a golden journal where the status GET carried no version header
	delete(golden.Scenarios[0].Requests[0].Headers, "x-mirrord-cli-version")
	g.Expect(WriteGolden(GoldenPath(dir, "3.250.0"), *golden)).To(Succeed())
	res, err = Run(context.Background(), cell, Options{WorkDir: t.TempDir(), ScenarioTimeout: 20 * time.Second, GoldenDir: dir})
	g.Expect(err).NotTo(HaveOccurred())
	f, _ = res.Finding(contract.ReqGoldenJournal)
	g.Expect(f.Status).To(Equal(contract.Fail))
	g.Expect(f.Reason).To(Equal("drift"))
	g.Expect(f.Detail).To(ContainSubstring("status: request 1 was GET"))
	g.Expect(f.Detail).To(ContainSubstring("x-mirrord-cli-version=semver"))
}

func TestExternalInstallFailures(t *testing.T) {
	m := matrix.MustLoad("../matrix.yaml")
	cells := m.Expand(matrix.Filter{Tiers: []string{matrix.TierFake}, Clients: []string{"mirrord-cli-3.250.0"}})
	if len(cells) != 1 {
		t.Fatalf("%d cells for the released CLI", len(cells))
	}
	for _, tc := range []struct {
		name, install, unavailable, err string
	}{
		{name: "exit 3 is not installable here: the cell skips", install: "echo 'downloads are off' >&2; exit 3", unavailable: "downloads are off"},
		{name: "a missing command skips too", install: "no-such-installer-xyz", unavailable: "not installable here"},
		{name: "any other failure fails the cell", install: "echo 'SHA-256 mismatch' >&2; exit 1", err: "installing client mirrord-cli-3.250.0: echo 'SHA-256 mismatch' >&2; exit 1: exit status 1: SHA-256 mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cell := cells[0]
			ext := *cell.Client.External
			ext.Install = tc.install
			cell.Client.External = &ext
			res, err := Run(context.Background(), cell, Options{WorkDir: t.TempDir(), ScenarioTimeout: 20 * time.Second, RepoRoot: ".."})
			if tc.err != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.err)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Unavailable).To(ContainSubstring(tc.unavailable))
		})
	}
}

// TestPreinstall: every install line of the cells runs once, what installed is handed to
// the cells, and a failed install is left for its cells to run again and report.
func TestPreinstall(t *testing.T) {
	g := NewWithT(t)
	m := matrix.MustLoad("../matrix.yaml")
	cells := m.Expand(matrix.Filter{Tiers: []string{matrix.TierFake}, Clients: []string{"mirrord-cli-3.250.0"}})
	g.Expect(cells).NotTo(BeEmpty())
	dir := t.TempDir()
	count := filepath.Join(dir, "runs")
	var withClients []matrix.Cell
	// two clients of one install line, and one whose install fails
	for _, install := range []string{"echo x >> " + count + "; echo /bin/true", "echo x >> " + count + "; echo /bin/true", "echo broken >&2; exit 1"} {
		c := cells[0]
		ext := *c.Client.External
		ext.Install, ext.Requires = install, nil
		c.Client.External = &ext
		withClients = append(withClients, c)
	}
	got := Preinstall(context.Background(), withClients, dir)
	g.Expect(got).To(HaveLen(1), "the line that failed is not in it")
	runs, err := os.ReadFile(count)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.Count(string(runs), "x")).To(Equal(1), "one run for one line")
	UseInstalled(got)
	path, err := install(context.Background(), withClients[0].Client.External.Install, "3.250.0", dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(path).To(Equal("/bin/true"))
	g.Expect(os.ReadFile(count)).To(Equal(runs), "a preinstalled binary is not installed again")
}

// countingTier is the fake tier, counting the journal reads of its endpoints.
type countingTier struct {
	tier.Fake
	reads *int
}

func (t countingTier) Start(ctx context.Context, cell matrix.Cell, clk clock.PassiveClock) (*tier.Endpoint, error) {
	ep, err := t.Fake.Start(ctx, cell, clk)
	if err != nil {
		return nil, err
	}
	journal := ep.Journal
	ep.Journal = func() []contract.Entry { *t.reads++; return journal() }
	return ep, nil
}

// On kind every journal read is a round trip through kube-apiserver: the read that closes
// one observation window opens the next, so a cell reads the journal once per window, once
// before the first and once for the whole journal at the end.
func TestOneJournalReadPerWindow(t *testing.T) {
	g := NewWithT(t)
	m := matrix.MustLoad("../matrix.yaml")
	cells := m.Expand(matrix.Filter{Tiers: []string{matrix.TierFake}, Clients: []string{"mirrord-3.250.0"}, Operators: []string{"current-3.250.0"}})
	g.Expect(cells).To(HaveLen(1))
	reads := 0
	res, err := Run(context.Background(), cells[0], Options{WorkDir: t.TempDir(), ScenarioTimeout: 20 * time.Second,
		Tiers: map[string]tier.Tier{matrix.TierFake: countingTier{reads: &reads}}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(len(res.Observations)).To(BeNumerically(">", 10))
	g.Expect(reads).To(Equal(len(res.Observations)+2), "journal reads for %d windows", len(res.Observations))
	// and the windows still hold every request: none of the client's fell between them
	total := 0
	for _, o := range res.Observations {
		total += len(o.Entries)
	}
	g.Expect(total).To(Equal(len(res.Journal)))
}

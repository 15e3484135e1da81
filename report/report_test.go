package report

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/matrix"
)

func TestJudge(t *testing.T) {
	fail := contract.Finding{Requirement: contract.ReqVersionHeader, Status: contract.Fail, Reason: "missing", Detail: "d"}
	pass := contract.Finding{Requirement: contract.ReqVersionHeader, Status: contract.Pass}
	exp := &matrix.Expectation{Requirement: contract.ReqVersionHeader, Reason: "missing"}
	for _, tc := range []struct {
		name string
		f    contract.Finding
		exp  *matrix.Expectation
		want Outcome
	}{
		{"pass", pass, nil, Pass},
		{"fail", fail, nil, Fail},
		{"caught", fail, exp, ExpectedFail},
		{"caught for another reason", fail, &matrix.Expectation{Requirement: contract.ReqVersionHeader, Reason: "not-semver"}, UnexpectedPass},
		{"unnoticed", pass, exp, UnexpectedPass},
		{"skipped negative control", contract.Finding{Status: contract.Skip}, exp, UnexpectedPass},
	} {
		got, _ := Judge(tc.f, tc.exp)
		NewWithT(t).Expect(got).To(Equal(tc.want), tc.name)
	}
}

func cell(id string, outcomes ...Outcome) Cell {
	c := Cell{ID: id, Tier: "fake", Client: "c-" + id, Operator: "o", Rerun: "make conformance"}
	ids := []contract.RequirementID{contract.ReqVersionHeader, contract.ReqCertificateHeader}
	for i, o := range outcomes {
		c.Requirements = append(c.Requirements, Requirement{ID: ids[i], Outcome: o})
	}
	return c
}

// want lists cells, all of shard "s" but those named "shard/cell".
func want(ids ...string) []Expected {
	var out []Expected
	for _, id := range ids {
		shard, cell, ok := strings.Cut(id, "/")
		if !ok {
			shard, cell = "s", id
		}
		out = append(out, Expected{Cell: cell, Shard: shard})
	}
	return out
}

func TestMerge(t *testing.T) {
	g := NewWithT(t)
	a := &Report{Format: FormatVersion, Cells: []Cell{cell("x", Pass, Pass), cell("y", Pass, ExpectedFail)}}
	b := &Report{Format: FormatVersion, Cells: []Cell{cell("y", Pass, ExpectedFail), cell("z", Pass, Fail)}, Missing: []string{"w: ran no spec"}}
	c := &Report{Format: FormatVersion, Cells: []Cell{cell("x", Fail, Pass)}}

	agree := Merge(want("x", "y", "z"), map[string]*Report{"a": a, "b": b})
	g.Expect(agree.Cells).To(HaveLen(3), "overlapping cells are kept once")
	g.Expect(agree.Shards).To(Equal([]string{"a", "b"}))
	g.Expect(agree.Missing).To(Equal([]string{"w: ran no spec"}))
	g.Expect(agree.Failing()).To(BeTrue(), "z fails")

	disagree := Merge(want("x", "y", "z", "t/v"), map[string]*Report{"a": a, "c": c})
	x := disagree.Cells[indexOf(disagree.Cells, "x")]
	g.Expect(x.Requirements[0].Outcome).To(Equal(Fail))
	g.Expect(x.Requirements[0].Reason).To(Equal("shards-disagree"))
	g.Expect(x.Requirements[0].Detail).To(ContainSubstring("shard a found pass"))
	g.Expect(disagree.Missing).To(ContainElements("v: no shard reported it (its shard: t)", "z: no shard reported it (its shard: s)"))

	ok := Merge(want("x"), map[string]*Report{"a": {Format: FormatVersion, Cells: []Cell{cell("x", Pass, Skip)}}})
	g.Expect(ok.Failing()).To(BeFalse())
	g.Expect(ok.ShardStates).To(Equal([]ShardState{{Name: "s", Cells: 1, Reported: 1}}))
}

func TestMergeSaysWhatEachShardReported(t *testing.T) {
	g := NewWithT(t)
	shards := map[string]*Report{
		"conformance-good":   {Format: FormatVersion, Cells: []Cell{cell("x", Pass, Pass)}},
		"conformance-broken": {Format: FormatVersion, Cells: []Cell{cell("y", Pass, Fail), cell("z", Pass, Pass)}},
		"conformance-part":   {Format: FormatVersion, Cells: []Cell{cell("u", Pass, Pass)}},
	}
	merged := Merge(want("good/x", "broken/y", "broken/z", "part/u", "part/t", "gone/v", "gone/w"), shards)
	g.Expect(merged.ShardStates).To(Equal([]ShardState{
		{Name: "good", Cells: 1, Reported: 1},
		{Name: "broken", Cells: 2, Reported: 2, Failing: []string{"y"}},
		{Name: "part", Cells: 2, Reported: 1},
		{Name: "gone", Cells: 2},
	}))
	var problems []string
	for _, s := range merged.ShardStates {
		problems = append(problems, s.Problem())
	}
	g.Expect(problems).To(Equal([]string{"", "failing: y", "incomplete: 1 of its 2 cells reported",
		"missing: none of its 2 cells was reported (no report of it among the merged ones)"}))
	md := merged.Markdown()
	g.Expect(md).To(ContainSubstring("| gone | 2 | ❌ missing: none of its 2 cells was reported"))
	g.Expect(md).To(ContainSubstring("| broken | 2 | ❌ failing: y |"))
	g.Expect(md).To(ContainSubstring("| good | 1 | ✅ reported, none failing |"))
}

func indexOf(cells []Cell, id string) int {
	for i, c := range cells {
		if c.ID == id {
			return i
		}
	}
	return -1
}

func TestWriteReadAndMarkdown(t *testing.T) {
	g := NewWithT(t)
	r := &Report{Format: FormatVersion, Cells: []Cell{cell("fake/o/a", Pass, ExpectedFail), cell("fake/o/b", Fail, Pass)}}
	r.Cells[1].Requirements[0].Detail = "x-mirrord-cli-version missing"
	path := filepath.Join(t.TempDir(), "report.json")
	g.Expect(r.WriteJSON(path)).To(Succeed())
	back, err := ReadJSON(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(back.Cells).To(HaveLen(2))
	md := back.Markdown()
	g.Expect(md).To(ContainSubstring("❌ conformance broken"))
	g.Expect(md).To(ContainSubstring("| c-fake/o/a | ☑️ 1/1/0/0/0 |"))
	g.Expect(md).To(ContainSubstring("**HDR-VERSION** fail in `fake/o/b`: x-mirrord-cli-version missing"))
	g.Expect(strings.Count(md, "re-run:")).To(Equal(1))
	_, err = ReadJSON(filepath.Join(t.TempDir(), "nope.json"))
	g.Expect(err).To(HaveOccurred())
}

func TestVerdictSaysWhatDidNotRun(t *testing.T) {
	g := NewWithT(t)
	empty := &Report{Format: FormatVersion}
	g.Expect(empty.Failing()).To(BeTrue(), "zero cells is not a pass")
	g.Expect(empty.Verdict()).To(HavePrefix("**❌ no cell ran"))

	kubectl := cell("fake/o/kubectl", Skip, Skip)
	for i := range kubectl.Requirements {
		kubectl.Requirements[i].Reason, kubectl.Requirements[i].Detail = Unavailable, "client kubectl is not installed: kubectl is not on PATH"
	}
	r := &Report{Format: FormatVersion, Cells: []Cell{cell("fake/o/a", Pass, Pass), kubectl}}
	g.Expect(r.Failing()).To(BeFalse())
	g.Expect(r.Verdict()).To(HavePrefix("**✅ conformance holds** — 2 cells, 1 of them did not run here (see below)"))
	md := r.Markdown()
	g.Expect(md).To(ContainSubstring("| c-fake/o/kubectl | · did not run here (see below) |"))
	g.Expect(md).To(ContainSubstring("## Cells that did not run here\n\n- client kubectl is not installed: kubectl is not on PATH: `fake/o/kubectl`\n"))
}

func TestUnnoticedNegativeControlSaysWhatHappened(t *testing.T) {
	g := NewWithT(t)
	exp := &matrix.Expectation{Requirement: contract.ReqVersionHeader, Reason: "missing"}
	_, detail := Judge(contract.Finding{Requirement: contract.ReqVersionHeader, Status: contract.Pass}, exp)
	g.Expect(detail).To(Equal(`the negative control went unnoticed: HDR-VERSION must fail (reason "missing"), but it passed`))
	_, detail = Judge(contract.Finding{Requirement: contract.ReqVersionHeader, Status: contract.Skip, Reason: "not-observed", Detail: "no scenario"}, exp)
	g.Expect(detail).To(HaveSuffix(`but it was not judged (not-observed: no scenario)`))

	c := cell("fake/o/n", UnexpectedPass, Pass)
	c.Requirements[0].Detail = detail
	md := (&Report{Format: FormatVersion, Cells: []Cell{c}}).Markdown()
	g.Expect(md).To(ContainSubstring("❗ **HDR-VERSION** unexpected-pass in `fake/o/n`: the negative control"), "no empty scenario brackets")
	g.Expect(md).NotTo(ContainSubstring("()"))
}

func TestCompareTiers(t *testing.T) {
	g := NewWithT(t)
	fake := &Report{Format: FormatVersion, Cells: []Cell{cell("fake/o/a", Pass, Pass), cell("fake/o/b", Pass, ExpectedFail)}}
	same := &Report{Format: FormatVersion, Cells: []Cell{cell("kind/v1/o/a", Pass, Pass), cell("kind/v1/o/b", Pass, ExpectedFail)}}
	for i := range same.Cells {
		same.Cells[i].Client, same.Cells[i].Tier = fake.Cells[i].Client, "kind"
	}
	c := CompareTiers(fake, same)
	g.Expect(c.Compared).To(Equal(2))
	g.Expect(c.ByTier).To(Equal(map[string]int{"kind": 2}))
	g.Expect(c.Differences).To(BeEmpty())

	// one report of both tiers (make test's): its kind cells against its fake cells
	both := &Report{Format: FormatVersion, Cells: append(slices.Clone(fake.Cells), same.Cells...)}
	c = CompareTiers(both, both)
	g.Expect(c.Compared).To(Equal(2), "fake cells are the base, never compared with themselves")
	g.Expect(c.Differences).To(BeEmpty())
	g.Expect(CompareTiers(fake, fake).Compared).To(BeZero(), "a fake-only report has nothing to compare")

	same.Cells[0].Requirements[1] = Requirement{ID: same.Cells[0].Requirements[1].ID, Outcome: Skip, Reason: contract.NotObserved}
	c = CompareTiers(fake, same)
	g.Expect(c.Narrower).To(HaveLen(1), "a cluster's operator sees fewer requests than the fake")
	g.Expect(c.Differences).To(BeEmpty())

	same.Cells[1].Requirements[1].Outcome = UnexpectedPass
	same.Cells[0].Requirements[0].Outcome = Fail
	c = CompareTiers(fake, same)
	g.Expect(c.Differences).To(ConsistOf(
		ContainSubstring("kind/v1/o/a HDR-VERSION: pass on the fake tier, fail here"),
		ContainSubstring("kind/v1/o/b HDR-CERTIFICATE: expected-fail on the fake tier, unexpected-pass here")))

	// a journal that dropped entries holds different ones on different tiers: only
	// JOURNAL-COMPLETE is compared
	dropped := Requirement{ID: contract.ReqJournalComplete, Outcome: ExpectedFail, Reason: "journal-dropped"}
	fake.Cells[0].Requirements = append(fake.Cells[0].Requirements, dropped)
	same.Cells[0].Requirements = append(same.Cells[0].Requirements, dropped)
	c = CompareTiers(fake, same)
	g.Expect(c.Differences).To(ConsistOf(ContainSubstring("kind/v1/o/b HDR-CERTIFICATE")))
	g.Expect(c.Narrower).To(ContainElement(HaveSuffix("(its journal dropped entries)")))
	same.Cells[0].Requirements[2].Outcome = UnexpectedPass
	c = CompareTiers(fake, same)
	g.Expect(c.Differences).To(ContainElement(ContainSubstring("kind/v1/o/a JOURNAL-COMPLETE")), "JOURNAL-COMPLETE itself is compared")
}

func TestFailuresGroupOneDefectAcrossCells(t *testing.T) {
	g := NewWithT(t)
	failing := func(id, client, operator, reason, detail string) Cell {
		return Cell{ID: id, Tier: "fake", Client: client, Operator: operator, Journal: "journals/" + id + ".json",
			Rerun:        "make conformance MATRIX=m.yaml TIER=fake CLIENTS=" + client + " OPERATORS=" + operator + " ARTIFACTS=out/rerun",
			Requirements: []Requirement{{ID: "HDR-VERSION", Outcome: Fail, Reason: reason, Detail: detail, Scenario: "status"}}}
	}
	r := &Report{Format: FormatVersion, Cells: []Cell{
		failing("fake/o1/c1", "c1", "o1", "missing", "GET / carries no x-mirrord-cli-version"),
		failing("fake/o2/c1", "c1", "o2", "missing", "GET /x carries no x-mirrord-cli-version"),
		failing("fake/o2/c2", "c2", "o2", "missing", "GET /y carries no x-mirrord-cli-version"),
		failing("fake/o1/c3", "c3", "o1", "not-semver", "v3 is not SemVer"),
	}}
	f := r.Failures()
	g.Expect(f).To(HaveLen(2), "one entry per defect: %v", f)
	g.Expect(f[0]).To(HavePrefix("❌ **HDR-VERSION** fail (missing) in 3 cells: `fake/o1/c1`, `fake/o2/c1`, `fake/o2/c2`\nfirst, `fake/o1/c1` (scenario status): GET / carries no x-mirrord-cli-version\njournal: `journals/fake/o1/c1.json`\n"))
	g.Expect(f[0]).To(ContainSubstring("\nre-run one: `make conformance MATRIX=m.yaml TIER=fake CLIENTS=c1 OPERATORS=o1 ARTIFACTS=out/rerun`"))
	g.Expect(f[0]).To(HaveSuffix("\nre-run all: `make conformance MATRIX=m.yaml TIER=fake CLIENTS=c1,c2 OPERATORS=o1,o2 ARTIFACTS=out/rerun`"))
	g.Expect(f[1]).To(Equal("❌ **HDR-VERSION** fail in `fake/o1/c3` (scenario status): v3 is not SemVer\njournal: `journals/fake/o1/c3.json`\nre-run: `make conformance MATRIX=m.yaml TIER=fake CLIENTS=c3 OPERATORS=o1 ARTIFACTS=out/rerun`"))
}

func TestFailuresNameWhatTheyKeptFromBeingJudged(t *testing.T) {
	g := NewWithT(t)
	r := &Report{Format: FormatVersion, Cells: []Cell{{ID: "fake/o/c", Journal: "j.json", Rerun: "make conformance TIER=fake CLIENTS=c OPERATORS=o",
		Requirements: []Requirement{
			{ID: "HDR-CERTIFICATE", Outcome: Fail, Reason: "missing", Detail: "the connect carries no x-client-der", Scenario: "exec"},
			{ID: "SESSION-STABLE", Outcome: Skip, Reason: "not-observed", PreventedBy: "HDR-CERTIFICATE"},
			{ID: "SESSION-CERTIFICATE", Outcome: Skip, Reason: "not-observed", PreventedBy: "HDR-CERTIFICATE"},
		}}}}
	g.Expect(r.Failures()).To(Equal([]string{"❌ **HDR-CERTIFICATE** fail in `fake/o/c` (scenario exec): the connect carries no x-client-der\n" +
		"kept from being judged (not observed): SESSION-STABLE, SESSION-CERTIFICATE\njournal: `j.json`\nre-run: `make conformance TIER=fake CLIENTS=c OPERATORS=o`"}))
	g.Expect(r.Failing()).To(BeTrue())
	g.Expect(r.Counts()[Fail]).To(Equal(1), "one failure: the prevented checks are not failures of their own")
}

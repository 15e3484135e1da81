package results

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	_ "github.com/opconform/opconform/client" // registers the defects matrix.yaml names
	"github.com/opconform/opconform/contract"
	_ "github.com/opconform/opconform/fakeoperator" // registers the operator profiles
	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/report"
)

// postgresEnv names an admin URL of a PostgreSQL server the tests may make databases on
// (.ci/run starts one on loopback and sets it).
const postgresEnv = "OPCONFORM_TEST_POSTGRES"

// backends are the stores each test runs on: a SQLite file always, and a fresh database on
// the PostgreSQL server of $OPCONFORM_TEST_POSTGRES — skipped, saying so, where none is
// given.
func backends(testing.TB) map[string]func(testing.TB) string {
	return map[string]func(testing.TB) string{
		"sqlite":   func(t testing.TB) string { return filepath.Join(t.TempDir(), "results.db") },
		"postgres": freshPostgres,
	}
}

// freshPostgres makes a database of its own for the test on the server of
// $OPCONFORM_TEST_POSTGRES, dropped when the test ends, and returns its URL.
func freshPostgres(t testing.TB) string {
	admin := os.Getenv(postgresEnv)
	if admin == "" {
		t.Skipf("PostgreSQL: not tested here: %s is not set (scripts/postgres-up.sh starts Debian's postgresql on "+
			"loopback and prints the URL to set; .ci/run does)", postgresEnv)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("opconform_test_%d", rand.Uint64())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("making a test database on %s: %v", redact(admin), err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP DATABASE " + name + " WITH (FORCE)")
		_ = db.Close()
	})
	base, _, _ := strings.Cut(admin, "?")
	return base[:strings.LastIndex(base, "/")+1] + name
}

func open(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// run builds a report: the pairs' cells (client version → operator version → the failing
// requirement, "" for none), plus a negative control caught (or not).
type run struct {
	at      time.Time
	commit  string
	pairs   map[[2]string]string
	caught  bool
	control bool
}

func (r run) report() *report.Report {
	rep := &report.Report{Format: report.FormatVersion, GeneratedAt: r.at, Source: report.SourceConformance, Commit: r.commit}
	for pair, failing := range r.pairs {
		c := report.Cell{ID: "fake/op-" + pair[1] + "/mirrord-" + pair[0], Tier: "fake", Client: "mirrord-" + pair[0], ClientVersion: pair[0],
			Operator: "op-" + pair[1], OperatorVersion: pair[1], Rerun: "make conformance CLIENTS=mirrord-" + pair[0] + " OPERATORS=op-" + pair[1]}
		for _, req := range contract.Requirements() {
			out := report.Requirement{ID: req.ID, Outcome: report.Pass}
			if string(req.ID) == failing {
				out = report.Requirement{ID: req.ID, Outcome: report.Fail, Reason: "missing", Detail: "GET /apis/operator.metalbear.co/v1/x carries no x-mirrord-cli-version"}
			}
			c.Requirements = append(c.Requirements, out)
		}
		rep.Cells = append(rep.Cells, c)
	}
	if r.control {
		outcome := report.ExpectedFail
		if !r.caught {
			outcome = report.UnexpectedPass
		}
		rep.Cells = append(rep.Cells, report.Cell{ID: "fake/op-3.250.0/defect-omit-version", Tier: "fake", Client: "defect-omit-version",
			ClientVersion: "3.250.0", Operator: "op-3.250.0", OperatorVersion: "3.250.0", Control: "client",
			Requirements: []report.Requirement{{ID: contract.ReqVersionHeader, Outcome: outcome, Control: contract.SideClient}}})
	}
	return rep
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func TestRecordingTheSameRunTwiceIsANoOp(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			s := open(t, dsn(t))
			rep := run{at: t0, commit: "abc", pairs: map[[2]string]string{{"3.250.0", "3.240.0"}: ""}, control: true, caught: true}.report()
			first, recorded, err := s.Record(context.Background(), rep, "", "")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(recorded).To(BeTrue())
			g.Expect(first.Cells).To(Equal(2))
			g.Expect(first.Controls).To(Equal(1))
			again, recorded, err := s.Record(context.Background(), rep, "", "")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(recorded).To(BeFalse())
			g.Expect(again.ID).To(Equal(first.ID))
			var cells, outcomes int
			g.Expect(s.db.QueryRow(`SELECT COUNT(*) FROM cells`).Scan(&cells)).To(Succeed())
			g.Expect(s.db.QueryRow(`SELECT COUNT(*) FROM outcomes`).Scan(&outcomes)).To(Succeed())
			g.Expect(cells).To(Equal(2))
			g.Expect(outcomes).To(Equal(len(contract.Requirements()) + 1))
		})
	}
}

func TestTheSchemaIsVersioned(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			where := dsn(t)
			s := open(t, where)
			var version int
			g.Expect(s.db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&version)).To(Succeed())
			g.Expect(version).To(Equal(len(migrations)))
			open(t, where) // opening again migrates nothing
			_, err := s.db.Exec(s.q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), 99, stamp(time.Now()))
			g.Expect(err).NotTo(HaveOccurred())
			_, err = Open(context.Background(), where)
			g.Expect(err).To(MatchError(ContainSubstring("the schema is at version 99, newer than this opconform knows (1)")))
		})
	}
}

func TestCanIDeploy(t *testing.T) {
	m, err := matrix.Load("../matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			s := open(t, dsn(t))
			ctx := context.Background()
			record := func(r run) {
				t.Helper()
				_, _, err := s.Record(ctx, r.report(), "", "")
				g.Expect(err).NotTo(HaveOccurred())
			}
			// run 1 (earliest): 3.251.0 passes with 3.100.0; run 2: it breaks there;
			// run 3 (latest): its control was not caught, so it does not count
			record(run{at: t0, commit: "c1", control: true, caught: true, pairs: map[[2]string]string{
				{"3.251.0", "3.100.0"}: "", {"3.251.0", "3.250.0"}: ""}})
			record(run{at: t0.Add(time.Hour), commit: "c2", control: true, caught: true, pairs: map[[2]string]string{
				{"3.251.0", "3.100.0"}: "COMPAT-OLD-OPERATOR", {"3.251.0", "3.250.0"}: "", {"3.252.0", "3.250.0"}: "HDR-VERSION"}})
			record(run{at: t0.Add(2 * time.Hour), commit: "c3", control: true, caught: false, pairs: map[[2]string]string{
				{"3.251.0", "3.250.0"}: "HDR-VERSION"}})
			// a run without negative controls proves nothing
			record(run{at: t0.Add(3 * time.Hour), commit: "c4", pairs: map[[2]string]string{{"3.253.0", "3.250.0"}: ""}})

			a, err := s.CanIDeploy(ctx, Query{Client: "3.251.0", Counterparts: []string{"3.250.0"}}, m)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(a.Safe).To(BeTrue())
			g.Expect(a.Pairs).To(HaveLen(1))
			g.Expect(a.Pairs[0].Verdict).To(Equal(Works))
			g.Expect(a.Pairs[0].Run.Commit).To(Equal("c2"), "the latest counted run")
			g.Expect(a.Pairs[0].NotEvidence).To(ConsistOf(HaveField("Why", ContainSubstring("1 of its 1 negative controls were not caught"))))

			a, err = s.CanIDeploy(ctx, Query{Client: "3.251.0", Counterparts: []string{"3.100.0", "3.250.0", "3.999.0"}}, m)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(a.Safe).To(BeFalse())
			regression := a.Pairs[0]
			g.Expect(regression.Verdict).To(Equal(Regression))
			g.Expect(regression.Requirement).To(Equal("COMPAT-OLD-OPERATOR"))
			g.Expect(regression.Reason).To(Equal("missing"))
			g.Expect(regression.Detail).To(ContainSubstring("GET /apis/operator.metalbear.co/v1/x"))
			g.Expect(regression.Rerun).To(Equal("make conformance CLIENTS=mirrord-3.251.0 OPERATORS=op-3.100.0"))
			g.Expect(regression.PassedIn.Commit).To(Equal("c1"))
			never := a.Pairs[2]
			g.Expect(never.Verdict).To(Equal(NeverVerified))
			g.Expect(never.Hint).To(Equal("make add-client VERSION=3.251.0, then make add-operator VERSION=3.999.0, then make conformance; " +
				"then opconform results record _artifacts/report.json"))

			a, err = s.CanIDeploy(ctx, Query{Client: "3.252.0", Counterparts: []string{"3.250.0"}}, m)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(a.Pairs[0].Verdict).To(Equal(Breaks), "it never passed")
			g.Expect(a.Pairs[0].Requirement).To(Equal("HDR-VERSION"))

			a, err = s.CanIDeploy(ctx, Query{Client: "3.253.0", Counterparts: []string{"3.250.0"}}, m)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(a.Pairs[0].Verdict).To(Equal(NeverVerified))
			g.Expect(a.Pairs[0].NotEvidence).To(ConsistOf(HaveField("Why", ContainSubstring("ran no negative control"))))
		})
	}
}

func TestRefusedByDesign(t *testing.T) {
	g := NewWithT(t)
	s := open(t, filepath.Join(t.TempDir(), "results.db"))
	rep := run{at: t0, control: true, caught: true, pairs: map[[2]string]string{{"3.100.0", "3.250.0"}: ""}}.report()
	rep.Cells[0].MinClientVersion = "3.200.0"
	_, _, err := s.Record(context.Background(), rep, "", "")
	g.Expect(err).NotTo(HaveOccurred())
	a, err := s.CanIDeploy(context.Background(), Query{Operator: "3.250.0", Counterparts: []string{"3.100.0"}}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a.Safe).To(BeFalse())
	g.Expect(a.Pairs[0].Verdict).To(Equal(RefusedByDesign))
	g.Expect(a.Pairs[0].Why).To(Equal("the operator serves clients from 3.200.0 on"))
}

func TestReleasesAndDeployments(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			s := open(t, dsn(t))
			ctx := context.Background()
			_, err := s.CanIDeploy(ctx, Query{Client: "3.251.0"}, nil)
			g.Expect(err).To(MatchError(ContainSubstring("no operator deployment is recorded")))
			_, err = s.CanIDeploy(ctx, Query{Operator: "3.250.0"}, nil)
			g.Expect(err).To(MatchError(ContainSubstring("no client release is recorded")))

			g.Expect(s.RecordDeployment(ctx, "prod", "3.240.0")).To(Succeed())
			g.Expect(s.RecordDeployment(ctx, "prod", "3.250.0")).To(Succeed())
			g.Expect(s.RecordDeployment(ctx, "staging", "3.250.0")).To(Succeed())
			g.Expect(s.Deployed(ctx, "prod")).To(Equal("3.250.0"), "a deployment replaces the previous one")
			g.Expect(s.UndoDeployment(ctx, "prod")).To(Equal("3.240.0"))
			_, err = s.UndoDeployment(ctx, "dev")
			g.Expect(err).To(MatchError(ContainSubstring("no deployment is recorded there")))

			a, err := s.CanIDeploy(ctx, Query{Client: "3.251.0", Environment: "prod"}, nil)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(a.Against).To(Equal("environment prod"))
			g.Expect(a.Pairs).To(ConsistOf(HaveField("Operator", "3.240.0")))
			a, err = s.CanIDeploy(ctx, Query{Client: "3.251.0"}, nil)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(a.Against).To(Equal("every environment (prod, staging)"))
			g.Expect(a.Pairs).To(HaveLen(2))

			g.Expect(s.RecordRelease(ctx, "3.250.0")).To(Succeed())
			g.Expect(s.RecordRelease(ctx, "3.249.0")).To(Succeed())
			g.Expect(s.RecordRelease(ctx, "3.250.0")).To(Succeed(), "again: a no-op")
			g.Expect(s.UndoRelease(ctx, "3.249.0")).To(Succeed())
			g.Expect(s.UndoRelease(ctx, "3.249.0")).To(MatchError(ContainSubstring("no such release is recorded")))
			a, err = s.CanIDeploy(ctx, Query{Operator: "3.260.0"}, nil)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(a.Pairs).To(ConsistOf(HaveField("Client", "3.250.0")))
		})
	}
}

// TestConcurrentWritersLoseNothing: two shards recording at once, each through its own
// connection, as two CI jobs would.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			where := dsn(t)
			open(t, where) // the schema, once
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for w := range 2 {
				wg.Go(func() {
					s, err := Open(context.Background(), where)
					if err != nil {
						errs <- err
						return
					}
					defer s.Close()
					for i := range 10 {
						r := run{at: t0.Add(time.Duration(w*100+i) * time.Minute), control: true, caught: true,
							pairs: map[[2]string]string{{fmt.Sprintf("3.%d.%d", w, i), "3.250.0"}: ""}}
						if _, _, err := s.Record(context.Background(), r.report(), "", ""); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			var runs int
			g.Expect(open(t, where).db.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&runs)).To(Succeed())
			g.Expect(runs).To(Equal(20))
		})
	}
}

func TestRedact(t *testing.T) {
	g := NewWithT(t)
	g.Expect(redact("postgres://ci:s3cret@127.0.0.1:5432/results")).To(Equal("postgres://ci@127.0.0.1:5432/results"))
	g.Expect(redact("/home/u/.local/share/opconform/results.db")).To(Equal("/home/u/.local/share/opconform/results.db"))
}

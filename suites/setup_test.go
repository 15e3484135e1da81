package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/prepare"
	"github.com/opconform/opconform/runner"
	"github.com/opconform/opconform/tier"
)

// What the tiers of this process need, set up before the specs run.
var (
	// apiTier is this process's apiserver tier, when the run selects it; controlPlaneBin is
	// where its binaries are.
	apiTier         *tier.APIServer
	controlPlaneBin string
	// kind is this process's kind tier: its clusters, made on first use per Kubernetes
	// version.
	kind = &tier.KindPool{}
)

// tiers are the tiers this process runs, for runner.Options.
func tiers() map[string]tier.Tier {
	out := map[string]tier.Tier{matrix.TierFake: tier.Fake{}, matrix.TierKind: kind}
	if apiTier != nil {
		out[matrix.TierAPIServer] = apiTier
	}
	return out
}

// setup is what the first process prepares for all.
type setup struct {
	// Prepared is what package prepare decided and built (control plane, node images, the
	// kind preflight, the operator image).
	Prepared prepare.Prepared `json:"prepared"`
	// Installed are the external clients' binaries, built once for every process.
	Installed runner.Installed `json:"installed"`
}

func selects(t string) bool {
	return slices.ContainsFunc(cells, func(c matrix.Cell) bool { return c.Tier == t })
}

// setUpSuite registers the suite's setup, bounded by wait (the matrix's timeouts.setup).
// The first process takes what `opconform prepare` prepared (or prepares it itself: the
// control plane, the kind preflight, the operator image) and, meanwhile, builds the
// external clients; every process then starts its own tiers, so parallel processes never
// share an operator.
func setUpSuite(wait time.Duration) {
	SynchronizedBeforeSuite(prepareOnce, startTiers, NodeTimeout(wait))
}

// prepareOnce is what the first process prepares for all (setup, as JSON).
func prepareOnce(ctx SpecContext) []byte {
	var s setup
	// the external clients build while the rest is prepared
	installs := make(chan runner.Installed, 1)
	go func() { installs <- runner.Preinstall(ctx, cells, repoRoot) }()
	var err error
	if *preparedFlag != "" {
		s.Prepared, err = prepare.Load(*preparedFlag, cells)
	} else {
		By("preparing the run's tiers (package prepare: the control plane is built once and cached)")
		s.Prepared, err = prepare.Run(ctx, prepare.Options{
			Root: repoRoot, Cells: cells, KindRequired: *kindRequiredFlag, Timeouts: theMatrix.Timeouts, Progress: GinkgoWriter,
		})
	}
	Expect(err).NotTo(HaveOccurred(), "preparing the run")
	if selects(matrix.TierKind) && s.Prepared.KindUnavailable == "" {
		// once, before any process makes a cluster on it
		_, err := tier.EnsureKindNetwork(ctx, theMatrix.Timeouts.Preflight.Duration)
		Expect(err).NotTo(HaveOccurred(), "the kind tier's docker network")
	}
	s.Installed = <-installs
	data, err := json.Marshal(s)
	Expect(err).NotTo(HaveOccurred())
	return data
}

// kindProcess names this process's kept clusters: 0 where each Kubernetes version is one
// process's, whichever that is, else the process's number.
func kindProcess() int {
	if kindVersionWhole {
		return 0
	}
	return GinkgoParallelProcess()
}

// kindOperators are, by Kubernetes version, the fake operators' flags of the kind cells, for
// the cluster to deploy at once when it is made; nil where a process runs only part of a
// version's cells (kindVersionWhole is false), which would deploy operators it never uses.
func kindOperators() map[string][][]string {
	if !kindVersionWhole {
		return nil
	}
	ops := map[string][][]string{}
	for _, c := range cells {
		if c.Tier == matrix.TierKind && c.Operator.Kind == matrix.KindFake {
			ops[c.Kubernetes] = append(ops[c.Kubernetes], tier.OperatorArgs(c))
		}
	}
	return ops
}

// startTiers starts this process's tiers from what prepareOnce prepared.
func startTiers(ctx SpecContext, data []byte) {
	var s setup
	Expect(json.Unmarshal(data, &s)).To(Succeed())
	runner.UseInstalled(s.Installed)
	p := s.Prepared
	*kind = tier.KindPool{
		Unavailable: p.KindUnavailable, Required: *kindRequiredFlag, NodeImages: p.NodeImages, Host: p.Host, Image: p.OperatorImage,
		RepoRoot: repoRoot, Artifacts: artifacts, Keep: os.Getenv("KEEP_CLUSTER") == "1", Process: kindProcess(),
		Operators: kindOperators(), Timeouts: theMatrix.Timeouts,
	}
	if p.ControlPlane == "" {
		return
	}
	start := time.Now()
	controlPlaneBin = p.ControlPlane
	a, err := tier.StartAPIServer(ctx, controlPlaneBin, theMatrix.Timeouts)
	Expect(err).NotTo(HaveOccurred(), "starting the apiserver tier from %s", controlPlaneBin)
	apiTier = a
	DeferCleanup(a.Stop)
	AddReportEntry("apiserver tier start", fmt.Sprintf("etcd + kube-apiserver + APIService registered in %s", time.Since(start).Round(time.Millisecond)), ReportEntryVisibilityFailureOrVerbose)
}

// Every process deletes its clusters; the first, after all, the network they were on.
var _ = SynchronizedAfterSuite(func() { kind.Stop() }, func() {
	if selects(matrix.TierKind) && os.Getenv("KEEP_CLUSTER") != "1" {
		if err := tier.RemoveKindNetwork(context.Background(), theMatrix.Timeouts.Preflight.Duration); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
})

// openProgress opens where long steps inside the suite (kind's cluster creation) report:
// a file in the artifacts that make conformance shows as it grows, as Ginkgo keeps a
// parallel process's own output until its spec ends.
func openProgress() (*os.File, error) {
	return os.OpenFile(filepath.Join(artifacts, "progress.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

// kindCellDone adds a line to the progress log for a kind cell that ended: how many of the
// run's kind cells are done (every process counts in the one file, under a lock), the
// cell, and how it went.
func kindCellDone(cell matrix.Cell, result *runner.Result, failed bool) {
	f, err := openProgress()
	if err != nil {
		return
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return
	}
	defer func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }()
	data, _ := os.ReadFile(f.Name())
	done := strings.Count(string(data), "\n[kind ") + 1
	if strings.HasPrefix(string(data), "[kind ") {
		done++
	}
	total := 0
	for _, c := range cells {
		if c.Tier == matrix.TierKind {
			total++
		}
	}
	how := "done"
	switch {
	case result == nil:
		how = "did not run"
	case result.Unavailable != "":
		how = "not run here"
	case failed:
		how = "failing"
	}
	took := ""
	if result != nil {
		took = " in " + result.Duration.Round(100*time.Millisecond).String()
	}
	fmt.Fprintf(f, "[kind %d/%d] %s: %s%s\n", done, total, cell.ID, how, took)
}

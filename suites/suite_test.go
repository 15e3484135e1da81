package suites

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/matrix"
)

// Flags, given after `--` to ginkgo (make conformance sets them from its knobs).
var (
	// conformance.matrix is the matrix file.
	matrixPath = flag.String("conformance.matrix", "../matrix.yaml", "matrix file")
	// conformance.tier selects tiers (comma-separated); default fake.
	tierFlag = flag.String("conformance.tier", matrix.TierFake, "tiers to run, comma-separated: fake, apiserver, kind")
	// conformance.clients and conformance.operators select matrix entries by name.
	clientsFlag   = flag.String("conformance.clients", "", "clients to run, comma-separated names (default all)")
	operatorsFlag = flag.String("conformance.operators", "", "operators to run, comma-separated names (default all)")
	// conformance.kubernetes selects the kind tier's Kubernetes versions.
	kubernetesFlag = flag.String("conformance.kubernetes", "", "the kind tier's Kubernetes versions, comma-separated (default all)")
	// conformance.artifacts is where reports and journals go; default $ARTIFACTS or _artifacts.
	artifactsFlag = flag.String("conformance.artifacts", "", "artifacts directory (default $ARTIFACTS, then ../_artifacts)")
	// conformance.root is the repository: golden journals, deploy/, external clients' scripts.
	// It is not the matrix's folder: a matrix may live anywhere.
	rootFlag = flag.String("conformance.root", "..", "repository root")
	// conformance.prepared is what `opconform prepare` prepared for the run (make
	// conformance runs it first, so that long builds show their progress); empty: the suite
	// prepares it itself.
	preparedFlag = flag.String("conformance.prepared", "", "file written by opconform prepare --out")
	// conformance.kind-required makes kind's unavailability fail the kind cells (make
	// conformance TIER=kind) instead of skipping them (make test, where kind may be absent).
	kindRequiredFlag = flag.Bool("conformance.kind-required", false, "fail kind cells when kind cannot make clusters here")
)

// The matrix and its cells, loaded in TestConformance before RunSpecs so that the spec
// tree can be built from them.
var (
	theMatrix *matrix.Matrix
	cells     []matrix.Cell
	artifacts string
	// goldenDir holds the golden journals, beside the matrix in fixtures/clients.
	goldenDir string
	// repoRoot is the repository, where external clients are installed from.
	repoRoot string
	// matrixFile is the matrix's absolute path.
	matrixFile string
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	m, err := matrix.Load(*matrixPath)
	if err != nil {
		t.Fatalf("loading the matrix: %v", err)
	}
	theMatrix = m
	if repoRoot, err = filepath.Abs(*rootFlag); err != nil {
		t.Fatal(err)
	}
	if matrixFile, err = filepath.Abs(*matrixPath); err != nil {
		t.Fatal(err)
	}
	goldenDir = filepath.Join(repoRoot, "fixtures", "clients")
	filter := matrix.Filter{Tiers: matrix.SplitNames(*tierFlag), Clients: matrix.SplitNames(*clientsFlag), Operators: matrix.SplitNames(*operatorsFlag), Kubernetes: matrix.SplitNames(*kubernetesFlag)}
	if err := m.CheckFilter(filter); err != nil {
		t.Fatalf("selecting from the matrix %s:\n%v", *matrixPath, err)
	}
	cells = m.Expand(filter)
	if len(cells) == 0 {
		t.Fatalf("the matrix %s selects no cell for tiers %q, clients %q, operators %q", *matrixPath, *tierFlag, *clientsFlag, *operatorsFlag)
	}
	artifacts = *artifactsFlag
	if artifacts == "" {
		artifacts = os.Getenv("ARTIFACTS")
	}
	if artifacts == "" {
		artifacts = filepath.Join("..", "_artifacts")
	}
	if artifacts, err = filepath.Abs(artifacts); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(artifacts, "journals"), 0o755); err != nil {
		t.Fatalf("creating artifacts directory: %v", err)
	}
	setUpSuite(theMatrix.Timeouts.Setup.Duration)
	describeCells(cells)
	RunSpecs(t, "opconform conformance")
}

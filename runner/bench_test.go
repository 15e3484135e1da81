package runner

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opconform/opconform/matrix"
)

// bigMatrixOut keeps the big matrix where a suite run can read it:
// go test ./runner -run '^$' -bench BigMatrix -args -bigmatrix=/tmp/big.yaml, then
// make conformance MATRIX=/tmp/big.yaml.
var bigMatrixOut = flag.String("bigmatrix", "", "also write BenchmarkBigMatrix's matrix to this file")

// bigClients and bigOperators size the big matrix: the reference client at 94 versions
// from 3.41.0 to 3.250.0 against ten fake operators from 3.40.0 to 3.250.0.
const bigClients = 94

var bigOperators = []string{"3.40.0", "3.46.0", "3.75.0", "3.100.0", "3.118.0", "3.164.0", "3.190.0", "3.206.0", "3.232.0", "3.250.0"}

// writeBigMatrix writes matrix.yaml's contracts and timeouts with the big matrix's clients
// and operators, on the fake tier alone.
func writeBigMatrix(tb testing.TB, path string) {
	base, err := os.ReadFile("../matrix.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	head, _, ok := strings.Cut(string(base), "\nclients:")
	if !ok {
		tb.Fatal("matrix.yaml has no clients")
	}
	var b strings.Builder
	for _, line := range strings.Split(head, "\n") {
		switch {
		case strings.HasPrefix(line, "tiers:"):
			line = "tiers: [fake]"
		case strings.HasPrefix(line, "kubernetes:"):
			continue
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("clients:\n")
	for i := range bigClients {
		v := fmt.Sprintf("3.%d.0", 41+i*(250-41)/(bigClients-1))
		fmt.Fprintf(&b, "  - {name: mirrord-%s, version: %s}\n", v, v)
	}
	b.WriteString("operators:\n")
	for _, v := range bigOperators {
		fmt.Fprintf(&b, "  - {name: operator-%s, version: %s}\n", v, v)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkBigMatrix runs every cell of the big matrix (940) on the fake tier, as many at
// once as the machine has cores (the suites' Ginkgo processes), each evaluated: one op is
// the whole matrix. Ginkgo and the reports are not in it.
func BenchmarkBigMatrix(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.yaml")
	writeBigMatrix(b, path)
	if *bigMatrixOut != "" {
		writeBigMatrix(b, *bigMatrixOut)
	}
	m, err := matrix.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	cells := m.Expand(matrix.Filter{})
	if len(cells) != bigClients*len(bigOperators) {
		b.Fatalf("%d cells, want %d", len(cells), bigClients*len(bigOperators))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		runAll(b, cells, m.Timeouts.Scenario.Duration)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(len(cells)), "ms/cell")
}

// runAll runs the cells on one worker per core and fails on a cell that fails to run.
func runAll(b *testing.B, cells []matrix.Cell, scenario time.Duration) {
	next := make(chan matrix.Cell)
	var wg sync.WaitGroup
	for range workers() {
		wg.Go(func() {
			for c := range next {
				dir, err := os.MkdirTemp("", "opconform-bench-")
				if err != nil {
					b.Error(err)
					continue
				}
				_, err = Run(context.Background(), c, Options{WorkDir: dir, ScenarioTimeout: scenario, GoldenDir: "../fixtures/clients", RepoRoot: ".."})
				os.RemoveAll(dir)
				if err != nil {
					b.Error(err)
				}
			}
		})
	}
	for _, c := range cells {
		next <- c
	}
	close(next)
	wg.Wait()
}

func workers() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_WORKERS")); err == nil {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/matrix"
)

// GoldenPath is where the golden journal of a client version lives in dir.
func GoldenPath(dir, clientVersion string) string {
	return filepath.Join(dir, clientVersion+".yaml")
}

// ReadGolden reads a golden journal; it returns nil, nil when there is none.
func ReadGolden(path string) (*contract.GoldenJournal, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading golden journal: %w", err)
	}
	var g contract.GoldenJournal
	if err := yaml.UnmarshalStrict(data, &g); err != nil {
		return nil, fmt.Errorf("golden journal %s: %w", path, err)
	}
	return &g, nil
}

// WriteGolden writes a golden journal.
func WriteGolden(path string, g contract.GoldenJournal) error {
	data, err := yaml.Marshal(g)
	if err != nil {
		return fmt.Errorf("encoding golden journal: %w", err)
	}
	header := "# Golden journal: the normalised requests of this client version against the fake\n# operator it names. Recorded by `make add-client`; do not edit by hand.\n"
	if err := os.WriteFile(path, append([]byte(header), data...), 0o644); err != nil {
		return fmt.Errorf("writing golden journal: %w", err)
	}
	return nil
}

// goldenFor returns the golden journal a cell is compared with: only a sound reference
// client against the plain fake operator of the golden's version, on the fake tier (where the
// journal holds the core reads too). When there is none to compare, the note says why.
func goldenFor(cell matrix.Cell, dir string) (*contract.GoldenJournal, string, error) {
	if dir == "" {
		return nil, "no golden journals were given to this run", nil
	}
	if cell.Client.Driver != matrix.DriverReference || cell.Client.Defect != "" {
		return nil, "golden journals are recorded for sound reference clients only", nil
	}
	g, err := ReadGolden(GoldenPath(dir, cell.Client.Version))
	switch {
	case err != nil:
		return nil, "", err
	case g == nil:
		return nil, "no golden journal for client " + cell.Client.Version + "; record one with make add-client VERSION=" + cell.Client.Version, nil
	case cell.Tier != matrix.TierFake || cell.Operator.Profile != "" || cell.Operator.MinClientVersion != "" || g.Operator != cell.Operator.Version:
		return nil, "the golden journal of " + cell.Client.Version + " was recorded against the fake operator " + g.Operator + " on the fake tier, which this cell is not", nil
	}
	return g, "", nil
}

// RecordGolden runs the reference client named client of the matrix in root against
// operator on the fake tier and writes its golden journal into root's fixtures/clients.
func RecordGolden(root, client, operator string) (*contract.GoldenJournal, error) {
	m, err := matrix.Load(filepath.Join(root, "matrix.yaml"))
	if err != nil {
		return nil, err
	}
	cells := m.Expand(matrix.Filter{Tiers: []string{matrix.TierFake}, Clients: []string{client}, Operators: []string{operator}})
	if len(cells) != 1 {
		return nil, fmt.Errorf("recording golden journal: %d cells for client %s × operator %s", len(cells), client, operator)
	}
	work, err := os.MkdirTemp("", "opconform-golden-")
	if err != nil {
		return nil, fmt.Errorf("recording golden journal: %w", err)
	}
	defer os.RemoveAll(work)
	ctx, cancel := context.WithTimeout(context.Background(), m.Timeouts.Cell.Duration)
	defer cancel()
	res, err := Run(ctx, cells[0], Options{WorkDir: work, ScenarioTimeout: m.Timeouts.Scenario.Duration})
	if err != nil {
		return nil, fmt.Errorf("recording golden journal: %w", err)
	}
	dir := filepath.Join(root, "fixtures", "clients")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("recording golden journal: %w", err)
	}
	return &res.Golden, WriteGolden(GoldenPath(dir, cells[0].Client.Version), res.Golden)
}

// NearestOlderGolden returns the golden journal in dir of the highest version below
// version, nil when there is none.
func NearestOlderGolden(dir, version string) (*contract.GoldenJournal, error) {
	v := semver.MustParse(version)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("golden journals: %w", err)
	}
	var best *semver.Version
	for _, e := range entries {
		ev, err := semver.StrictNewVersion(strings.TrimSuffix(e.Name(), ".yaml"))
		if err == nil && ev.LessThan(v) && (best == nil || ev.GreaterThan(best)) {
			best = ev
		}
	}
	if best == nil {
		return nil, nil
	}
	return ReadGolden(GoldenPath(dir, best.Original()))
}

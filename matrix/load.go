package matrix

import (
	"errors"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// Load reads, strictly unmarshals, defaults and validates the matrix at path.
func Load(path string) (*Matrix, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading matrix %q: %w", path, err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("matrix %q: %w", path, err)
	}
	return m, nil
}

// readmeSection is where matrix.yaml's fields are explained.
const readmeSection = `see README.md, "Adding a client or operator version", and the comments in matrix.yaml`

// Parse is Load without the file: every unknown, miscased or duplicate key at once, each
// with its path and line; then strict unmarshal (types), Default, Validate (whose
// problems get their lines too).
func Parse(data []byte) (*Matrix, error) {
	at, keysErr := checkKeys(data)
	var m Matrix
	unmarshal := yaml.UnmarshalStrict
	if keysErr != nil {
		unmarshal = yaml.Unmarshal // the keys are reported; the values may have problems too
	}
	if err := unmarshal(data, &m); err != nil {
		if keysErr != nil {
			// the walk named every problem with its line; the unmarshal's first one adds nothing
			return nil, fmt.Errorf("%w\n%s", keysErr, readmeSection)
		}
		return nil, fmt.Errorf("parsing: %w\n%s", err, readmeSection)
	}
	m.Default()
	if err := errors.Join(keysErr, withLines(m.Validate(), at)); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, readmeSection)
	}
	return &m, nil
}

// MustLoad is Load for tests: it panics on error.
func MustLoad(path string) *Matrix {
	m, err := Load(path)
	if err != nil {
		panic(err)
	}
	return m
}

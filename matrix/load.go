package matrix

import (
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

// Parse is Load without the file: strict unmarshal (unknown and duplicate keys are errors),
// Default, Validate.
func Parse(data []byte) (*Matrix, error) {
	var m Matrix
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		return nil, fmt.Errorf("parsing: %w; see README.md, \"The matrix\"", err)
	}
	m.Default()
	if err := m.Validate(); err != nil {
		return nil, err
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

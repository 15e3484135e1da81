package report

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/opconform/opconform/contract"
)

// WriteJournal writes a cell's journal to path: its scenarios and every request the operator
// (or the recording proxy) saw, certificates by fingerprint only, never the certificates.
func WriteJournal(path, cell string, observations []contract.Observation, journal []contract.Entry) error {
	data, err := json.MarshalIndent(struct {
		Cell         string                 `json:"cell"`
		Observations []contract.Observation `json:"scenarios"`
		Journal      []contract.Entry       `json:"journal"`
	}{cell, observations, journal}, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the journal of %s: %w", cell, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing the journal of %s: %w", cell, err)
	}
	return nil
}

package matrix

import (
	"time"

	"github.com/opconform/opconform/contract"
)

// Default fills what the matrix leaves out: the mirrord contract, tier fake, the reference
// driver (and its fail-early exit code), the fake operator kind, and the timeouts.
func (m *Matrix) Default() {
	if !m.hasContract(DefaultContract) {
		// appended, so that the file's contracts keep their indices in problems' paths
		m.Contracts = append(m.Contracts, Contract{Name: DefaultContract, Headers: contract.MirrordHeaders()})
	}
	if len(m.Tiers) == 0 {
		m.Tiers = []string{TierFake}
	}
	for i := range m.Clients {
		c := &m.Clients[i]
		if c.Driver == "" {
			c.Driver = DriverReference
		}
		if c.Contract == "" {
			c.Contract = DefaultContract
		}
	}
	for i := range m.Operators {
		if m.Operators[i].Kind == "" {
			m.Operators[i].Kind = KindFake
		}
	}
	if m.Timeouts.Cell.Duration == 0 {
		m.Timeouts.Cell.Duration = 60 * time.Second
	}
	if m.Timeouts.Scenario.Duration == 0 {
		m.Timeouts.Scenario.Duration = 20 * time.Second
	}
}

func (m *Matrix) hasContract(name string) bool {
	for _, c := range m.Contracts {
		if c.Name == name {
			return true
		}
	}
	return false
}

package matrix

import (
	"github.com/opconform/opconform/contract"
)

// Default fills what the matrix leaves out: the mirrord contract, tier fake, the reference
// driver, the fake operator kind, and the timeouts (DefaultTimeouts).
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
	defaults := DefaultTimeouts()
	have := m.Timeouts.fields()
	for name, d := range defaults.fields() {
		if have[name].Duration == 0 {
			*have[name] = *d
		}
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

package matrix

import (
	"fmt"

	"github.com/opconform/opconform/contract"
)

// NegativeControls lists, for each requirement and side, the negative controls that must
// fail it: clients whose expectFail names it (the client side) and operators whose
// expectFail names it (the operator side).
func (m *Matrix) NegativeControls() map[contract.RequirementID]map[contract.Side][]string {
	out := map[contract.RequirementID]map[contract.Side][]string{}
	add := func(id contract.RequirementID, side contract.Side, name string) {
		if out[id] == nil {
			out[id] = map[contract.Side][]string{}
		}
		out[id][side] = append(out[id][side], name)
	}
	for _, c := range m.Clients {
		for _, e := range c.ExpectFail {
			add(e.Requirement, contract.SideClient, c.Name)
		}
	}
	for _, o := range m.Operators {
		for _, e := range o.ExpectFail {
			add(e.Requirement, contract.SideOperator, o.Name)
		}
	}
	return out
}

// Uncovered names every side of a MUST requirement that no negative control of the matrix
// proves can fail: a requirement that cannot fail proves nothing.
func (m *Matrix) Uncovered() []string {
	controls := m.NegativeControls()
	var out []string
	for _, r := range contract.Requirements() {
		if r.Level != contract.Must {
			continue
		}
		for _, side := range r.Sides {
			if len(controls[r.ID][side]) == 0 {
				out = append(out, fmt.Sprintf("%s: no %s-side negative control", r.ID, side))
			}
		}
	}
	return out
}

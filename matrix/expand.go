package matrix

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/opconform/opconform/contract"
)

// Cell is one client against one operator on one tier.
type Cell struct {
	// ID is tier/operator/client (plus the Kubernetes version on the kind tier).
	ID         string
	Tier       string
	Kubernetes string
	Client     Client
	Operator   Operator
	Contract   Contract
	// Expect are the requirements the cell must be found failing (negative controls).
	Expect []Expectation
}

// Filter selects cells; empty fields select everything.
type Filter struct {
	Tiers     []string
	Clients   []string
	Operators []string
	// Kubernetes selects the kind tier's Kubernetes versions.
	Kubernetes []string
}

// SplitNames splits a comma-separated knob (TIER, CLIENTS, OPERATORS) into names.
func SplitNames(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// CheckFilter reports every name of f that the matrix does not have, with the names it
// has: a misspelt name is an error, never silently dropped.
func (m *Matrix) CheckFilter(f Filter) error {
	var clients, operators []string
	for _, c := range m.Clients {
		clients = append(clients, c.Name)
	}
	for _, o := range m.Operators {
		operators = append(operators, o.Name)
	}
	var errs []error
	for _, knob := range []struct {
		name         string
		names, valid []string
	}{{"TIER", f.Tiers, m.Tiers}, {"CLIENTS", f.Clients, clients}, {"OPERATORS", f.Operators, operators}, {"KUBERNETES", f.Kubernetes, m.Kubernetes}} {
		for _, n := range knob.names {
			if !slices.Contains(knob.valid, n) {
				errs = append(errs, fmt.Errorf("%s: the matrix has no %q; it has: %s", knob.name, n, strings.Join(knob.valid, ", ")))
			}
		}
	}
	return errors.Join(errs...)
}

// Expand returns the cells of the matrix that f selects, in a stable order: tier, then
// operator, then client, as the matrix lists them.
func (m *Matrix) Expand(f Filter) []Cell {
	var cells []Cell
	for _, tier := range m.Tiers {
		if !selected(f.Tiers, tier) {
			continue
		}
		kubes := []string{""}
		if tier == TierKind && len(m.Kubernetes) > 0 {
			kubes = m.Kubernetes
		}
		for _, kube := range kubes {
			if kube != "" && !selected(f.Kubernetes, kube) {
				continue
			}
			for _, op := range m.Operators {
				if !selected(f.Operators, op.Name) {
					continue
				}
				if op.Kind == KindReal && tier != TierKind {
					continue // a real operator runs on a cluster: the kind tier
				}
				for _, cl := range m.Clients {
					if !selected(f.Clients, cl.Name) || !pairs(cl, op) {
						continue
					}
					cells = append(cells, m.cell(tier, kube, cl, op))
				}
			}
		}
	}
	return cells
}

func (m *Matrix) cell(tier, kube string, cl Client, op Operator) Cell {
	parts := []string{tier}
	if kube != "" {
		parts = append(parts, kube)
	}
	parts = append(parts, op.Name, cl.Name)
	c := Cell{ID: strings.Join(parts, "/"), Tier: tier, Kubernetes: kube, Client: cl, Operator: op}
	for _, k := range m.Contracts {
		if k.Name == cl.Contract {
			c.Contract = k
		}
	}
	c.Contract.Headers = c.Contract.Headers.OrDefault()
	for _, e := range cl.ExpectFail {
		if e.holdsWith(op.Name) {
			c.Expect = append(c.Expect, e)
		}
	}
	c.Expect = append(c.Expect, op.ExpectFail...)
	return c
}

// pairs reports whether the client and the operator allow each other.
func pairs(cl Client, op Operator) bool {
	return (len(cl.Operators) == 0 || slices.Contains(cl.Operators, op.Name)) &&
		(len(op.Clients) == 0 || slices.Contains(op.Clients, cl.Name))
}

func selected(names []string, name string) bool {
	return len(names) == 0 || slices.Contains(names, name)
}

// Expects returns the cell's expectation for requirement id (a negative control's), nil
// when it has none.
func (c Cell) Expects(id contract.RequirementID) *Expectation {
	for i := range c.Expect {
		if c.Expect[i].Requirement == id {
			return &c.Expect[i]
		}
	}
	return nil
}

// ControlSides are the sides of the cell that are negative controls: a client with a defect
// or expectations (in any of its cells: also where it must pass), an operator with
// expectations.
func (c Cell) ControlSides() []string {
	var out []string
	if c.Client.Defect != "" || len(c.Client.ExpectFail) > 0 {
		out = append(out, string(contract.SideClient))
	}
	if len(c.Operator.ExpectFail) > 0 {
		out = append(out, string(contract.SideOperator))
	}
	return out
}

// ControlSide says which side of the cell is the negative control that must fail id: the
// client, the operator, or "" when neither expects it to fail.
func (c Cell) ControlSide(id contract.RequirementID) contract.Side {
	expects := func(list []Expectation) bool {
		return slices.ContainsFunc(list, func(e Expectation) bool { return e.Requirement == id && e.holdsWith(c.Operator.Name) })
	}
	switch {
	case expects(c.Client.ExpectFail):
		return contract.SideClient
	case expects(c.Operator.ExpectFail):
		return contract.SideOperator
	}
	return ""
}

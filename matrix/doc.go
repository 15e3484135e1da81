// Package matrix loads, defaults and validates matrix.yaml, and expands it into cells: one
// client against one operator on one tier.
package matrix

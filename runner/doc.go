// Package runner runs one cell of the matrix: it stands the cell's operator up on its tier,
// runs the client's scenarios (status, ls, exec, a stale certificate, every certificate
// fixture) and a session-takeover probe, and evaluates what reached the operator against
// the contract's requirements.
package runner

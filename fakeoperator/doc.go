// Package fakeoperator is a fake mirrord operator, importable the way net/http/httptest is:
// NewServer starts an HTTPS server on a loopback port that serves the operator's aggregated
// API (operator.metalbear.co/v1) and, standing in for a whole API endpoint, the discovery
// documents and the few core reads clients make around it. It issues real certificates from a
// per-server licence authority, enforces the header contract according to an operator
// profile, and journals every request it receives, refused ones included.
//
// Log levels: V(0) is what a user running the binary wants to see (the URL served, fatal
// problems); V(1) is one line per refused request; V(2) is one line per request.
package fakeoperator

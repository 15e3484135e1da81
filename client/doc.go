// Package client is the reference client of the contract: a client-go transport layer that
// stamps every request with the version, identity and certificate headers, the credential
// store and certificate flow, and the status, ls and exec request sequences. Built at any
// version (see Version), it behaves header for header like the mirrord client release of
// that version, following one table of changes (History). Built with a Defect, it breaks
// one requirement on purpose, as a negative control.
package client

// Package contract holds the client ↔ operator header contract as data: header roles and
// names, request classes and the route parser that assigns them. It does no I/O.
package contract

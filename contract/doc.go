// Package contract holds the client ↔ operator header contract as data and judges journals
// against it: header roles and names, request classes and the route parser that assigns
// them, the journal entry, the requirements with their SemVer gates and sides, the
// evaluator that turns a cell's observations into findings, what a refusal is and what
// naming it means (the real CLI's wording among its tests), identity cleaning per client
// version, and golden journals. It does no I/O.
package contract

// Package tier stands an operator up for a cell: in process (fake), or behind a real
// kube-apiserver's aggregator (apiserver). Whatever the tier, a cell gets an Endpoint: a
// client configuration, the journal of what reached the operator, and Close. For the kind
// tier it holds, so far, the preflight and the recording proxy that gives a real operator a
// journal.
package tier

// Package tier stands an operator up for a cell: in process (fake), and later behind a real
// kube-apiserver or on kind. Whatever the tier, a cell gets an Endpoint: a client
// configuration, the journal of what reached the operator, and Close.
package tier

// Package check judges one command of a real client against a real cluster: it puts the
// recording proxy between them, runs the command with a kubeconfig that points at the
// proxy, and evaluates what the client sent against the contract's requirements for the
// client's and the operator's versions.
package check

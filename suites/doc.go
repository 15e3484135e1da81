// Package suites holds the Ginkgo conformance suites, the only RunSpecs of the repository.
// Specs are generated from matrix.yaml before RunSpecs: one ordered container per cell, one
// spec per requirement. Run them with `make conformance`.
package suites

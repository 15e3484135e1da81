// Package report holds the conformance report: per cell and requirement an outcome (pass,
// fail, skip, expected-fail, unexpected-pass) with its reason, written as report.json (for
// machines; shards merge) and report.md (a matrix for people, e.g. a GitHub job summary).
package report

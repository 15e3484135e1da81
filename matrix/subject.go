package matrix

import (
	"fmt"

	"github.com/Masterminds/semver/v3"

	"github.com/opconform/opconform/contract"
)

// Subject is what the contract judges the cell by, from the matrix alone: its client and
// operator versions, the operator's minimum client version, the contract's header names and
// gates, and the client's fail-early exit code where the matrix sets one. The runner adds
// what only a run knows (the client's identity, the golden journal). Parsed here once for
// the runner and the suites.
func (c Cell) Subject() (contract.Subject, error) {
	client, err := semver.StrictNewVersion(c.Client.Version)
	if err != nil {
		return contract.Subject{}, fmt.Errorf("client %s: version %q: %w", c.Client.Name, c.Client.Version, err)
	}
	operator, err := semver.StrictNewVersion(c.Operator.Version)
	if err != nil {
		return contract.Subject{}, fmt.Errorf("operator %s: version %q: %w", c.Operator.Name, c.Operator.Version, err)
	}
	s := contract.Subject{ClientVersion: client, OperatorVersion: operator, Headers: c.Contract.Headers, Gates: c.Contract.Gates()}
	if v := c.Operator.MinClientVersion; v != "" {
		if s.MinClientVersion, err = semver.StrictNewVersion(v); err != nil {
			return contract.Subject{}, fmt.Errorf("operator %s: minClientVersion %q: %w", c.Operator.Name, v, err)
		}
	}
	if c.Client.FailEarlyExitCode != nil {
		s.FailEarlyExitCode = *c.Client.FailEarlyExitCode
	}
	return s, nil
}

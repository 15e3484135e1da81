package tier

import (
	"context"

	"k8s.io/utils/clock"

	"github.com/opconform/opconform/matrix"
)

// Tier is where a cell's operator runs: it stands the operator up for the cell, on the
// cell's clock, and hands back the endpoint clients use; Stop ends everything it started.
// Fake (in process), APIServer (behind kube-apiserver) and KindPool (kind clusters) are the
// tiers.
type Tier interface {
	Start(ctx context.Context, cell matrix.Cell, clk clock.PassiveClock) (*Endpoint, error)
	Stop()
}

// Fake is the in-process tier: a fake operator per cell, on a loopback port (StartFake).
type Fake struct{}

// Start starts the cell's fake operator.
func (Fake) Start(_ context.Context, cell matrix.Cell, clk clock.PassiveClock) (*Endpoint, error) {
	return StartFake(cell, clk)
}

// Stop does nothing: each endpoint's Close stops its operator.
func (Fake) Stop() {}

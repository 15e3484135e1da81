package tier

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/fakeoperator"
	"github.com/opconform/opconform/fixtures/certs"
	"github.com/opconform/opconform/matrix"
)

// Endpoint is a running operator a cell's clients talk to.
type Endpoint struct {
	// Config is what clients get: the whole API endpoint, with its CA.
	Config *rest.Config
	// User is the Kubernetes user Config authenticates as, where the tier has users.
	User string
	// Journal returns what reached the operator so far.
	Journal func() []contract.Entry
	// JournalOf returns what reached the operator so far as another user, on tiers with
	// users (apiserver); nil elsewhere.
	JournalOf func(user string) []contract.Entry
	// Dropped returns how many entries the operator's journal could not keep so far: a
	// journal that dropped any is not judged as if it were whole. Nil where none can be.
	Dropped func() uint64
	// SetIssuing tells the fake operator what its credential endpoints issue (the harness's
	// refusal scenarios); nil for a real operator.
	SetIssuing func(ctx context.Context, as fakeoperator.Issuing) error
	// Authority issues certificates of the operator's licence (probes); nil for a real
	// operator.
	Authority *credentials.Authority
	// LicenseFingerprint is the key clients file their certificates under.
	LicenseFingerprint string
	// Close stops everything the tier started.
	Close func()
}

// fakeOptions configures the cell's fake operator: its version, profile, minimum client
// version and header names, the fixtures' licence key, and clock.
func fakeOptions(cell matrix.Cell, clk clock.PassiveClock) (fakeoperator.Options, error) {
	if cell.Operator.Kind != matrix.KindFake {
		return fakeoperator.Options{}, fmt.Errorf("operator %s is of kind %s; this tier runs fake operators", cell.Operator.Name, cell.Operator.Kind)
	}
	key, err := certs.LicenseKey()
	if err != nil {
		return fakeoperator.Options{}, err
	}
	return fakeoperator.Options{
		OperatorVersion:  cell.Operator.Version,
		Profile:          cell.Operator.Profile,
		MinClientVersion: cell.Operator.MinClientVersion,
		Headers:          cell.Contract.Headers,
		LicenseKey:       key,
		License: fakeoperator.License{
			Name: certs.License.Name, Organization: certs.License.Organization, Plan: certs.License.Plan,
			SubscriptionID: certs.License.SubscriptionID, Fingerprint: certs.Fingerprint,
		},
		Clock: clk,
	}, nil
}

// StartFake starts the cell's operator in process: the fake operator with the cell's
// version, profile, minimum client version and header names, the fixtures' licence key,
// and clock.
func StartFake(cell matrix.Cell, clk clock.PassiveClock) (*Endpoint, error) {
	opts, err := fakeOptions(cell, clk)
	if err != nil {
		return nil, fmt.Errorf("the fake operator's options: %w", err)
	}
	srv, err := fakeoperator.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("tier fake: starting operator %s: %w", cell.Operator.Name, err)
	}
	ep := &Endpoint{
		Config:             srv.RESTConfig(),
		Journal:            srv.Journal().Entries,
		Dropped:            srv.Journal().Dropped,
		SetIssuing:         func(_ context.Context, as fakeoperator.Issuing) error { return srv.SetIssuing(as) },
		Authority:          srv.Authority(),
		LicenseFingerprint: srv.License().Fingerprint,
		Close:              srv.Close,
	}
	return ep, nil
}

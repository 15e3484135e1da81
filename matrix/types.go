package matrix

import (
	"reflect"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"slices"

	"github.com/opconform/opconform/contract"
)

// Matrix is matrix.yaml.
type Matrix struct {
	// Contracts are the header namings under test; clients name one (default "mirrord").
	Contracts []Contract `json:"contracts"`
	// Tiers are where operators run: fake, apiserver, kind.
	Tiers []string `json:"tiers"`
	// Kubernetes are the Kubernetes versions of the kind tier.
	Kubernetes []string   `json:"kubernetes"`
	Clients    []Client   `json:"clients"`
	Operators  []Operator `json:"operators"`
	Timeouts   Timeouts   `json:"timeouts"`
}

// Contract is one naming of the contract's headers, with optional requirement gates.
type Contract struct {
	Name    string               `json:"name"`
	Headers contract.HeaderNames `json:"headers"`
	// Requirements override requirements' version gates for cells of this contract.
	Requirements []RequirementGate `json:"requirements,omitempty"`
}

// RequirementGate overrides one requirement's version gates.
type RequirementGate struct {
	ID        contract.RequirementID `json:"id"`
	Clients   string                 `json:"clients,omitempty"`
	Operators string                 `json:"operators,omitempty"`
}

// Gates returns the contract's gate overrides, by requirement.
func (c Contract) Gates() map[contract.RequirementID]contract.Gate {
	out := map[contract.RequirementID]contract.Gate{}
	for _, g := range c.Requirements {
		out[g.ID] = contract.Gate{Clients: g.Clients, Operators: g.Operators}
	}
	return out
}

// Client is one client of the matrix.
type Client struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Driver is "reference" (this repo's client, at Version) or "external".
	Driver string `json:"driver"`
	// Defect builds the reference client with a deliberate defect (a negative control).
	Defect string `json:"defect,omitempty"`
	// Contract names the header naming the client speaks; default "mirrord".
	Contract string `json:"contract,omitempty"`
	// Operators restricts the client to these operators; empty means all.
	Operators []string `json:"operators,omitempty"`
	// ExpectFail lists the requirements this client must be found failing.
	ExpectFail []Expectation `json:"expectFail,omitempty"`
	// FailEarlyExitCode is the exit code the client stops with after an operator refused its
	// certificate; STOP-AFTER-REFUSAL checks it. Unset, a reference client is held to opclient's
	// (client.ExitCertificateRefused), an external client to none.
	FailEarlyExitCode *int `json:"failEarlyExitCode,omitempty"`
	// External describes how to install and run a client of driver external.
	External *External `json:"external,omitempty"`
}

// External is a client binary the harness does not build: how to install it and the
// command that runs each scenario. It runs with its own HOME and KUBECONFIG.
type External struct {
	// Install is a shell command, run in the repository root, whose last line of output is
	// the binary's path; {version} is replaced by the client's version.
	Install string `json:"install"`
	// Requires names environment variables Install needs (OPCONFORM_DOWNLOAD=1 for a
	// download); without them the client's cells skip, saying what to set.
	Requires []string `json:"requires,omitempty"`
	// Commands are shell command templates per scenario (status, ls, exec); {binary},
	// {namespace}, {target} (deployment.nginx) and {targetPath} (deployment/nginx, the mirrord
	// CLI's form) are replaced (CommandPlaceholders). Scenarios without one are not run.
	Commands map[string]string `json:"commands"`
}
type Operator struct {
	Name string `json:"name"`
	// Kind is "fake" (the fake operator, by profile) or "real".
	Kind    string `json:"kind"`
	Version string `json:"version"`
	// Profile names a fake operator profile explicitly; empty selects it by Version.
	Profile string `json:"profile,omitempty"`
	// MinClientVersion makes the operator refuse older clients.
	MinClientVersion string `json:"minClientVersion,omitempty"`
	// Clients restricts the operator to these clients; empty means all.
	Clients []string `json:"clients,omitempty"`
	// ExpectFail lists the requirements this operator must be found failing.
	ExpectFail []Expectation `json:"expectFail,omitempty"`
	// Real is how to install an operator of kind real (on the kind tier only).
	Real *RealOperator `json:"real,omitempty"`
}

// RealOperator is a real operator installed with Helm; clients reach it through the
// recording proxy, which keeps its journal.
type RealOperator struct {
	// Chart is the Helm chart: a name in Repo, or an OCI reference.
	Chart string `json:"chart"`
	// Repo is the chart repository URL (helm --repo).
	Repo string `json:"repo,omitempty"`
	// ChartVersion pins the chart.
	ChartVersion string `json:"chartVersion,omitempty"`
	// Values are --set values.
	Values map[string]string `json:"values,omitempty"`
	// LicenseEnv names the environment variable holding the licence key, passed to Helm on
	// standard input (never written to disk or logs); without it the cells skip.
	LicenseEnv string `json:"licenseEnv"`
	// LicenseValue is the chart value the licence key goes to; default license.key.
	LicenseValue string `json:"licenseValue,omitempty"`
}

// Expectation is a requirement a negative control must fail, optionally for a reason (the
// finding's reason must then equal it).
type Expectation struct {
	Requirement contract.RequirementID `json:"requirement"`
	Reason      string                 `json:"reason,omitempty"`
	// Operators limits a client's expectation to its cells with these operators (a defect
	// that shows against some operators only); empty: all of them.
	Operators []string `json:"operators,omitempty"`
}

// holdsWith reports whether a client's expectation holds in its cells with operator op.
func (e Expectation) holdsWith(op string) bool {
	return len(e.Operators) == 0 || slices.Contains(e.Operators, op)
}

// Timeouts bounds every wait of a run; each has a default (DefaultTimeouts).
type Timeouts struct {
	// Cell bounds one cell: operator start, every scenario, evaluation. Default 60s.
	Cell metav1.Duration `json:"cell"`
	// Scenario bounds one client command. Default 20s.
	Scenario metav1.Duration `json:"scenario"`
	// Setup bounds what the first process prepares before any cell: building the control
	// plane (about 8 minutes cold on 2 cores), the operator image, the external clients.
	// Default 15m.
	Setup metav1.Duration `json:"setup"`
	// KindCell bounds the first kind cell of a process, which also makes its cluster. Default
	// 12m.
	KindCell metav1.Duration `json:"kindCell"`
	// ControlPlane bounds etcd and kube-apiserver becoming ready (apiserver tier). Default
	// 90s.
	ControlPlane metav1.Duration `json:"controlPlane"`
	// APIService bounds the operator's APIService becoming Available (apiserver tier).
	// Default 60s.
	APIService metav1.Duration `json:"apiService"`
	// Preflight bounds each docker command of the kind tier's preparation and clusters.
	// Default 2m.
	Preflight metav1.Duration `json:"preflight"`
	// NodeImage bounds building a kind node image here, or pulling one (about 30 minutes
	// cold on 2 cores). Default 60m.
	NodeImage metav1.Duration `json:"nodeImage"`
	// KindCluster bounds making a kind cluster and its becoming ready; KindReuse checking a
	// kept one. Defaults 5m and 20s.
	KindCluster metav1.Duration `json:"kindCluster"`
	KindReuse   metav1.Duration `json:"kindReuse"`
	// Rollout bounds an operator rollout on a cluster: Deployment available, APIService
	// Available, the operator answering through the aggregator. Default 3m.
	Rollout metav1.Duration `json:"rollout"`
	// Helm bounds installing a real operator's chart. Default 5m.
	Helm metav1.Duration `json:"helm"`
	// Request bounds one request the harness makes of a tier: the operator's harness
	// endpoints, a user's API requests. Default 30s.
	Request metav1.Duration `json:"request"`
	// Probe bounds one probe of a wait for an operator: a discovery request through the
	// aggregator, a connection waiting for the next cell's operator. Default 10s.
	Probe metav1.Duration `json:"probe"`
	// Stop bounds how long a process a tier started (etcd, kube-apiserver) is given to exit
	// after SIGTERM before it is killed. Default 10s.
	Stop metav1.Duration `json:"stop"`
}

// DefaultTimeouts are the timeouts a matrix does not set.
func DefaultTimeouts() Timeouts {
	d := func(v time.Duration) metav1.Duration { return metav1.Duration{Duration: v} }
	return Timeouts{
		Cell: d(60 * time.Second), Scenario: d(20 * time.Second), Setup: d(15 * time.Minute), KindCell: d(12 * time.Minute),
		ControlPlane: d(90 * time.Second), APIService: d(60 * time.Second), Preflight: d(2 * time.Minute), NodeImage: d(60 * time.Minute),
		KindCluster: d(5 * time.Minute), KindReuse: d(20 * time.Second), Rollout: d(3 * time.Minute), Helm: d(5 * time.Minute),
		Request: d(30 * time.Second), Probe: d(10 * time.Second), Stop: d(10 * time.Second),
	}
}

// fields are the timeouts by their names in matrix.yaml (the json tags), for defaults and
// checks: read from the struct, so a timeout added to it is defaulted and checked too.
func (t *Timeouts) fields() map[string]*metav1.Duration {
	v := reflect.ValueOf(t).Elem()
	out := make(map[string]*metav1.Duration, v.NumField())
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		out[name] = v.Field(i).Addr().Interface().(*metav1.Duration)
	}
	return out
}

// Drivers, kinds and tiers.
const (
	DriverReference = "reference"
	DriverExternal  = "external"
	KindFake        = "fake"
	KindReal        = "real"
	TierFake        = "fake"
	TierAPIServer   = "apiserver"
	TierKind        = "kind"
	// DefaultContract is the mirrord naming.
	DefaultContract = "mirrord"
)

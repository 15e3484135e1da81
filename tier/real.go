package tier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/opconform/opconform/journal"
	"github.com/opconform/opconform/matrix"
)

// ErrRealOperatorUnavailable is returned when a real operator cannot run here (no licence
// in the environment, no Helm).
var ErrRealOperatorUnavailable = errors.New("real operator unavailable")

// IsUnavailable reports whether err says a tier or operator cannot run on this machine,
// which makes its cells skip with the error's line.
func IsUnavailable(err error) bool {
	return errors.Is(err, ErrKindUnavailable) || errors.Is(err, ErrRealOperatorUnavailable)
}

// RealLicense returns the licence key of a real operator from its environment variable.
func RealLicense(op matrix.Operator) (string, error) {
	key := os.Getenv(op.Real.LicenseEnv)
	if key == "" {
		return "", fmt.Errorf("%w: operator %s needs its licence key in %s; set it to run it", ErrRealOperatorUnavailable, op.Name, op.Real.LicenseEnv)
	}
	return key, nil
}

// InstallReal installs a real operator with Helm into the cluster of kubeconfig. The
// licence key goes to Helm on standard input as a values document: never on disk, never in
// the arguments or the logs. Helm's wait for the operator's resources is bounded by
// helmWait.
func InstallReal(ctx context.Context, kubeconfig string, op matrix.Operator, license string, helmWait time.Duration) error {
	helm, err := exec.LookPath("helm")
	if err != nil {
		return fmt.Errorf("%w: operator %s is installed with Helm, which is not on PATH", ErrRealOperatorUnavailable, op.Name)
	}
	path := op.Real.LicenseValue
	if path == "" {
		path = "license.key"
	}
	values, err := yaml.Marshal(nested(path, license))
	if err != nil {
		return fmt.Errorf("the Helm values of operator %s: %w", op.Name, err)
	}
	args := []string{"upgrade", "--install", "mirrord-operator", op.Real.Chart, "--namespace", deployNamespace, "--create-namespace",
		"--kubeconfig", kubeconfig, "--wait", "--timeout", helmWait.String(), "--values", "-"}
	if op.Real.Repo != "" {
		args = append(args, "--repo", op.Real.Repo)
	}
	if op.Real.ChartVersion != "" {
		args = append(args, "--version", op.Real.ChartVersion)
	}
	keys := make([]string, 0, len(op.Real.Values))
	for k := range op.Real.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--set", k+"="+op.Real.Values[k])
	}
	ctx, cancel := context.WithTimeout(ctx, helmWait+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, helm, args...)
	cmd.Stdin = bytes.NewReader(values)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("helm install of operator %s (%s): %w: %s", op.Name, op.Real.Chart, err, redact(out.String(), license))
	}
	return nil
}

// nested turns "a.b" and v into {a: {b: v}}.
func nested(path string, v string) map[string]any {
	out := map[string]any{}
	cur := out
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next := map[string]any{}
		cur[p] = next
		cur = next
	}
	cur[parts[len(parts)-1]] = v
	return out
}

// redact removes secret from s.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "<licence>")
}

// StartReal installs the cell's real operator (once per cluster) and puts a recording
// proxy between the clients and the cluster: the journal the real operator does not keep.
func (k *KindTier) StartReal(ctx context.Context, cell matrix.Cell) (*Endpoint, error) {
	license, err := RealLicense(cell.Operator)
	if err != nil {
		return nil, fmt.Errorf("operator %s: %w", cell.Operator.Name, err)
	}
	if k.installed != cell.Operator.Name {
		k.serving = "" // the chart's APIService replaces the fake operator's
		if err := InstallReal(ctx, k.Kubeconfig, cell.Operator, license, k.timeouts.Helm.Duration); err != nil {
			return nil, fmt.Errorf("installing operator %s: %w", cell.Operator.Name, err)
		}
		k.installed = cell.Operator.Name
	}
	rec, err := journal.NewProxy(k.admin, cell.Contract.Headers)
	if err != nil {
		return nil, fmt.Errorf("the recording proxy of operator %s: %w", cell.Operator.Name, err)
	}
	return &Endpoint{Config: rest.CopyConfig(rec.Config), User: kindAdmin, Journal: rec.Journal, Dropped: rec.Dropped, Close: rec.Close}, nil
}

package check

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/Masterminds/semver/v3"

	"github.com/opconform/opconform/contract"
)

// loadCluster reads the cluster's client configuration with client-go's loading rules:
// the explicit file, else $KUBECONFIG, else ~/.kube/config, else the in-cluster
// configuration. It returns the configuration and the context's namespace.
func loadCluster(kubeconfig, kubeContext string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	cfg, err := cc.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, "", fmt.Errorf("%w: no cluster to check against: no --kubeconfig, no $KUBECONFIG, no ~/.kube/config, and not in a cluster", ErrCannotJudge)
	}
	if err != nil {
		return nil, "", fmt.Errorf("loading the cluster's kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("reading the kubeconfig context's namespace: %w", err)
	}
	return cfg, ns, nil
}

// operatorVersion reads operator_version from the cluster's MirrordOperator object, with
// the cluster's own credentials and the client's version in versionHeader (a request the
// client did not make, so not journalled). Its errors say what to do: a cluster that does
// not answer is no matter of --operator-version.
func operatorVersion(ctx context.Context, cluster *rest.Config, versionHeader, clientVersion string) (*semver.Version, error) {
	hc, err := rest.HTTPClientFor(cluster)
	if err != nil {
		return nil, fmt.Errorf("reading the operator's version: %w", err)
	}
	path := "/apis/" + contract.GroupVersion + "/mirrordoperators/" + contract.OperatorName
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(cluster.Host, "/")+path, nil)
	if err != nil {
		return nil, fmt.Errorf("reading the operator's version: %w", err)
	}
	req.Header.Set(versionHeader, clientVersion)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w the operator's version: the cluster at %s did not answer (%v): start it, or point --kubeconfig "+
			"or --context at one that runs", ErrCannotJudge, cluster.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the operator's version: GET %s: %w", path, err)
	}
	hint := "give the operator's version with --operator-version"
	if resp.StatusCode == http.StatusNotFound {
		hint = "is the mirrord operator installed in this cluster? If it is, " + hint
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w the operator's version: GET %s answered %d: %s (%s)", ErrCannotJudge, path, resp.StatusCode, strings.TrimSpace(string(body)), hint)
	}
	var op struct {
		Spec struct {
			OperatorVersion string `json:"operator_version"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(body, &op); err != nil || op.Spec.OperatorVersion == "" {
		return nil, fmt.Errorf("%w the operator's version: GET %s: no spec.operator_version in the answer (%s)", ErrCannotJudge, path, hint)
	}
	v, err := semver.StrictNewVersion(op.Spec.OperatorVersion)
	if err != nil {
		return nil, fmt.Errorf("%w the operator's version: spec.operator_version %q is not SemVer (%s)", ErrCannotJudge, op.Spec.OperatorVersion, hint)
	}
	return v, nil
}

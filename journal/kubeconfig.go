package journal

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Kubeconfig is what a client is given to reach an endpoint: a recording proxy, a fake
// operator, a tier's cluster.
type Kubeconfig struct {
	// Name names the kubeconfig's cluster, user and context.
	Name string
	// Endpoint is the server's URL and CA, and the client certificate a client presents
	// where it has one (the apiserver tier's users).
	Endpoint *rest.Config
	// Namespace is the context's namespace; default "default".
	Namespace string
}

// PlaceholderToken is the token of a kubeconfig whose endpoint authenticates its clients
// otherwise (a proxy holds the cluster's credentials and drops the client's Authorization;
// a fake operator authenticates front-proxy requests only): with no user at all kubectl
// prompts for a password.
const PlaceholderToken = "opconform-placeholder"

// WriteKubeconfig writes k to path: one cluster, user and context, current.
func WriteKubeconfig(path string, k Kubeconfig) error {
	ns := k.Namespace
	if ns == "" {
		ns = "default"
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[k.Name] = &clientcmdapi.Cluster{Server: k.Endpoint.Host, CertificateAuthorityData: k.Endpoint.CAData}
	user := &clientcmdapi.AuthInfo{ClientCertificateData: k.Endpoint.CertData, ClientKeyData: k.Endpoint.KeyData}
	if len(k.Endpoint.CertData) == 0 {
		user.Token = PlaceholderToken
	}
	cfg.AuthInfos[k.Name] = user
	cfg.Contexts[k.Name] = &clientcmdapi.Context{Cluster: k.Name, AuthInfo: k.Name, Namespace: ns}
	cfg.CurrentContext = k.Name
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing the kubeconfig %s: %w", path, err)
	}
	return nil
}

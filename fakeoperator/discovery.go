package fakeoperator

import (
	"net/http"
	"runtime"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"

	"github.com/opconform/opconform/contract"
)

// KubernetesVersion is the version the server reports on /version when it stands in for
// kube-apiserver.
const KubernetesVersion = "v1.37.2"

func (s *Server) serveDiscovery(c *call) {
	if c.r.Method != http.MethodGet {
		s.fail(c, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "%s is not allowed on %s", c.r.Method, c.r.URL.Path)
		return
	}
	switch "/" + strings.Trim(c.r.URL.Path, "/") {
	case "/version":
		writeJSON(c.w, http.StatusOK, version.Info{
			Major: "1", Minor: "37", GitVersion: KubernetesVersion + "-opconform", Platform: runtime.GOOS + "/" + runtime.GOARCH,
		})
	case "/api":
		writeJSON(c.w, http.StatusOK, metav1.APIVersions{
			TypeMeta:                   metav1.TypeMeta{Kind: "APIVersions"},
			Versions:                   []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: c.r.Host}},
		})
	case "/api/v1":
		writeJSON(c.w, http.StatusOK, resourceList("v1",
			withShortNames(resource("namespaces", "Namespace", false, "get", "list"), "ns"),
			withShortNames(resource("pods", "Pod", true, "get", "list"), "po")))
	case "/apis":
		writeJSON(c.w, http.StatusOK, metav1.APIGroupList{
			TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
			Groups:   []metav1.APIGroup{apiGroup("apps", "v1"), s.operatorGroup()},
		})
	case "/apis/apps":
		writeJSON(c.w, http.StatusOK, withKind(apiGroup("apps", "v1")))
	case "/apis/apps/v1":
		writeJSON(c.w, http.StatusOK, resourceList("apps/v1", withShortNames(resource("deployments", "Deployment", true, "get", "list"), "deploy")))
	case "/apis/" + contract.Group:
		writeJSON(c.w, http.StatusOK, withKind(s.operatorGroup()))
	default:
		s.notFound(c, "discovery document "+c.r.URL.Path)
	}
}

// serveOperatorDiscovery answers the APIResourceList of operator.metalbear.co/v1, and of
// v1alpha1 from the operator version that serves previews (404 before, as for a version an
// aggregated server does not serve).
func (s *Server) serveOperatorDiscovery(c *call) {
	if strings.HasSuffix(strings.TrimRight(c.r.URL.Path, "/"), "/"+contract.AlphaVersion) {
		if !s.serves(contract.ClassPreviewList) {
			s.notFound(c, "discovery document "+c.r.URL.Path)
			return
		}
		writeJSON(c.w, http.StatusOK, resourceList(contract.Group+"/"+contract.AlphaVersion, resource(contract.ResourcePreviews, "PreviewEnv", true, "get", "list")))
		return
	}
	writeJSON(c.w, http.StatusOK, s.operatorResources())
}

// operatorResources is the APIResourceList of operator.metalbear.co/v1.
func (s *Server) operatorResources() *metav1.APIResourceList {
	res := []metav1.APIResource{
		resource(contract.ResourceOperators, "MirrordOperator", false, "get", "list"),
	}
	if s.profile.LegacyCredentials {
		res = append(res, resource(contract.ResourceOperators+"/certificate", "MirrordOperator", false, "create"))
	}
	if s.hasFeature(FeatureDiagnosticPing) {
		res = append(res, resource(contract.ResourceOperators+"/ping", "MirrordOperator", false, "get"))
	}
	if s.hasFeature(FeatureExtendableUserCredentials) {
		res = append(res, resource(contract.ResourceCredentials, "MirrordClusterOperatorUserCredential", false, "create"))
	}
	res = append(res,
		resource(contract.ResourceTargets, "Target", true, "get", "list", "proxy"),
		resource(contract.ResourceCopyTargets, "CopyTarget", true, "create", "get", "list", "proxy"),
		resource(contract.ResourceSessions, "Session", true, "list", "delete", "deletecollection"),
	)
	for _, e := range []struct {
		class      contract.Class
		name, kind string
		namespaced bool
		verbs      []string
	}{
		{contract.ClassBranchCredentials, contract.ResourceBranchCredentials, "BranchCredential", false, []string{"create"}},
		{contract.ClassPreviewSecrets, contract.ResourcePreviewSecretMounts, "PreviewSecretMount", false, []string{"create"}},
		{contract.ClassQueueSplitList, contract.ResourceQueueSplits, "QueueSplit", true, []string{"get", "list"}},
		{contract.ClassEventWatch, contract.ResourceEvents, "Event", false, []string{"watch"}},
	} {
		if s.serves(e.class) {
			res = append(res, resource(e.name, e.kind, e.namespaced, e.verbs...))
		}
	}
	return resourceList(contract.GroupVersion, res...)
}

func resourceList(groupVersion string, resources ...metav1.APIResource) *metav1.APIResourceList {
	return &metav1.APIResourceList{
		TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: groupVersion,
		APIResources: resources,
	}
}

func resource(name, kind string, namespaced bool, verbs ...string) metav1.APIResource {
	singular := strings.ToLower(kind)
	if strings.Contains(name, "/") {
		singular = ""
	}
	return metav1.APIResource{Name: name, SingularName: singular, Kind: kind, Namespaced: namespaced, Verbs: verbs}
}

func withShortNames(r metav1.APIResource, names ...string) metav1.APIResource {
	r.ShortNames = names
	return r
}

// operatorGroup is operator.metalbear.co with the versions the operator serves, v1 preferred.
func (s *Server) operatorGroup() metav1.APIGroup {
	if s.serves(contract.ClassPreviewList) {
		return apiGroup(contract.Group, contract.Version, contract.AlphaVersion)
	}
	return apiGroup(contract.Group, contract.Version)
}

// apiGroup is group with its versions, the first preferred.
func apiGroup(group string, versions ...string) metav1.APIGroup {
	g := metav1.APIGroup{Name: group}
	for _, v := range versions {
		g.Versions = append(g.Versions, metav1.GroupVersionForDiscovery{GroupVersion: group + "/" + v, Version: v})
	}
	g.PreferredVersion = g.Versions[0]
	return g
}

func withKind(g metav1.APIGroup) metav1.APIGroup {
	g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
	return g
}

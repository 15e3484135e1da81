package contract

import (
	"slices"
	"strings"
)

// Group and version of the operator's aggregated API.
const (
	Group        = "operator.metalbear.co"
	Version      = "v1"
	GroupVersion = Group + "/" + Version
	// AlphaVersion is the group's v1alpha1 version, which serves previews.
	AlphaVersion = "v1alpha1"
	// OperatorName is the fixed name of the MirrordOperator object.
	OperatorName = "operator"
	// HarnessPrefix is the path prefix of the harness's own endpoints; it is outside /apis,
	// so an aggregator never proxies it.
	HarnessPrefix = "/_opconform/"
	// HarnessGroupPrefix reaches the same endpoints under the operator's API group, where
	// kube-apiserver's aggregator proxies them to the operator as it proxies clients'
	// requests: over connections it keeps, where its service proxy dials anew each time.
	HarnessGroupPrefix = "/apis/" + GroupVersion + HarnessPrefix
)

// Resource plurals of operator.metalbear.co/v1.
const (
	ResourceOperators   = "mirrordoperators"
	ResourceCredentials = "mirrordclusteroperatorusercredentials"
	ResourceTargets     = "targets"
	ResourceCopyTargets = "copytargets"
	ResourceSessions    = "sessions"
	// Operator endpoints that are no stored objects: POST-only requests of exec and preview,
	// the queue-splitting status (`mirrord queues`) and the event stream (`mirrord subscribe`).
	ResourceBranchCredentials   = "branchcredentials"
	ResourcePreviewSecretMounts = "previewsecretmounts"
	ResourceQueueSplits         = "queuesplits"
	ResourceEvents              = "events"
	// ResourcePreviews is the v1alpha1 preview status API.
	ResourcePreviews = "previews"
)

// Class is the kind of request, as the contract's requirements distinguish them.
type Class string

// Request classes. Operator classes are requests that reach the operator through the
// aggregator; the others are answered by kube-apiserver (or by the harness itself).
const (
	ClassCoreRead          Class = "core-read"
	ClassDiscovery         Class = "discovery"
	ClassOperatorDiscovery Class = "operator-discovery"
	ClassOperatorGet       Class = "operator-get"
	ClassCredentialRequest Class = "credential-request"
	ClassTargetList        Class = "target-list"
	ClassTargetGet         Class = "target-get"
	ClassTargetConnect     Class = "target-connect"
	ClassCopyTargetList    Class = "copytarget-list"
	ClassCopyTargetCreate  Class = "copytarget-create"
	ClassCopyTargetGet     Class = "copytarget-get"
	ClassCopyTargetConnect Class = "copytarget-connect"
	ClassSessionList       Class = "session-list"
	ClassSessionDelete     Class = "session-delete"
	ClassPing              Class = "ping"
	ClassBranchCredentials Class = "branch-credentials"
	ClassPreviewSecrets    Class = "preview-secret-mounts"
	ClassQueueSplitList    Class = "queuesplit-list"
	ClassQueueSplitGet     Class = "queuesplit-get"
	ClassEventWatch        Class = "event-watch"
	ClassPreviewList       Class = "preview-list"
	ClassPreviewGet        Class = "preview-get"
	ClassHarness           Class = "harness"
	ClassUnknown           Class = "unknown"
)

// Classes lists every class, in a stable order.
var Classes = []Class{
	ClassCoreRead, ClassDiscovery, ClassOperatorDiscovery, ClassOperatorGet, ClassCredentialRequest,
	ClassTargetList, ClassTargetGet, ClassTargetConnect, ClassCopyTargetList, ClassCopyTargetCreate,
	ClassCopyTargetGet, ClassCopyTargetConnect, ClassSessionList, ClassSessionDelete, ClassPing,
	ClassBranchCredentials, ClassPreviewSecrets, ClassQueueSplitList, ClassQueueSplitGet, ClassEventWatch,
	ClassPreviewList, ClassPreviewGet, ClassHarness, ClassUnknown,
}

// IsOperator reports whether requests of this class reach the operator (rather than being
// answered by kube-apiserver or the harness).
func (c Class) IsOperator() bool {
	switch c {
	case ClassCoreRead, ClassDiscovery, ClassHarness, ClassUnknown:
		return false
	}
	return true
}

// IsConnect reports whether the class is a WebSocket connect to a target or copy target.
func (c Class) IsConnect() bool {
	return c == ClassTargetConnect || c == ClassCopyTargetConnect
}

// Route is a parsed request path.
type Route struct {
	Class Class
	// Proxy is true for the /v1/proxy/namespaces/… URL form.
	Proxy bool
	// Namespace is empty for cluster-scoped resources.
	Namespace string
	// Resource is the plural under operator.metalbear.co/v1, or the core resource
	// (namespaces, pods, deployments) for core reads.
	Resource string
	// Name is the object name, empty for collections.
	Name string
	// Subresource is e.g. "certificate" or "ping" on mirrordoperators/operator.
	Subresource string
}

// Request is what Classify reads of a request.
type Request struct {
	Method, Path string
	// Connect is true when the query (or the connect-params header) asks for a connect
	// (connect=true); Upgrade is true for a WebSocket upgrade.
	Connect, Upgrade bool
}

// Classify parses a request's method and path. It never fails: what it does not know is
// ClassUnknown.
func Classify(req Request) Route {
	method, path, connect, upgrade := req.Method, req.Path, req.Connect, req.Upgrade
	if strings.HasPrefix(path, HarnessPrefix) || strings.HasPrefix(path, HarnessGroupPrefix) {
		return Route{Class: ClassHarness}
	}
	switch path = "/" + strings.Trim(path, "/"); path {
	case "/version", "/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/apis/" + Group:
		return Route{Class: ClassDiscovery}
	case "/apis/" + Group + "/" + AlphaVersion:
		return Route{Class: ClassOperatorDiscovery}
	}
	segs := splitPath(path)
	switch {
	case len(segs) > 2 && segs[0] == "api" && segs[1] == "v1":
		return coreRoute(segs[2:], "namespaces", "pods")
	case len(segs) > 3 && segs[0] == "apis" && segs[1] == "apps" && segs[2] == "v1":
		return coreRoute(segs[3:], "deployments")
	case len(segs) > 2 && segs[0] == "apis" && segs[1] == Group && segs[2] == Version:
		return operatorRoute(method, segs[3:], connect, upgrade)
	case len(segs) > 3 && segs[0] == "apis" && segs[1] == Group && segs[2] == AlphaVersion:
		return previewRoute(method, segs[3:])
	}
	return Route{Class: ClassUnknown}
}

func splitPath(path string) []string {
	path = strings.Trim(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

// coreRoute parses the rest of a core read of one of the allowed resources:
// namespaces[/{ns}], or [namespaces/{ns}/]{resource}[/{name}].
func coreRoute(segs []string, allowed ...string) Route {
	r := Route{Class: ClassCoreRead}
	if len(segs) >= 2 && segs[0] == "namespaces" && len(segs) != 2 {
		r.Namespace, segs = segs[1], segs[2:]
	}
	switch {
	case len(segs) == 1:
		r.Resource = segs[0]
	case len(segs) == 2:
		r.Resource, r.Name = segs[0], segs[1]
	default:
		return Route{Class: ClassUnknown}
	}
	if !slices.Contains(allowed, r.Resource) || (r.Resource == "namespaces" && r.Namespace != "") {
		return Route{Class: ClassUnknown}
	}
	return r
}

// operatorRoute parses the path below /apis/operator.metalbear.co/v1.
func operatorRoute(method string, segs []string, connect, upgrade bool) Route {
	r := Route{}
	if len(segs) == 0 {
		r.Class = ClassOperatorDiscovery
		return r
	}
	if segs[0] == "proxy" {
		r.Proxy, segs = true, segs[1:]
	}
	if len(segs) >= 3 && segs[0] == "namespaces" {
		r.Namespace, segs = segs[1], segs[2:]
	}
	if len(segs) == 0 || len(segs) > 3 {
		return Route{Class: ClassUnknown}
	}
	r.Resource = segs[0]
	if len(segs) > 1 {
		r.Name = segs[1]
	}
	if len(segs) > 2 {
		r.Subresource = segs[2]
	}
	r.Class = operatorClass(method, r, connect || upgrade)
	if r.Class == ClassUnknown {
		return Route{Class: ClassUnknown}
	}
	return r
}

// previewRoute parses the path below /apis/operator.metalbear.co/v1alpha1: the read-only
// preview status API, namespaced.
func previewRoute(method string, segs []string) Route {
	if method != "GET" || len(segs) < 3 || len(segs) > 4 || segs[0] != "namespaces" || segs[2] != ResourcePreviews {
		return Route{Class: ClassUnknown}
	}
	r := Route{Class: ClassPreviewList, Namespace: segs[1], Resource: ResourcePreviews}
	if len(segs) == 4 {
		r.Class, r.Name = ClassPreviewGet, segs[3]
	}
	return r
}

func operatorClass(method string, r Route, connect bool) Class {
	namespaced := r.Namespace != ""
	switch {
	case r.Resource == ResourceOperators && !namespaced && !r.Proxy && r.Name != "":
		switch {
		case r.Subresource == "" && method == "GET":
			return ClassOperatorGet
		case r.Subresource == "certificate" && method == "POST":
			return ClassCredentialRequest
		case r.Subresource == "ping" && method == "GET":
			return ClassPing
		}
	case r.Resource == ResourceCredentials && !namespaced && !r.Proxy && r.Name == "" && method == "POST":
		return ClassCredentialRequest
	case r.Resource == ResourceTargets && r.Subresource == "" && method == "GET":
		switch {
		case r.Name == "" && !r.Proxy:
			return ClassTargetList // in a namespace, or in every namespace
		case !namespaced:
		case r.Name != "" && connect:
			return ClassTargetConnect
		case r.Name != "" && !r.Proxy:
			return ClassTargetGet
		}
	case r.Resource == ResourceCopyTargets && namespaced && r.Subresource == "":
		switch {
		case r.Name == "" && method == "GET" && !r.Proxy:
			return ClassCopyTargetList
		case r.Name == "" && method == "POST" && !r.Proxy:
			return ClassCopyTargetCreate
		case r.Name != "" && method == "GET" && connect:
			return ClassCopyTargetConnect
		case r.Name != "" && method == "GET" && !r.Proxy:
			return ClassCopyTargetGet
		}
	case !namespaced && !r.Proxy && r.Name == "" && method == "POST" && (r.Resource == ResourceBranchCredentials || r.Resource == ResourcePreviewSecretMounts):
		if r.Resource == ResourceBranchCredentials {
			return ClassBranchCredentials
		}
		return ClassPreviewSecrets
	case r.Resource == ResourceQueueSplits && !r.Proxy && r.Subresource == "" && method == "GET":
		if r.Name == "" {
			return ClassQueueSplitList // in a namespace, or in every namespace
		}
		if namespaced {
			return ClassQueueSplitGet
		}
	case r.Resource == ResourceEvents && !namespaced && !r.Proxy && r.Name == "" && method == "GET":
		return ClassEventWatch
	case r.Resource == ResourceSessions && !r.Proxy && r.Subresource == "":
		switch method {
		case "GET":
			if r.Name == "" {
				return ClassSessionList
			}
		case "DELETE":
			return ClassSessionDelete
		}
	}
	return ClassUnknown
}

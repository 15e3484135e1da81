package tier

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
	"k8s.io/utils/clock"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/fakeoperator"
	"github.com/opconform/opconform/matrix"
	"github.com/opconform/opconform/pki"
)

// Where the operator lives in the apiserver tier.
const (
	operatorNamespace = "mirrord"
	// operatorService is not deploy/'s mirrord-operator, so deploy/ validates against a
	// cluster that already serves the group without colliding with it.
	operatorService   = "opconform-fake-operator"
	operatorClusterIP = "127.0.10.100"
	// placeholderEndpoint is a documentation address (RFC 5737): validation refuses loopback
	// endpoints, and the aggregator dials the Service's clusterIP, never this.
	placeholderEndpoint = "192.0.2.10"
	apiServiceName      = "v1." + contract.Group
	// UsersGroup is the group of the tier's users; the tier gives it the operator's RBAC.
	UsersGroup = "opconform-users"
	// userRole is the ClusterRole of what the operator's chart gives users.
	userRole = "opconform-mirrord-user"
)

// APIServer is the apiserver tier of one process: a control plane whose aggregator routes
// operator.metalbear.co/v1 to the current cell's fake operator.
type APIServer struct {
	cp      *ControlPlane
	handoff *handoff
	serving tls.Certificate
	caPEM   []byte
	// cells counts the cells served, to give each its own user.
	cells int
}

// StartAPIServer starts the control plane from binDir and registers the operator's
// APIService, Service, EndpointSlice, RBAC and the workloads clients target.
func StartAPIServer(ctx context.Context, binDir string, t matrix.Timeouts) (*APIServer, error) {
	cp, err := StartControlPlane(ctx, binDir, t)
	if err != nil {
		return nil, fmt.Errorf("starting the apiserver tier: %w", err)
	}
	a := &APIServer{cp: cp}
	if err := a.setUp(ctx); err != nil {
		a.Stop()
		return nil, fmt.Errorf("apiserver tier: %w", err)
	}
	return a, nil
}

func (a *APIServer) setUp(ctx context.Context) error {
	ca, err := pki.NewCA("opconform-operator-ca")
	if err != nil {
		return fmt.Errorf("the operator's serving CA: %w", err)
	}
	kp, err := ca.IssueServer(operatorService, operatorClusterIP, operatorService+"."+operatorNamespace+".svc")
	if err != nil {
		return fmt.Errorf("the operator's serving certificate: %w", err)
	}
	if a.serving, err = tls.X509KeyPair(kp.CertPEM, kp.KeyPEM); err != nil {
		return fmt.Errorf("the operator's serving certificate: %w", err)
	}
	a.caPEM = ca.PEM
	port, err := freePort(operatorClusterIP)
	if err != nil {
		return fmt.Errorf("a port for the operator: %w", err)
	}
	if a.handoff, err = newHandoff(net.JoinHostPort(operatorClusterIP, strconv.Itoa(port)), a.cp.timeouts.Probe.Duration); err != nil {
		return fmt.Errorf("the operator's listener: %w", err)
	}
	cs, err := a.cp.Clientset()
	if err != nil {
		return fmt.Errorf("the admin client: %w", err)
	}
	if err := a.register(ctx, cs, int32(port)); err != nil {
		return fmt.Errorf("registering the operator: %w", err)
	}
	return nil
}

// created passes a Create's error on, naming what was created, unless it already existed.
func created(what string, err error) error {
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %s: %w", what, err)
	}
	return nil
}

// register creates what a cluster would hold for the operator and its users.
func (a *APIServer) register(ctx context.Context, cs *kubernetes.Clientset, port int32) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}
	_, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err := created("namespace", err); err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: operatorService, Namespace: operatorNamespace},
		Spec:       corev1.ServiceSpec{ClusterIP: operatorClusterIP, Ports: []corev1.ServicePort{{Name: "https", Port: port}}},
	}
	_, err = cs.CoreV1().Services(operatorNamespace).Create(ctx, svc, metav1.CreateOptions{})
	if err := created("service", err); err != nil {
		return err
	}
	proto, name := corev1.ProtocolTCP, "https"
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: operatorService, Namespace: operatorNamespace, Labels: map[string]string{discoveryv1.LabelServiceName: operatorService}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{placeholderEndpoint}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &proto}},
	}
	_, err = cs.DiscoveryV1().EndpointSlices(operatorNamespace).Create(ctx, slice, metav1.CreateOptions{})
	if err := created("endpointslice", err); err != nil {
		return err
	}
	if err := a.rbac(ctx, cs); err != nil {
		return fmt.Errorf("the operator's RBAC: %w", err)
	}
	if err := workloads(ctx, cs); err != nil {
		return fmt.Errorf("the workloads clients list: %w", err)
	}
	ag, err := aggregator.NewForConfig(a.cp.Admin)
	if err != nil {
		return fmt.Errorf("the aggregator client: %w", err)
	}
	apisvc := &apiregv1.APIService{
		ObjectMeta: metav1.ObjectMeta{Name: apiServiceName},
		// like the operator's chart: the aggregator does not verify the operator's serving
		// certificate (the operator verifies the aggregator's)
		Spec: apiregv1.APIServiceSpec{
			Service: &apiregv1.ServiceReference{Namespace: operatorNamespace, Name: operatorService, Port: &port},
			Group:   contract.Group, Version: contract.Version, InsecureSkipTLSVerify: true,
			GroupPriorityMinimum: 1000, VersionPriority: 15,
		},
	}
	_, err = ag.ApiregistrationV1().APIServices().Create(ctx, apisvc, metav1.CreateOptions{})
	return created("apiservice", err)
}

// rbac gives UsersGroup what the operator's chart gives users.
func (a *APIServer) rbac(ctx context.Context, cs *kubernetes.Clientset) error {
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: userRole},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{contract.Group}, Resources: []string{contract.ResourceOperators}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{contract.Group}, Resources: []string{contract.ResourceOperators + "/certificate", contract.ResourceCredentials}, Verbs: []string{"create"}},
			{APIGroups: []string{contract.Group}, Resources: []string{contract.ResourceOperators + "/ping"}, Verbs: []string{"get"}},
			{APIGroups: []string{contract.Group}, Resources: []string{contract.ResourceTargets, contract.ResourceCopyTargets}, Verbs: []string{"get", "list", "create", "proxy"}},
			{APIGroups: []string{contract.Group}, Resources: []string{contract.ResourceSessions}, Verbs: []string{"list", "delete", "deletecollection"}},
			{APIGroups: []string{""}, Resources: []string{"namespaces", "pods"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list"}},
		},
	}
	_, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
	if err := created("clusterrole", err); err != nil {
		return err
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: userRole},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: UsersGroup}},
	}
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{})
	return created("clusterrolebinding", err)
}

// workloads creates the deployment and pod the fake operator's inventory names, so target
// resolution against the real apiserver finds them.
func workloads(ctx context.Context, cs *kubernetes.Clientset) error {
	if err := defaultServiceAccount(ctx, cs); err != nil {
		return fmt.Errorf("the default service account: %w", err)
	}
	inv := fakeoperator.DefaultInventory()
	for _, w := range inv.Deployments {
		labels := map[string]string{"app": w.Name}
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: w.Name, Namespace: w.Namespace, Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec(w)},
			},
		}
		_, err := cs.AppsV1().Deployments(w.Namespace).Create(ctx, d, metav1.CreateOptions{})
		if err := created("deployment "+w.Name, err); err != nil {
			return err
		}
	}
	for _, w := range inv.Pods {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: w.Name, Namespace: w.Namespace, Labels: map[string]string{"app": w.Name}}, Spec: podSpec(w)}
		_, err := cs.CoreV1().Pods(w.Namespace).Create(ctx, p, metav1.CreateOptions{})
		if err := created("pod "+w.Name, err); err != nil {
			return err
		}
	}
	return nil
}

// defaultServiceAccount makes sure the default namespace has its service account, which
// pods need: a new cluster's controller-manager makes it within seconds (kind), a control
// plane without one never does (apiserver tier); whoever is first, it is the same object.
func defaultServiceAccount(ctx context.Context, cs *kubernetes.Clientset) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "default"}}
	_, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{})
	return created("service account default/default", err)
}

// WorkloadImage is what the target workloads run: the pause image every node has
// preloaded (kind's sandbox image), never pulled, so that a cluster with kubelets (kind)
// runs them without reaching for a registry.
const WorkloadImage = "registry.k8s.io/pause:3.10"

func podSpec(w fakeoperator.Workload) corev1.PodSpec {
	var spec corev1.PodSpec
	for _, c := range w.Containers {
		spec.Containers = append(spec.Containers, corev1.Container{Name: c, Image: WorkloadImage, ImagePullPolicy: corev1.PullNever})
	}
	return spec
}

// Start serves the cell's operator behind the aggregator and waits, bounded, until the
// APIService is Available and answers through kube-apiserver.
func (a *APIServer) Start(ctx context.Context, cell matrix.Cell, clk clock.PassiveClock) (*Endpoint, error) {
	opts, err := fakeOptions(cell, clk)
	if err != nil {
		return nil, fmt.Errorf("the fake operator's options: %w", err)
	}
	opts.ServingCert = &a.serving
	opts.FrontProxy = &fakeoperator.FrontProxy{ClientCA: a.cp.FrontProxyCA(), AllowedNames: []string{FrontProxyClientName}}
	srv, err := fakeoperator.NewUnstartedServer(opts)
	if err != nil {
		return nil, fmt.Errorf("tier apiserver: operator %s: %w", cell.Operator.Name, err)
	}
	_ = srv.Listener.Close()
	srv.Listener = a.handoff.next()
	srv.Start()
	a.cells++
	user := fmt.Sprintf("opconform-cell-%d", a.cells)
	cfg, err := a.cp.UserConfig(user, UsersGroup)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("the client's user: %w", err)
	}
	if err := a.waitAvailable(ctx, cfg); err != nil {
		srv.Close()
		return nil, fmt.Errorf("the operator's APIService: %w", err)
	}
	journalOf := func(user string) []contract.Entry {
		var out []contract.Entry
		for _, e := range srv.Journal().Entries() {
			if e.RemoteUser == user {
				out = append(out, e)
			}
		}
		return out
	}
	ep := &Endpoint{
		Config: cfg,
		User:   user,
		// the aggregator's own availability checks are not the client's requests
		Journal:    func() []contract.Entry { return journalOf(user) },
		JournalOf:  journalOf,
		Dropped:    srv.Journal().Dropped,
		SetIssuing: func(_ context.Context, as fakeoperator.Issuing) error { return srv.SetIssuing(as) },
		Authority:  srv.Authority(), LicenseFingerprint: srv.License().Fingerprint, Close: srv.Close,
	}
	return ep, nil
}

// waitAvailable waits for the APIService's Available condition and a discovery answer
// through kube-apiserver with the user's credentials.
func (a *APIServer) waitAvailable(ctx context.Context, user *rest.Config) error {
	ag, err := aggregator.NewForConfig(a.cp.Admin)
	if err != nil {
		return fmt.Errorf("the aggregator client: %w", err)
	}
	hc, err := rest.HTTPClientFor(user)
	if err != nil {
		return fmt.Errorf("the user's HTTP client: %w", err)
	}
	var why string
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, a.cp.timeouts.APIService.Duration, true, func(ctx context.Context) (bool, error) {
		svc, err := ag.ApiregistrationV1().APIServices().Get(ctx, apiServiceName, metav1.GetOptions{})
		if err != nil {
			why = err.Error()
			return false, nil
		}
		for _, c := range svc.Status.Conditions {
			if c.Type == apiregv1.Available && c.Status != apiregv1.ConditionTrue {
				why = fmt.Sprintf("APIService %s not Available yet: %s: %s", apiServiceName, c.Reason, c.Message)
				return false, nil
			}
		}
		if err := discoveryAnswers(ctx, hc, a.cp.URL, a.cp.timeouts.Probe.Duration); err != nil {
			why = err.Error()
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("tier apiserver: waiting %s for the operator: %s", a.cp.timeouts.APIService.Duration, why)
	}
	return nil
}

// OperatorCA returns the PEM of the CA of the operator's serving certificate.
func (a *APIServer) OperatorCA() []byte { return a.caPEM }

// OperatorAddr is where the operator listens (the Service's clusterIP and port).
func (a *APIServer) OperatorAddr() string { return a.handoff.l.Addr().String() }

// UserConfig returns a configuration for another user of the control plane (e.g. one
// without RBAC).
func (a *APIServer) UserConfig(user string) (*rest.Config, error) { return a.cp.UserConfig(user) }

// TokenUserConfig returns a configuration for a user that authenticates with a bearer
// token, as most users of real clusters do: a service account in the default namespace,
// given the operator's user RBAC, and a token for it from the TokenRequest API.
func (a *APIServer) TokenUserConfig(ctx context.Context, name string) (*rest.Config, error) {
	cs, err := a.cp.Clientset()
	if err != nil {
		return nil, fmt.Errorf("the admin client: %w", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
	_, err = cs.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{})
	if err := created("service account default/"+name, err); err != nil {
		return nil, err
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "opconform-mirrord-user-" + name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: userRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: "default"}},
	}
	_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{})
	if err := created("clusterrolebinding "+binding.Name, err); err != nil {
		return nil, err
	}
	expiry := int64(time.Hour / time.Second)
	tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("requesting a token for service account default/%s: %w", name, err)
	}
	return &rest.Config{Host: a.cp.URL, BearerToken: tr.Status.Token, TLSClientConfig: rest.TLSClientConfig{CAData: a.cp.Admin.CAData}, Timeout: a.cp.timeouts.Request.Duration}, nil
}

// ControlPlane returns the tier's control plane.
func (a *APIServer) ControlPlane() *ControlPlane { return a.cp }

// Stop stops the control plane and the operator's listener.
func (a *APIServer) Stop() {
	if a.handoff != nil {
		_ = a.handoff.Close()
	}
	a.cp.Stop()
}

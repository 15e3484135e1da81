package fakeoperator

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestZeroOptionsGiveCurrentOperator(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	g.Expect(s.URL).To(HavePrefix("https://127.0.0.1:"))
	g.Expect(s.Profile().Name).To(Equal(ProfileCurrent))
	g.Expect(s.Version().String()).To(Equal(DefaultOperatorVersion))
	g.Expect(s.CAPEM()).To(ContainSubstring("BEGIN CERTIFICATE"))

	code, body, _ := do(t, s, request{path: operatorPath})
	g.Expect(code).To(Equal(http.StatusOK))
	var obj struct {
		Kind string `json:"kind"`
		Spec struct {
			OperatorVersion   string   `json:"operator_version"`
			ProtocolVersion   string   `json:"protocol_version"`
			DefaultNamespace  string   `json:"default_namespace"`
			SupportedFeatures []string `json:"supported_features"`
			License           struct {
				Name, Organization, Fingerprint string
				ExpireAt                        string `json:"expire_at"`
				SubscriptionID                  string `json:"subscription_id"`
			} `json:"license"`
		} `json:"spec"`
		Status *struct {
			Sessions []any `json:"sessions"`
		} `json:"status"`
	}
	g.Expect(json.Unmarshal(body, &obj)).To(Succeed())
	g.Expect(obj.Kind).To(Equal("MirrordOperator"))
	g.Expect(obj.Spec.OperatorVersion).To(Equal("3.250.0"))
	g.Expect(obj.Spec.DefaultNamespace).To(Equal("default"))
	g.Expect(obj.Spec.SupportedFeatures).To(ContainElements("ProxyApi", "ExtendableUserCredentials", "ConnectParamsInHeader", "DiagnosticPing"))
	g.Expect(obj.Spec.License.ExpireAt).To(MatchRegexp(`^\d{4}-\d{2}-\d{2}$`))
	g.Expect(obj.Spec.License.Fingerprint).NotTo(BeEmpty())
	g.Expect(obj.Spec.License.SubscriptionID).NotTo(BeEmpty())
	g.Expect(obj.Status).NotTo(BeNil(), "status present")
	g.Expect(obj.Status.Sessions).NotTo(BeNil(), "status.sessions is an array, never null")
}

func TestBadOptionsAreNamed(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{name: "version", opts: Options{OperatorVersion: "v3.1"}, want: "OperatorVersion"},
		{name: "profile", opts: Options{Profile: "nope"}, want: `unknown operator profile "nope"`},
		{name: "min client", opts: Options{MinClientVersion: "latest"}, want: "MinClientVersion"},
		{name: "fault class", opts: Options{Faults: []Fault{{Class: "bogus"}}}, want: "Faults[0].Class"},
		{name: "fault status", opts: Options{Faults: []Fault{{Status: 42}}}, want: "Faults[0].Status"},
		{name: "front proxy", opts: Options{FrontProxy: &FrontProxy{ClientCA: []byte("x")}}, want: "FrontProxy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewServer(tc.opts)
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(tc.want)))
		})
	}
}

func TestManyServersInOneProcess(t *testing.T) {
	g := NewWithT(t)
	var wg sync.WaitGroup
	servers := make([]*Server, 8)
	for i := range servers {
		wg.Go(func() { servers[i] = newTestServer(t, Options{}) })
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, s := range servers {
		g.Expect(seen[s.URL]).To(BeFalse(), "each server has its own port")
		seen[s.URL] = true
		code, _, _ := do(t, s, request{path: operatorPath})
		g.Expect(code).To(Equal(http.StatusOK))
		g.Expect(s.Journal().Entries()).To(HaveLen(1), "journals are per server")
	}
	servers[0].Close()
	servers[0].Close() // idempotent
	code, _, _ := do(t, servers[1], request{path: operatorPath})
	g.Expect(code).To(Equal(http.StatusOK), "closing one leaves the others serving")
}

func TestUnknownPathIsNotFoundStatus(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	for _, path := range []string{"/nope", "/apis/operator.metalbear.co/v1/widgets", "/apis/operator.metalbear.co/v1/mirrordoperators/other"} {
		code, _, st := do(t, s, request{path: path})
		g.Expect(code).To(Equal(http.StatusNotFound), path)
		g.Expect(st.Reason).To(Equal(metav1.StatusReasonNotFound), path)
	}
}

func TestClientGoDiscoveryAndClients(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	cfg := s.RESTConfig()
	ctx := context.Background()

	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	_, lists, err := dc.ServerGroupsAndResources()
	g.Expect(err).NotTo(HaveOccurred(), "client-go discovery")
	names := map[string]bool{}
	for _, l := range lists {
		for _, r := range l.APIResources {
			names[l.GroupVersion+"/"+r.Name] = true
		}
	}
	for _, want := range []string{"v1/pods", "v1/namespaces", "apps/v1/deployments",
		"operator.metalbear.co/v1/mirrordoperators", "operator.metalbear.co/v1/mirrordclusteroperatorusercredentials",
		"operator.metalbear.co/v1/targets", "operator.metalbear.co/v1/copytargets", "operator.metalbear.co/v1/sessions"} {
		g.Expect(names).To(HaveKey(want), "discovery lists %s", want)
	}
	sv, err := dc.ServerVersion()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sv.GitVersion).To(HavePrefix("v1.37"))

	cs, err := kubernetes.NewForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	g.Expect(err).NotTo(HaveOccurred(), "listing pods")
	g.Expect(pods.Items).To(HaveLen(1))
	dep, err := cs.AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
	g.Expect(err).NotTo(HaveOccurred(), "getting deployment")
	g.Expect(dep.Spec.Template.Spec.Containers[0].Name).To(Equal("nginx"))
	_, err = cs.CoreV1().Namespaces().Get(ctx, "missing", metav1.GetOptions{})
	g.Expect(err).To(MatchError(ContainSubstring("not found")))

	dyn, err := dynamic.NewForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	gv := schema.GroupVersion{Group: "operator.metalbear.co", Version: "v1"}
	op, err := dyn.Resource(gv.WithResource("mirrordoperators")).Get(ctx, "operator", metav1.GetOptions{})
	g.Expect(err).NotTo(HaveOccurred(), "dynamic get of the operator")
	v, _, _ := unstructured.NestedString(op.Object, "spec", "operator_version")
	g.Expect(v).To(Equal("3.250.0"))
	targets, err := dyn.Resource(gv.WithResource("targets")).Namespace("default").List(ctx, metav1.ListOptions{})
	g.Expect(err).NotTo(HaveOccurred(), "dynamic list of targets")
	g.Expect(targets.Items).NotTo(BeEmpty())
	everywhere, err := dyn.Resource(gv.WithResource("targets")).List(ctx, metav1.ListOptions{})
	g.Expect(err).NotTo(HaveOccurred(), "dynamic list of targets in every namespace (kubectl get targets -A)")
	g.Expect(everywhere.Items).To(HaveLen(len(targets.Items)), "the inventory's targets are all in default")
	g.Expect(everywhere.Items[0].GetNamespace()).To(Equal("default"), "each target names its namespace")

	classes := map[string]int{}
	for _, e := range s.Journal().Entries() {
		classes[string(e.Class)]++
	}
	g.Expect(classes).To(HaveKey("core-read"), "core reads are journalled")
	g.Expect(classes).To(HaveKey("discovery"))
	g.Expect(classes).To(HaveKey("operator-get"))
}

// TestOperatorObjectPerVersion: the operator object holds the fields of its version's types
// (read tag by tag in mirrord/operator/src/crd.rs): no features before 3.51.1, the deprecated
// two only before 3.114.0, and from it supported_features beside them, as
// MirrordOperatorSpec::new fills them.
func TestOperatorObjectPerVersion(t *testing.T) {
	for _, tc := range []struct {
		version, profile string
		has, hasNot      []string
		features         string
		extendable       bool
	}{
		{"3.40.0", ProfileAncient, []string{"operator_version", "default_namespace", "license"}, []string{"features", "supported_features", "copy_target_enabled", "protocol_version"}, "", false},
		{"3.46.0", ProfileLegacy, []string{"license"}, []string{"features", "supported_features"}, "", false},
		{"3.100.0", ProfileLegacy, []string{"features", "copy_target_enabled", "protocol_version"}, []string{"supported_features", "operator_namespace"}, `["ProxyApi"]`, false},
		{"3.109.0", ProfileCurrent, []string{"features", "copy_target_enabled"}, []string{"supported_features"}, `["ProxyApi"]`, false},
		{"3.164.0", ProfileCurrent, []string{"features", "copy_target_enabled", "supported_features"}, []string{"operator_namespace"}, `["ProxyApi"]`, true},
		{"3.250.0", ProfileCurrent, []string{"features", "copy_target_enabled", "supported_features", "operator_namespace"}, nil, `["ProxyApi"]`, true},
		{"4.0.0-rc.1", ProfileCurrent, []string{"supported_features"}, nil, `["ProxyApi"]`, true},
	} {
		t.Run(tc.version, func(t *testing.T) {
			g := NewWithT(t)
			s := newTestServer(t, Options{OperatorVersion: tc.version})
			g.Expect(s.Profile().Name).To(Equal(tc.profile))
			_, body, _ := do(t, s, request{path: operatorPath})
			var obj struct {
				Spec map[string]json.RawMessage `json:"spec"`
			}
			g.Expect(json.Unmarshal(body, &obj)).To(Succeed())
			for _, k := range tc.has {
				g.Expect(obj.Spec).To(HaveKey(k))
			}
			for _, k := range tc.hasNot {
				g.Expect(obj.Spec).NotTo(HaveKey(k))
			}
			if tc.features != "" {
				g.Expect(string(obj.Spec["features"])).To(Equal(tc.features), "the deprecated features may hold only ProxyApi")
			}
			g.Expect(string(obj.Spec["supported_features"])).To(map[bool]OmegaMatcher{true: ContainSubstring("ExtendableUserCredentials"), false: Not(ContainSubstring("ExtendableUserCredentials"))}[tc.extendable])
		})
	}
}

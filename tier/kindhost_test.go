package tier

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	kinderrors "sigs.k8s.io/kind/pkg/errors"
	kindexec "sigs.k8s.io/kind/pkg/exec"
)

func TestKindConfigSetsWhatTheMachineNeeds(t *testing.T) {
	g := NewWithT(t)
	plain := kindConfig("kindest/node:v1.37.0@sha256:x", false, Host{SysResource: true})
	g.Expect(plain.Nodes).To(ConsistOf(v1alpha4.Node{Role: v1alpha4.ControlPlaneRole, Image: "kindest/node:v1.37.0@sha256:x"}))
	g.Expect(plain.Networking.APIServerAddress).To(Equal("127.0.0.1"), "the API server on loopback")
	g.Expect(plain.Networking.DisableDefaultCNI).To(BeFalse(), "kindest/node brings kindnetd")
	g.Expect(plain.KubeadmConfigPatches).To(BeEmpty(), "a normal machine gets kind's defaults")
	g.Expect(plain.ContainerdConfigPatches).To(ConsistOf(ContainSubstring(`stats_collect_period = "10s"`)), "on every machine: containerd's stats every ten seconds")
	g.Expect(plain.KubeadmConfigPatchesJSON6902).To(ConsistOf(HaveField("Patch", And(
		ContainSubstring("enable-aggregator-routing"), ContainSubstring("path: /encryptionAlgorithm\n  value: ECDSA-P256")))),
		"on every machine: aggregator routing, and ECDSA keys")

	here := kindConfig(BuiltNodeImage("v1.37.0"), true, Host{CgroupV1: true})
	g.Expect(here.Networking.DisableDefaultCNI).To(BeTrue(), "the built node carries its own pod network")
	g.Expect(here.KubeadmConfigPatches).To(ConsistOf(ContainSubstring("failCgroupV1: false")))
	g.Expect(here.ContainerdConfigPatches).To(ConsistOf(ContainSubstring(`stats_collect_period = "10s"`), ContainSubstring("restrict_oom_score_adj = true")))
}

func TestHostFactsReadThisMachine(t *testing.T) {
	g := NewWithT(t)
	h := HostFacts()
	out, err := exec.Command("sh", "-c", "awk '/^CapBnd:/ {print $2}' /proc/self/status").Output()
	g.Expect(err).NotTo(HaveOccurred())
	mask, err := strconv.ParseUint(strings.TrimSpace(string(out)), 16, 64)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(h.SysResource).To(Equal(mask&(1<<24) != 0), "CAP_SYS_RESOURCE is bit 24 of CapBnd %x", mask)
	fsType, err := exec.Command("stat", "-fc", "%T", "/sys/fs/cgroup").Output()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(h.CgroupV1).To(Equal(strings.TrimSpace(string(fsType)) != "cgroup2fs"), "stat says %s", fsType)
	t.Logf("this machine: %+v", h)
}

func TestCommandTailShowsWhatFailed(t *testing.T) {
	g := NewWithT(t)
	var out strings.Builder
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&out, "kubeadm line %d\n", i)
	}
	err := kinderrors.Wrap(&kindexec.RunError{Command: []string{"kubeadm", "init"}, Output: []byte(out.String()), Inner: errors.New("exit status 1")}, "failed to init node with kubeadm")
	tail := commandTail(err, 3)
	g.Expect(tail).To(Equal("kubeadm line 38\nkubeadm line 39\nkubeadm line 40"))
	g.Expect(commandTail(errors.New("no command behind it"), 3)).To(BeEmpty())
}

func TestKeptClusterSaysHowToReachIt(t *testing.T) {
	k := &KindTier{Name: "opconform-1-37-0", Kubeconfig: "/tmp/k/kubeconfig", keep: true, serving: "0123456789"}
	msg, err := k.Stop()
	g := NewWithT(t)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(msg).To(Equal("KEEP_CLUSTER=1: kept kind cluster opconform-1-37-0 and its operators, one per configuration (the next run with KEEP_CLUSTER=1 reuses them); " +
		"reach it with: kubectl --kubeconfig /tmp/k/kubeconfig get apiservice v1.operator.metalbear.co (the operators: kubectl --kubeconfig /tmp/k/kubeconfig -n mirrord " +
		"get deployments -L opconform.dev/operator; the one serving last: kubectl --kubeconfig /tmp/k/kubeconfig -n mirrord logs deploy/mirrord-operator-0123456789); " +
		"delete every cluster and network the project made with: make kind-down"))
	k.serving = ""
	msg, _ = k.Stop()
	g.Expect(msg).NotTo(ContainSubstring("serving last"), "no fake operator served: none to name")
}

func TestAPIServiceAvailable(t *testing.T) {
	g := NewWithT(t)
	svc := &apiregv1.APIService{ObjectMeta: metav1.ObjectMeta{Name: "v1.operator.metalbear.co"}}
	ok, why := apiServiceAvailable(svc)
	g.Expect(ok).To(BeFalse())
	g.Expect(why).To(Equal("APIService v1.operator.metalbear.co has no Available condition yet"))
	svc.Status.Conditions = []apiregv1.APIServiceCondition{{Type: apiregv1.Available, Status: apiregv1.ConditionFalse, Message: "failing or missing response"}}
	ok, why = apiServiceAvailable(svc)
	g.Expect(ok).To(BeFalse())
	g.Expect(why).To(Equal("APIService v1.operator.metalbear.co not Available yet: failing or missing response"))
	svc.Status.Conditions[0].Status = apiregv1.ConditionTrue
	ok, _ = apiServiceAvailable(svc)
	g.Expect(ok).To(BeTrue())
}

// TestWorkloadImageIsTheNodesPauseImage: the workloads run an image every node has
// preloaded, never pulled; the node image builder preloads PAUSE_IMAGE.
func TestWorkloadImageIsTheNodesPauseImage(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile("../scripts/lib/versions.sh")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(data)).To(ContainSubstring(`PAUSE_IMAGE="` + WorkloadImage + `"`))
}

// TestAKeptClusterIsReusedOnlyWithTheSameConfiguration: a cluster records the digest of the
// kind configuration it was made with; a later run with the same configuration finds it the
// same, one with another (another machine's needs, a change here) or a cluster with no
// record is told why it is made anew.
func TestAKeptClusterIsReusedOnlyWithTheSameConfiguration(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	here := configDigest(kindConfig(BuiltNodeImage("v1.37.0"), true, Host{CgroupV1: true}))
	g.Expect(configDigest(kindConfig(BuiltNodeImage("v1.37.0"), true, Host{CgroupV1: true}))).To(Equal(here), "the same configuration, the same digest")
	elsewhere := configDigest(kindConfig(BuiltNodeImage("v1.37.0"), true, Host{CgroupV1: true, SysResource: true}))
	g.Expect(elsewhere).NotTo(Equal(here))

	cs := fake.NewClientset()
	k := &KindTier{Name: "opconform-1-37-0", config: here}
	g.Expect(k.configDiffers(ctx, cs)).To(ContainSubstring("it has no record of its kind configuration (kube-system/opconform-kind)"))
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: configMapName, Namespace: metav1.NamespaceSystem}, Data: map[string]string{configMapKey: here}}
	_, err := cs.CoreV1().ConfigMaps(metav1.NamespaceSystem).Create(ctx, cm, metav1.CreateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k.configDiffers(ctx, cs)).To(BeEmpty())
	other := &KindTier{Name: "opconform-1-37-0", config: elsewhere}
	g.Expect(other.configDiffers(ctx, cs)).To(Equal("it was made with another kind configuration (digest " + here + ", this run's " + elsewhere + ")"))
}

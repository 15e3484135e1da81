package tier

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/opconform/opconform/matrix"
)

// TestSlottedNamesOneOperatorOfMany: a kept operator's Deployment, Service and TLS secret
// are its own, its Service selects its pods alone, and the APIService points at its Service;
// the objects the operators share keep deploy/'s names.
func TestSlottedNamesOneOperatorOfMany(t *testing.T) {
	g := NewWithT(t)
	files, err := filepath.Glob(filepath.Join("..", "deploy", "*.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	objs, err := readManifests(files)
	g.Expect(err).NotTo(HaveOccurred())
	objs = append(objs, secret(deployTLSSecret, corev1.SecretTypeTLS, nil), secret(deployLicense, corev1.SecretTypeOpaque, nil))
	g.Expect(slotted(objs, "0123456789", map[string]string{generationLabel: "g1"})).To(Succeed())

	byKind := map[string][]*unstructured.Unstructured{}
	for _, o := range objs {
		byKind[o.GetKind()] = append(byKind[o.GetKind()], o)
	}
	slot := map[string]string{"app": deployName, SlotLabel: "0123456789"}
	d := byKind["Deployment"][0]
	g.Expect(d.GetName()).To(Equal("mirrord-operator-0123456789"))
	g.Expect(d.GetLabels()).To(HaveKeyWithValue(generationLabel, "g1"))
	g.Expect(stringMap(d, "spec", "selector", "matchLabels")).To(Equal(slot))
	g.Expect(stringMap(d, "spec", "template", "metadata", "labels")).To(Equal(slot))
	volumes, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	var secrets []string
	for _, v := range volumes {
		if name, ok, _ := unstructured.NestedString(v.(map[string]any), "secret", "secretName"); ok {
			secrets = append(secrets, name)
		}
	}
	g.Expect(secrets).To(ConsistOf("mirrord-operator-0123456789-tls", deployLicense), "its own TLS secret, the shared licence")
	svc := byKind["Service"][0]
	g.Expect(svc.GetName()).To(Equal("mirrord-operator-0123456789"))
	g.Expect(stringMap(svc, "spec", "selector")).To(Equal(slot), "the Service selects the slot's pods alone")
	g.Expect(byKind["APIService"][0].Object["spec"].(map[string]any)["service"].(map[string]any)["name"]).To(Equal("mirrord-operator-0123456789"))
	var secretNames []string
	for _, s := range byKind["Secret"] {
		secretNames = append(secretNames, s.GetName())
	}
	g.Expect(secretNames).To(ConsistOf("mirrord-operator-0123456789-tls", deployLicense))
	g.Expect(byKind["ServiceAccount"][0].GetName()).To(Equal(deployName), "shared by every operator")
}

// stringMap is the map of strings at fields of obj.
func stringMap(obj *unstructured.Unstructured, fields ...string) map[string]string {
	m, _, _ := unstructured.NestedStringMap(obj.Object, fields...)
	return m
}

// keptOperator is a kept operator's three objects as a cluster holds them.
func keptOperator(name string, labels map[string]string) []runtime.Object {
	meta := metav1.ObjectMeta{Name: name, Namespace: deployNamespace, Labels: labels}
	tls := meta
	tls.Name = name + "-tls"
	return []runtime.Object{&appsv1.Deployment{ObjectMeta: meta}, &corev1.Service{ObjectMeta: meta}, &corev1.Secret{ObjectMeta: tls}}
}

// names lists the Deployments, Services and Secrets left in the operators' namespace.
func names(t *testing.T, cs *fake.Clientset) (deployments, services, secrets []string) {
	ctx := context.Background()
	d, err := cs.AppsV1().Deployments(deployNamespace).List(ctx, metav1.ListOptions{})
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	for _, o := range d.Items {
		deployments = append(deployments, o.Name)
	}
	s, _ := cs.CoreV1().Services(deployNamespace).List(ctx, metav1.ListOptions{})
	for _, o := range s.Items {
		services = append(services, o.Name)
	}
	sec, _ := cs.CoreV1().Secrets(deployNamespace).List(ctx, metav1.ListOptions{})
	for _, o := range sec.Items {
		secrets = append(secrets, o.Name)
	}
	return deployments, services, secrets
}

// TestCollectDeletesOperatorsOfAnotherGeneration: operators kept from another operator image
// or licence go, with their Services and TLS secrets, and so does one deployed under
// deploy/'s own names; this generation's stay, and so does what the operators share.
func TestCollectDeletesOperatorsOfAnotherGeneration(t *testing.T) {
	g := NewWithT(t)
	var objs []runtime.Object
	objs = append(objs, keptOperator("mirrord-operator-aaaa", map[string]string{"app": deployName, SlotLabel: "aaaa", generationLabel: "new"})...)
	objs = append(objs, keptOperator("mirrord-operator-bbbb", map[string]string{"app": deployName, SlotLabel: "bbbb", generationLabel: "old"})...)
	objs = append(objs, keptOperator(deployName, map[string]string{"app": deployName})...)
	// a Deployment whose Service and TLS secret are gone already: no error
	objs = append(objs, keptOperator("mirrord-operator-cccc", map[string]string{"app": deployName, SlotLabel: "cccc", generationLabel: "old"})[0])
	objs = append(objs, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: deployLicense, Namespace: deployNamespace}})
	cs := fake.NewClientset(objs...)
	var out strings.Builder
	k := &KindTier{Name: "opconform-1-37-0", generation: "new", progress: &out}
	g.Expect(k.collect(context.Background(), cs)).To(Succeed())
	d, s, sec := names(t, cs)
	g.Expect(d).To(ConsistOf("mirrord-operator-aaaa"))
	g.Expect(s).To(ConsistOf("mirrord-operator-aaaa"))
	g.Expect(sec).To(ConsistOf("mirrord-operator-aaaa-tls", deployLicense))
	g.Expect(out.String()).To(ContainSubstring("deleted 3 operators kept from another operator image or licence"))
}

// TestEvictKeepsTheMostRecentlyUsed: at keptOperators, one more evicts the one used longest
// ago; room for one more with one free evicts nothing, and room for three then evicts the
// next two.
func TestEvictKeepsTheMostRecentlyUsed(t *testing.T) {
	g := NewWithT(t)
	var objs []runtime.Object
	for i := range keptOperators {
		slot := "s" + strconv.Itoa(i)
		used := strconv.Itoa(1000 + (i*7)%keptOperators) // s0 is the oldest: used at 1000
		objs = append(objs, keptOperator(SlotName(slot), map[string]string{"app": deployName, SlotLabel: slot, usedLabel: used})...)
	}
	cs := fake.NewClientset(objs...)
	k := &KindTier{Name: "opconform-1-37-0", progress: io.Discard}
	g.Expect(k.evict(context.Background(), cs, 1)).To(Succeed())
	d, s, _ := names(t, cs)
	g.Expect(d).To(HaveLen(keptOperators - 1))
	g.Expect(d).NotTo(ContainElement(SlotName("s0")), "the least recently used went")
	g.Expect(s).NotTo(ContainElement(SlotName("s0")))
	g.Expect(k.evict(context.Background(), cs, 1)).To(Succeed())
	d, _, _ = names(t, cs)
	g.Expect(d).To(HaveLen(keptOperators-1), "room for one more: nothing evicted")
	g.Expect(k.evict(context.Background(), cs, 3)).To(Succeed())
	d, _, _ = names(t, cs)
	g.Expect(d).To(HaveLen(keptOperators-3), "room for three more: two more evicted")
	for _, gone := range []string{"s0", "s7", "s14"} { // used at 1000, 1001, 1002 (i*7 mod 24)
		g.Expect(d).NotTo(ContainElement(SlotName(gone)), "the least recently used went")
	}
	g.Expect(d).To(ContainElement(SlotName("s21")), "used at 1003: kept")
}

// TestFreshReadsWhatIsKeptOnce: of a run's operators, one entry a cell, those the cluster
// keeps (of this generation) are left out and each other one is named once, after a single
// list of the cluster's operators, however many cells name them.
func TestFreshReadsWhatIsKeptOnce(t *testing.T) {
	g := NewWithT(t)
	k := &KindTier{Name: "opconform-1-37-0", imageID: "sha256:i", generation: "new", progress: io.Discard}
	keptArgs, oldArgs, newArgs := []string{"--a"}, []string{"--b"}, []string{"--c"}
	var objs []runtime.Object
	objs = append(objs, keptOperator(SlotName(k.slotFor(keptArgs)), map[string]string{"app": deployName, SlotLabel: k.slotFor(keptArgs), generationLabel: "new"})...)
	objs = append(objs, keptOperator(SlotName(k.slotFor(oldArgs)), map[string]string{"app": deployName, SlotLabel: k.slotFor(oldArgs), generationLabel: "old"})...)
	cs := fake.NewClientset(objs...)
	var operators [][]string
	for range 30 {
		operators = append(operators, keptArgs, oldArgs, newArgs)
	}
	fresh, err := k.fresh(context.Background(), cs, operators)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fresh).To(Equal(map[string][]string{k.slotFor(oldArgs): oldArgs, k.slotFor(newArgs): newArgs}),
		"the kept one left out; the one of another generation deployed anew")
	g.Expect(cs.Actions()).To(HaveLen(1), "one list, not a read per cell")
	g.Expect(cs.Actions()[0].GetVerb()).To(Equal("list"))
}

// TestGenerationCountsTheManifests: the same image and manifests give the same generation; a
// changed manifest, or another image, gives another (its kept operators are then stale); a
// manifest that cannot be read is an error naming it.
func TestGenerationCountsTheManifests(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	g.Expect(os.WriteFile(a, []byte("kind: Deployment\n"), 0o600)).To(Succeed())
	g.Expect(os.WriteFile(b, []byte("kind: Service\n"), 0o600)).To(Succeed())
	first, err := generationOf("sha256:i", []string{a, b})
	g.Expect(err).NotTo(HaveOccurred())
	again, err := generationOf("sha256:i", []string{a, b})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again).To(Equal(first))
	otherImage, err := generationOf("sha256:j", []string{a, b})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(otherImage).NotTo(Equal(first))
	g.Expect(os.WriteFile(b, []byte("kind: Service\nspec: {}\n"), 0o600)).To(Succeed())
	changed, err := generationOf("sha256:i", []string{a, b})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changed).NotTo(Equal(first), "a changed manifest makes the kept operators stale")
	_, err = generationOf("sha256:i", []string{filepath.Join(dir, "gone.yaml")})
	g.Expect(err).To(MatchError(ContainSubstring("gone.yaml")))
}

// TestAFailingKeptOperatorIsReplaced: a kept operator an earlier run left that is not
// available is deleted (serve then deploys it anew) and said so; an available one, and one
// this run deployed when the cluster was ready that is still starting, are left as they are.
func TestAFailingKeptOperatorIsReplaced(t *testing.T) {
	g := NewWithT(t)
	labels := func(slot string) map[string]string {
		return map[string]string{"app": deployName, SlotLabel: slot, generationLabel: "new"}
	}
	var objs []runtime.Object
	for _, slot := range []string{"failing", "starting", "fine"} {
		objs = append(objs, keptOperator(SlotName(slot), labels(slot))...)
	}
	cs := fake.NewClientset(objs...)
	var out strings.Builder
	k := &KindTier{Name: "opconform-1-37-0", generation: "new", progress: &out, predeployed: map[string]bool{"starting": true}}
	cell := matrix.Cell{Operator: matrix.Operator{Name: "current-3.250.0"}}
	ctx := context.Background()
	unavailable := appsv1.DeploymentStatus{Replicas: 1, UnavailableReplicas: 1}
	available := appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1}
	for slot, status := range map[string]appsv1.DeploymentStatus{"starting": unavailable, "fine": available} {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: SlotName(slot), Labels: labels(slot)}, Status: status}
		got, err := k.replaceFailing(ctx, cs, cell, d)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(BeIdenticalTo(d), slot)
	}
	failing := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: SlotName("failing"), Labels: labels("failing")}, Status: unavailable}
	got, err := k.replaceFailing(ctx, cs, cell, failing)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(BeNil(), "deployed anew by serve")
	d, s, sec := names(t, cs)
	g.Expect(d).To(ConsistOf(SlotName("starting"), SlotName("fine")))
	g.Expect(s).To(ConsistOf(SlotName("starting"), SlotName("fine")))
	g.Expect(sec).To(ConsistOf(SlotName("starting")+"-tls", SlotName("fine")+"-tls"))
	g.Expect(out.String()).To(ContainSubstring("operator current-3.250.0: the one kept, mirrord-operator-failing, is not available (0 of 1 pods available, 1 unavailable): deploying it anew"))
	got, err = k.replaceFailing(ctx, cs, cell, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(BeNil())
}

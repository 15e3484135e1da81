package tier

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/pki"
)

// DeployInput is how DeployOperator installs the fake operator.
type DeployInput struct {
	// Manifests are deploy/'s files.
	Manifests []string
	// Image replaces the operator container's image.
	Image string
	// Args are appended to the container's arguments (the cell's operator flags).
	Args []string
	// LicenseKeyPEM is the licence CA key the operator signs and checks with.
	LicenseKeyPEM []byte
	// Wait, when non-zero, bounds the wait for the Deployment and the APIService.
	Wait time.Duration
	// Probe bounds each discovery request of that wait; needed with Wait.
	Probe time.Duration
	// ServingCA signs the operator's serving certificate; nil makes a new one. A harness that
	// deploys into one cluster again and again gives one CA, so that a deploy that changes
	// nothing of the pod changes nothing of its secrets either.
	ServingCA *pki.CA
	// Slot, when set, deploys the operator beside others that the cluster keeps, one per
	// operator configuration: its Deployment, Service and TLS secret are named
	// mirrord-operator-SLOT (SlotName), its pods are labelled SlotLabel=SLOT, it runs with
	// --instance=SLOT, and the APIService is pointed at its Service. Labels are put on those
	// three objects. Empty: deploy/'s names, as they are.
	Slot   string
	Labels map[string]string
}

// SlotLabel labels a kept operator's objects and pods with its slot (DeployInput.Slot).
const SlotLabel = "opconform.dev/operator"

// SlotName is the name of a kept operator's Deployment, Service and TLS secret.
func SlotName(slot string) string { return deployName + "-" + slot }

// Names deploy/ uses.
const (
	deployNamespace  = "mirrord"
	deployName       = "mirrord-operator"
	deployTLSSecret  = "mirrord-operator-tls"
	deployLicense    = "mirrord-operator-licence"
	deployFrontProxy = "extension-apiserver-authentication-copy"
)

// DeployOperator installs the fake operator into the cluster of cfg the way deploy/
// describes it: a TLS secret for its Service name, its licence key, a copy of the front-proxy
// CA from kube-system/extension-apiserver-authentication, then the manifests applied with
// the image and arguments of in; with in.Wait it waits, bounded, for the Deployment to be
// available and the APIService to be Available.
func DeployOperator(ctx context.Context, cfg *rest.Config, in DeployInput) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("the cluster's client: %w", err)
	}
	ca := in.ServingCA
	if ca == nil {
		if ca, err = pki.NewCA("mirrord-operator-ca"); err != nil {
			return fmt.Errorf("deploying: the serving CA: %w", err)
		}
	}
	name := deployName
	if in.Slot != "" {
		name = SlotName(in.Slot)
	}
	kp, err := ca.IssueServer(name, name+"."+deployNamespace+".svc", name+"."+deployNamespace+".svc.cluster.local")
	if err != nil {
		return fmt.Errorf("the operator's serving certificate: %w", err)
	}
	auth, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, "extension-apiserver-authentication", metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("deploying: reading the front-proxy CA: %w", err)
	}
	frontProxyCA := auth.Data["requestheader-client-ca-file"]
	if frontProxyCA == "" {
		return fmt.Errorf("deploying: kube-system/extension-apiserver-authentication has no requestheader-client-ca-file: the cluster has no front proxy")
	}
	objects := []*unstructured.Unstructured{
		{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": deployNamespace}}},
		secret(deployTLSSecret, corev1.SecretTypeTLS, map[string][]byte{"tls.crt": kp.CertPEM, "tls.key": kp.KeyPEM}),
		secret(deployLicense, corev1.SecretTypeOpaque, map[string][]byte{"licence.key": in.LicenseKeyPEM}),
		configMap(deployFrontProxy, map[string]string{"requestheader-client-ca-file": frontProxyCA}),
	}
	manifests, err := readManifests(in.Manifests)
	if err != nil {
		return fmt.Errorf("the manifests: %w", err)
	}
	objects = append(objects, manifests...)
	args := in.Args
	if in.Slot != "" {
		args = append(slices.Clip(args), "--instance="+in.Slot)
		if err := slotted(objects, in.Slot, in.Labels); err != nil {
			return fmt.Errorf("the manifests, for operator %s: %w", name, err)
		}
	}
	for _, obj := range objects {
		if obj.GetKind() == "Deployment" && obj.GetName() == name {
			if err := setContainer(obj, in.Image, args); err != nil {
				return fmt.Errorf("the operator's Deployment: %w", err)
			}
		}
	}
	if _, err := applyObjects(ctx, cfg, objects, false); err != nil {
		return fmt.Errorf("deploying: %w", err)
	}
	if in.Wait == 0 {
		return nil
	}
	if in.Probe <= 0 {
		return errors.New("deploying: DeployInput.Wait needs a Probe bound for each discovery request")
	}
	return waitDeployed(ctx, cfg, cs, name, in.Wait, in.Probe)
}

// PointAPIService points the operator's APIService (from manifests, deploy/'s files) at the
// Service of the kept operator of slot.
func PointAPIService(ctx context.Context, cfg *rest.Config, manifests []string, slot string) error {
	objs, err := readManifests(manifests)
	if err != nil {
		return fmt.Errorf("the manifests: %w", err)
	}
	objs = slices.DeleteFunc(objs, func(o *unstructured.Unstructured) bool { return o.GetKind() != "APIService" })
	if len(objs) == 0 {
		return fmt.Errorf("the manifests %v hold no APIService", manifests)
	}
	if err := slotted(objs, slot, nil); err != nil {
		return fmt.Errorf("the APIService, for operator %s: %w", SlotName(slot), err)
	}
	if _, err := applyObjects(ctx, cfg, objs, false); err != nil {
		return fmt.Errorf("pointing the APIService at operator %s: %w", SlotName(slot), err)
	}
	return nil
}

// slotted renames the operator's Deployment, Service and TLS secret in objs for slot, labels
// them with labels, selects the slot's pods alone, and points the APIService at the slot's
// Service.
func slotted(objs []*unstructured.Unstructured, slot string, labels map[string]string) error {
	name := SlotName(slot)
	label := func(obj *unstructured.Unstructured) {
		l := obj.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		maps.Copy(l, labels)
		l[SlotLabel] = slot
		obj.SetLabels(l)
	}
	for _, obj := range objs {
		var err error
		switch {
		case obj.GetKind() == "Deployment" && obj.GetName() == deployName:
			obj.SetName(name)
			label(obj)
			err = errors.Join(
				unstructured.SetNestedField(obj.Object, slot, "spec", "selector", "matchLabels", SlotLabel),
				unstructured.SetNestedField(obj.Object, slot, "spec", "template", "metadata", "labels", SlotLabel),
				renameSecretVolume(obj, deployTLSSecret, name+"-tls"))
		case obj.GetKind() == "Service" && obj.GetName() == deployName:
			obj.SetName(name)
			label(obj)
			err = unstructured.SetNestedField(obj.Object, slot, "spec", "selector", SlotLabel)
		case obj.GetKind() == "Secret" && obj.GetName() == deployTLSSecret:
			obj.SetName(name + "-tls")
			label(obj)
		case obj.GetKind() == "APIService" && obj.GetName() == apiServiceName:
			err = unstructured.SetNestedField(obj.Object, name, "spec", "service", "name")
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return nil
}

// renameSecretVolume makes the Deployment's volumes of secret from mount secret to instead.
func renameSecretVolume(obj *unstructured.Unstructured, from, to string) error {
	volumes, _, err := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "volumes")
	if err != nil {
		return err
	}
	for _, v := range volumes {
		if name, _, _ := unstructured.NestedString(v.(map[string]any), "secret", "secretName"); name == from {
			if err := unstructured.SetNestedField(v.(map[string]any), to, "secret", "secretName"); err != nil {
				return err
			}
		}
	}
	return unstructured.SetNestedSlice(obj.Object, volumes, "spec", "template", "spec", "volumes")
}

// fieldManager owns what the harness applies.
const fieldManager = "opconform"

func secret(name string, typ corev1.SecretType, data map[string][]byte) *unstructured.Unstructured {
	enc := map[string]any{}
	for k, v := range data {
		enc[k] = base64.StdEncoding.EncodeToString(v)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": string(typ),
		"metadata": map[string]any{"name": name, "namespace": deployNamespace}, "data": enc,
	}}
}

func configMap(name string, data map[string]string) *unstructured.Unstructured {
	d := map[string]any{}
	for k, v := range data {
		d[k] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": deployNamespace}, "data": d,
	}}
}

// setContainer sets the operator container's image and appends args.
func setContainer(obj *unstructured.Unstructured, image string, args []string) error {
	containers, _, err := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	if err != nil || len(containers) == 0 {
		return fmt.Errorf("deploying: Deployment %s has no containers: %v", obj.GetName(), err)
	}
	c := containers[0].(map[string]any)
	if image != "" {
		c["image"] = image
	}
	existing, _, _ := unstructured.NestedStringSlice(c, "args")
	all := make([]any, 0, len(existing)+len(args))
	for _, a := range append(existing, args...) {
		all = append(all, a)
	}
	c["args"] = all
	containers[0] = c
	return unstructured.SetNestedSlice(obj.Object, containers, "spec", "template", "spec", "containers")
}

// waitDeployed waits for the operator's Deployment to be available and its APIService to
// be Available, each discovery request bounded by probe.
func waitDeployed(ctx context.Context, cfg *rest.Config, cs *kubernetes.Clientset, name string, timeout, probe time.Duration) error {
	ag, err := aggregator.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("the aggregator client: %w", err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return fmt.Errorf("the HTTP client: %w", err)
	}
	var why string
	streak := 0
	start := time.Now()
	err = wait.PollUntilContextTimeout(ctx, deployPoll, timeout, true, func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments(deployNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			why = err.Error()
			return false, nil
		}
		if !deploymentAvailable(d) {
			why = fmt.Sprintf("Deployment %s/%s not available yet (%d/%d updated replicas ready)", deployNamespace, name, d.Status.UpdatedReplicas, d.Status.Replicas)
			return false, nil
		}
		svc, err := ag.ApiregistrationV1().APIServices().Get(ctx, apiServiceName, metav1.GetOptions{})
		if err != nil {
			why = err.Error()
			return false, nil
		}
		if available, not := apiServiceAvailable(svc); !available {
			why = not
			return false, nil
		}
		// Available is the aggregator's last check; the operator must also answer through
		// it, more than once (the aggregator routes to the Service's ready endpoints: the
		// kind tier turns on --enable-aggregator-routing).
		if err := discoveryAnswers(ctx, hc, cfg.Host, probe); err != nil {
			streak, why = 0, err.Error()
			return false, nil
		}
		streak++
		why = fmt.Sprintf("the operator answered through the aggregator %d times in a row of %d", streak, answersInARow)
		return streak >= answersInARow, nil
	})
	if err != nil {
		if ctx.Err() != nil { // the caller's bound came first (a cell's timeout)
			return fmt.Errorf("deploying: stopped after %s of the rollout's %s (%v): %s", time.Since(start).Round(time.Second), timeout, context.Cause(ctx), why)
		}
		return fmt.Errorf("deploying: waited %s: %s", timeout, why)
	}
	return nil
}

// apiServiceAvailable reports whether the APIService's Available condition is True, and
// when it is not, says why.
func apiServiceAvailable(svc *apiregv1.APIService) (bool, string) {
	why := fmt.Sprintf("APIService %s has no Available condition yet", svc.Name)
	for _, c := range svc.Status.Conditions {
		if c.Type != apiregv1.Available {
			continue
		}
		if c.Status == apiregv1.ConditionTrue {
			return true, ""
		}
		why = fmt.Sprintf("APIService %s not Available yet: %s", svc.Name, c.Message)
	}
	return false, why
}

// answersInARow is how many discovery requests in a row, deployPoll apart, the operator
// must answer through the aggregator before a rollout counts as done.
const (
	answersInARow = 2
	deployPoll    = 250 * time.Millisecond
)

// discoveryAnswers asks the operator's group version through kube-apiserver, bounded by
// wait.
func discoveryAnswers(ctx context.Context, hc *http.Client, host string, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, host+"/apis/"+contract.GroupVersion, nil)
	if err != nil {
		return fmt.Errorf("the discovery request: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("operator discovery through the aggregator: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("operator discovery through the aggregator: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == d.Status.Replicas && d.Status.AvailableReplicas >= 1 && d.Status.UnavailableReplicas == 0
}

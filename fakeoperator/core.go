package fakeoperator

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// serveCore answers the core reads (namespaces, pods, deployments: get and list) from the
// inventory. Here the server plays kube-apiserver, which ignores the operator's headers: it
// journals them but never enforces anything. A list applies its labelSelector and
// fieldSelector (metadata.name, metadata.namespace and a pod's status.phase: what `mirrord
// ls` selects by), and refuses a field it does not support, as kube-apiserver does.
func (s *Server) serveCore(c *call) {
	if c.r.Method != http.MethodGet {
		s.fail(c, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the fake API answers only get and list on %s", c.route.Resource)
		return
	}
	rt := c.route
	match, err := listSelector(c.query, rt.Resource)
	if err != nil {
		s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "%v", err)
		return
	}
	switch rt.Resource {
	case "namespaces":
		var items []corev1.Namespace
		for _, ns := range s.inventory.Namespaces {
			if rt.Name == "" || rt.Name == ns {
				items = append(items, corev1.Namespace{
					TypeMeta:   metav1.TypeMeta{Kind: "Namespace", APIVersion: "v1"},
					ObjectMeta: metav1.ObjectMeta{Name: ns, UID: uid("ns", ns)},
					Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceActive},
				})
			}
		}
		answerCore(s, c, items, func(items []corev1.Namespace) any {
			return &corev1.NamespaceList{TypeMeta: metav1.TypeMeta{Kind: "NamespaceList", APIVersion: "v1"}, Items: items}
		})
	case "pods":
		var items []corev1.Pod
		for _, w := range selectWorkloads(s.inventory.Pods, rt.Namespace, rt.Name) {
			if match(w, w.phase()) {
				items = append(items, pod(w))
			}
		}
		answerCore(s, c, items, func(items []corev1.Pod) any {
			return &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: items}
		})
	case "deployments":
		var items []appsv1.Deployment
		for _, w := range selectWorkloads(s.inventory.Deployments, rt.Namespace, rt.Name) {
			if match(w, "") {
				items = append(items, deployment(w))
			}
		}
		answerCore(s, c, items, func(items []appsv1.Deployment) any {
			return &appsv1.DeploymentList{TypeMeta: metav1.TypeMeta{Kind: "DeploymentList", APIVersion: "apps/v1"}, Items: items}
		})
	}
}

// answerCore writes one object for a get (404 when absent) or the list for a list.
func answerCore[T any](s *Server, c *call, items []T, list func([]T) any) {
	if c.route.Name == "" {
		if items == nil {
			items = []T{}
		}
		writeJSON(c.w, http.StatusOK, list(items))
		return
	}
	if len(items) == 0 {
		s.notFound(c, c.route.Resource+" \""+c.route.Name+"\"")
		return
	}
	writeJSON(c.w, http.StatusOK, items[0])
}

func selectWorkloads(all []Workload, namespace, name string) []Workload {
	var out []Workload
	for _, w := range all {
		if (namespace == "" || w.Namespace == namespace) && (name == "" || w.Name == name) {
			out = append(out, w)
		}
	}
	return out
}

func containers(w Workload) []corev1.Container {
	var out []corev1.Container
	for _, name := range w.Containers {
		out = append(out, corev1.Container{Name: name, Image: name + ":latest"})
	}
	return out
}

// pod is a pod of the inventory; a running one is Ready, with the conditions `mirrord ls`
// keeps a pod for (Ready=True).
func pod(w Workload) corev1.Pod {
	running := w.phase() == corev1.PodRunning
	var statuses []corev1.ContainerStatus
	for _, name := range w.Containers {
		statuses = append(statuses, corev1.ContainerStatus{Name: name, Ready: running, ContainerID: "containerd://" + string(uid("c", w.Namespace+"/"+w.Name+"/"+name))})
	}
	ready := corev1.ConditionFalse
	if running {
		ready = corev1.ConditionTrue
	}
	var conditions []corev1.PodCondition
	for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		status := ready
		if t == corev1.PodScheduled || t == corev1.PodInitialized {
			status = corev1.ConditionTrue
		}
		conditions = append(conditions, corev1.PodCondition{Type: t, Status: status})
	}
	return corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: w.Name, Namespace: w.Namespace, UID: uid("pod", w.Namespace+"/"+w.Name), Labels: w.labels()},
		Spec:       corev1.PodSpec{Containers: containers(w), NodeName: "opconform-node"},
		Status:     corev1.PodStatus{Phase: w.phase(), Conditions: conditions, ContainerStatuses: statuses},
	}
}

// listSelector parses a list's labelSelector and fieldSelector into a test of a workload
// (and, for pods, its phase).
func listSelector(q url.Values, resource string) (func(Workload, corev1.PodPhase) bool, error) {
	lsel, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		return nil, fmt.Errorf("labelSelector: %w", err)
	}
	fsel, err := fields.ParseSelector(q.Get("fieldSelector"))
	if err != nil {
		return nil, fmt.Errorf("fieldSelector: %w", err)
	}
	for _, r := range fsel.Requirements() {
		switch r.Field {
		case "metadata.name", "metadata.namespace":
		case "status.phase":
			if resource == "pods" {
				continue
			}
			fallthrough
		default:
			return nil, fmt.Errorf("fieldSelector: field label not supported: %s", r.Field)
		}
	}
	if limit := q.Get("limit"); limit != "" {
		if n, err := strconv.Atoi(limit); err != nil || n < 0 {
			return nil, fmt.Errorf("limit: %q is not a non-negative integer", limit)
		}
	}
	return func(w Workload, phase corev1.PodPhase) bool {
		set := fields.Set{"metadata.name": w.Name, "metadata.namespace": w.Namespace, "status.phase": string(phase)}
		return lsel.Matches(labels.Set(w.labels())) && fsel.Matches(set)
	}, nil
}

func deployment(w Workload) appsv1.Deployment {
	replicas := int32(1)
	labels := w.labels()
	return appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: w.Name, Namespace: w.Namespace, UID: uid("deploy", w.Namespace+"/"+w.Name), Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: containers(w)}},
		},
		Status: appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1},
	}
}

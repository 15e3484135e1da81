package fakeoperator

import (
	"net/http"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// serveCore answers the core reads (namespaces, pods, deployments: get and list) from the
// inventory. Here the server plays kube-apiserver, which ignores the operator's headers: it
// journals them but never enforces anything. Label and field selectors are not applied.
func (s *Server) serveCore(c *call) {
	if c.r.Method != http.MethodGet {
		s.fail(c, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the fake API answers only get and list on %s", c.route.Resource)
		return
	}
	rt := c.route
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
			items = append(items, pod(w))
		}
		answerCore(s, c, items, func(items []corev1.Pod) any {
			return &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: items}
		})
	case "deployments":
		var items []appsv1.Deployment
		for _, w := range selectWorkloads(s.inventory.Deployments, rt.Namespace, rt.Name) {
			items = append(items, deployment(w))
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

func pod(w Workload) corev1.Pod {
	var statuses []corev1.ContainerStatus
	for _, name := range w.Containers {
		statuses = append(statuses, corev1.ContainerStatus{Name: name, Ready: true, ContainerID: "containerd://" + string(uid("c", w.Namespace+"/"+w.Name+"/"+name))})
	}
	return corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: w.Name, Namespace: w.Namespace, UID: uid("pod", w.Namespace+"/"+w.Name), Labels: map[string]string{"app": w.Name}},
		Spec:       corev1.PodSpec{Containers: containers(w), NodeName: "opconform-node"},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: statuses},
	}
}

func deployment(w Workload) appsv1.Deployment {
	replicas := int32(1)
	labels := map[string]string{"app": w.Name}
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

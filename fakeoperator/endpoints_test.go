package fakeoperator

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"github.com/opconform/opconform/contract"
)

// TestEndpointsTheCLICalls: the operator endpoints beside the resources answer a real CLI's
// requests (its bodies and queries, read in its source) with what it decodes, from the
// version that serves them, and with a 404 Status before.
func TestEndpointsTheCLICalls(t *testing.T) {
	const op, alpha = "/apis/operator.metalbear.co/v1", "/apis/operator.metalbear.co/v1alpha1"
	current := newTestServer(t, Options{})
	old := newTestServer(t, Options{OperatorVersion: "3.164.0"})
	for _, tc := range []struct {
		name string
		req  request
		code int
		want string
	}{
		{"branch credentials", request{method: "POST", path: op + "/branchcredentials", body: `{"namespace":"default","branch_id":"b1","values":{"PASSWORD":"x"}}`}, 200, `"secret_name":"mirrord-branch-b1"`},
		{"branch credentials without values", request{method: "POST", path: op + "/branchcredentials", body: `{"namespace":"default","branch_id":"b1"}`}, 422, ""},
		{"preview secret mounts", request{method: "POST", path: op + "/previewsecretmounts", body: `{"namespace":"default","owner_ref":{"apiVersion":"preview.mirrord.metalbear.co/v1alpha","kind":"PreviewSession","name":"p1","uid":"u"},"values":{"k0":"aGk="}}`}, 200, `"secret_name":"p1-secret-mounts"`},
		{"queue splits", request{path: op + "/namespaces/default/queuesplits"}, 200, `"kind":"QueueSplitList"`},
		{"queue splits in every namespace", request{path: op + "/queuesplits"}, 200, `"items":[]`},
		{"a queue split", request{path: op + "/namespaces/default/queuesplits/s1"}, 404, ""},
		{"previews", request{path: alpha + "/namespaces/default/previews"}, 200, `"apiVersion":"operator.metalbear.co/v1alpha1"`},
		{"a preview", request{path: alpha + "/namespaces/default/previews/p1"}, 404, ""},
		{"v1alpha1 discovery", request{path: alpha}, 200, `"name":"previews"`},
		{"events need watch and a key", request{path: op + "/events"}, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			code, body, _ := do(t, current, tc.req)
			g.Expect(code).To(Equal(tc.code), "%s", body)
			g.Expect(string(body)).To(ContainSubstring(tc.want))
			code, body, st := do(t, old, tc.req)
			g.Expect(code).To(Equal(http.StatusNotFound), "an operator of 3.164.0 has no such route: %s", body)
			g.Expect(st.Reason).To(BeEquivalentTo("NotFound"))
		})
	}
	g := NewWithT(t)
	for _, e := range current.Journal().Entries() {
		g.Expect(e.Class).NotTo(Equal(contract.ClassUnknown), "%s %s is classified", e.Method, e.Path)
	}
	_, body, _ := do(t, current, request{path: op})
	g.Expect(string(body)).To(ContainSubstring(`"name":"queuesplits"`), "discovery lists them")
	_, body, _ = do(t, old, request{path: op})
	g.Expect(string(body)).NotTo(ContainSubstring(`"name":"queuesplits"`))
}

// TestEventStream: `mirrord subscribe` reads server-sent events line by line; the stream
// opens at once and ends when the client goes.
func TestEventStream(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/apis/operator.metalbear.co/v1/events?watch=true&session_key=k%201", nil)
	g.Expect(err).NotTo(HaveOccurred())
	resp, err := s.Client().Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	g.Expect(resp.StatusCode).To(Equal(http.StatusOK))
	g.Expect(resp.Header.Get("Content-Type")).To(Equal("text/event-stream"))
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(line).To(HavePrefix(": subscribed"), "a comment, which the CLI skips")
	cancel()
	g.Eventually(func() []contract.Entry { return s.Journal().Entries() }).WithTimeout(5 * time.Second).Should(
		ContainElement(HaveField("Class", contract.ClassEventWatch)))
}

// TestPodsARealLsKeeps: the pod list honours the query `mirrord ls` sends (its running pods,
// none of mirrord's own, at most 500), and a running pod is Ready=True, the condition the
// CLI keeps a pod for (mirrord/kube/src/api/kubernetes/seeker.rs).
func TestPodsARealLsKeeps(t *testing.T) {
	g := NewWithT(t)
	inv := DefaultInventory()
	inv.Pods = append(inv.Pods,
		Workload{Namespace: "default", Name: "starting", Containers: []string{"c"}, Phase: corev1.PodPending},
		Workload{Namespace: "default", Name: "mirrord-agent-x", Containers: []string{"agent"}, Labels: map[string]string{"app": "mirrord"}},
		Workload{Namespace: "default", Name: "copy", Containers: []string{"c"}, Labels: map[string]string{"operator.metalbear.co/owner": "mirrord"}})
	s := newTestServer(t, Options{Inventory: inv})
	q := url.Values{"fieldSelector": {"status.phase=Running"}, "labelSelector": {"app!=mirrord,!operator.metalbear.co/owner"}, "limit": {"500"}}
	code, body, _ := do(t, s, request{path: "/api/v1/namespaces/default/pods?" + q.Encode()})
	g.Expect(code).To(Equal(http.StatusOK), "%s", body)
	var pods corev1.PodList
	g.Expect(json.Unmarshal(body, &pods)).To(Succeed())
	g.Expect(pods.Items).To(HaveLen(1))
	g.Expect(pods.Items[0].Name).To(Equal("nginx-7d9c6b5f4-x2x7q"))
	g.Expect(pods.Items[0].Status.Conditions).To(ContainElement(corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue}))

	_, body, _ = do(t, s, request{path: "/api/v1/namespaces/default/pods"})
	g.Expect(json.Unmarshal(body, &pods)).To(Succeed())
	g.Expect(pods.Items).To(HaveLen(4), "without selectors, every pod")
	code, _, st := do(t, s, request{path: "/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dx"})
	g.Expect(code).To(Equal(http.StatusBadRequest))
	g.Expect(st.Message).To(ContainSubstring("field label not supported: spec.nodeName"))
	code, _, _ = do(t, s, request{path: "/apis/apps/v1/namespaces/default/deployments?labelSelector=app%3Dnginx"})
	g.Expect(code).To(Equal(http.StatusOK))
}

// TestReset: a reset operator is as new for the next client: no session, no copy target,
// valid certificates, an empty journal, and a deleted session's id may start a new session.
func TestReset(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	der := validCert(t, s)
	_, _, err := dial(t, s, targetPath+"?connect=true", connectHeaders(der, "77"), contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred())
	code, _, _ := do(t, s, request{method: "POST", path: "/apis/operator.metalbear.co/v1/namespaces/default/copytargets", body: `{"metadata":{"name":"deploy.nginx"},"spec":{"target":{"deployment":"nginx","container":null}}}`})
	g.Expect(code).To(Equal(http.StatusCreated))
	g.Expect(s.SetIssuing(IssueExpired)).To(Succeed())
	code, _, _ = do(t, s, request{method: "POST", path: "/_opconform/reset"})
	g.Expect(code).To(Equal(http.StatusNoContent))
	g.Expect(s.state.listSessions("")).To(BeEmpty())
	g.Expect(s.state.listCopyTargets("default")).To(BeEmpty())
	g.Expect(s.Journal().Entries()).To(BeEmpty())
	code, _, _ = do(t, s, request{method: "POST", path: "/apis/operator.metalbear.co/v1/namespaces/default/copytargets", body: `{"metadata":{"name":"deploy.nginx"},"spec":{"target":{"deployment":"nginx","container":null}}}`})
	g.Expect(code).To(Equal(http.StatusCreated), "the copy's name is free again")
	v, _ := s.issuing.Load().(string)
	g.Expect(v).To(BeEmpty(), "valid certificates again")

	code, _, _ = do(t, s, request{method: "POST", path: "/_opconform/reset?clock=2030-01-01T00:00:00Z"})
	g.Expect(code).To(Equal(http.StatusNoContent))
	g.Expect(s.clock.Now()).To(Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), "the operator's clock is the reset's")
	code, _, _ = do(t, s, request{method: "POST", path: "/_opconform/reset"})
	g.Expect(code).To(Equal(http.StatusNoContent))
	g.Expect(s.clock.Now().Year()).To(Equal(2030), "a reset without clock keeps the clock")
	code, _, _ = do(t, s, request{method: "POST", path: "/_opconform/reset?clock=real"})
	g.Expect(code).To(Equal(http.StatusNoContent))
	g.Expect(s.clock.Now()).To(BeTemporally("~", time.Now(), time.Minute), "the machine's clock again")
	code, _, st := do(t, s, request{method: "POST", path: "/_opconform/reset?clock=tomorrow"})
	g.Expect(code).To(Equal(http.StatusBadRequest))
	g.Expect(st.Message).To(ContainSubstring(`query parameter clock "tomorrow"`))
}

// TestResetAnswersWithTheInstance: a harness that keeps several operators behind one
// APIService learns from the reset's answer which of them it reached; an operator without an
// instance name sends no such header.
func TestResetAnswersWithTheInstance(t *testing.T) {
	for _, instance := range []string{"op-0123456789", ""} {
		g := NewWithT(t)
		s := newTestServer(t, Options{Instance: instance})
		resp, err := s.Client().Post(s.URL+contract.HarnessGroupPrefix+"reset", "", nil)
		g.Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		g.Expect(resp.StatusCode).To(Equal(http.StatusNoContent))
		want := []string{instance}
		if instance == "" {
			want = nil
		}
		g.Expect(resp.Header.Values(InstanceHeader)).To(Equal(want), "instance %q", instance)
	}
}

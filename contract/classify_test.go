package contract

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestClassify(t *testing.T) {
	const op = "/apis/operator.metalbear.co/v1"
	for _, tc := range []struct {
		method, path     string
		connect, upgrade bool
		class            Class
	}{
		{"GET", "/version", false, false, ClassDiscovery},
		{"GET", "/apis/operator.metalbear.co", false, false, ClassDiscovery},
		{"GET", op, false, false, ClassOperatorDiscovery},
		{"GET", "/apis/operator.metalbear.co/v1alpha1", false, false, ClassOperatorDiscovery},
		{"GET", "/api/v1/namespaces/default/pods", false, false, ClassCoreRead},
		{"GET", "/api/v1/namespaces", false, false, ClassCoreRead},
		{"GET", "/apis/apps/v1/namespaces/default/deployments/nginx", false, false, ClassCoreRead},
		{"GET", "/api/v1/namespaces/default/secrets", false, false, ClassUnknown},
		{"GET", op + "/mirrordoperators/operator", false, false, ClassOperatorGet},
		{"POST", op + "/mirrordoperators/operator/certificate", false, false, ClassCredentialRequest},
		{"GET", op + "/mirrordoperators/operator/ping", false, true, ClassPing},
		{"POST", op + "/mirrordclusteroperatorusercredentials", false, false, ClassCredentialRequest},
		{"GET", op + "/namespaces/default/targets", false, false, ClassTargetList},
		{"GET", op + "/targets", false, false, ClassTargetList},
		{"GET", op + "/namespaces/default/targets/deployment.nginx", false, false, ClassTargetGet},
		{"GET", op + "/namespaces/default/targets/deployment.nginx", true, true, ClassTargetConnect},
		{"GET", op + "/proxy/namespaces/default/targets/deployment.nginx", true, true, ClassTargetConnect},
		{"GET", op + "/namespaces/default/copytargets", false, false, ClassCopyTargetList},
		{"POST", op + "/namespaces/default/copytargets", false, false, ClassCopyTargetCreate},
		{"GET", op + "/namespaces/default/copytargets/deploy.nginx", false, false, ClassCopyTargetGet},
		{"GET", op + "/namespaces/default/copytargets/deploy.nginx", true, true, ClassCopyTargetConnect},
		{"GET", op + "/namespaces/default/sessions", false, false, ClassSessionList},
		{"GET", op + "/sessions", false, false, ClassSessionList},
		{"DELETE", op + "/sessions/1234", false, false, ClassSessionDelete},
		{"DELETE", op + "/namespaces/default/sessions/inactive", false, false, ClassSessionDelete},
		{"POST", op + "/branchcredentials", false, false, ClassBranchCredentials},
		{"POST", op + "/previewsecretmounts", false, false, ClassPreviewSecrets},
		{"GET", op + "/namespaces/default/queuesplits", false, false, ClassQueueSplitList},
		{"GET", op + "/queuesplits", false, false, ClassQueueSplitList},
		{"GET", op + "/namespaces/default/queuesplits/split-1", false, false, ClassQueueSplitGet},
		{"GET", op + "/events", false, false, ClassEventWatch},
		{"GET", "/apis/operator.metalbear.co/v1alpha1/namespaces/default/previews", false, false, ClassPreviewList},
		{"GET", "/apis/operator.metalbear.co/v1alpha1/namespaces/default/previews/p1", false, false, ClassPreviewGet},
		{"DELETE", "/apis/operator.metalbear.co/v1alpha1/namespaces/default/previews/p1", false, false, ClassUnknown},
		{"GET", op + "/branchcredentials", false, false, ClassUnknown},
		{"GET", op + "/namespaces/default/events", false, false, ClassUnknown},
		{"GET", "/_opconform/journal", false, false, ClassHarness},
		{"GET", "/apis/operator.metalbear.co/v1/_opconform/journal", false, false, ClassHarness},
		{"GET", "/apis/other.example/v1/things", false, false, ClassUnknown},
	} {
		got := Classify(Request{Method: tc.method, Path: tc.path, Connect: tc.connect, Upgrade: tc.upgrade}).Class
		NewWithT(t).Expect(got).To(Equal(tc.class), "%s %s", tc.method, tc.path)
		if got != ClassUnknown && got != ClassHarness {
			NewWithT(t).Expect(Classes).To(ContainElement(got), "Classes lists %s", got)
		}
	}
	for _, c := range []Class{ClassBranchCredentials, ClassPreviewSecrets, ClassQueueSplitList, ClassEventWatch, ClassPreviewList, ClassPing} {
		NewWithT(t).Expect(c.IsOperator()).To(BeTrue(), "%s reaches the operator: the contract judges it", c)
	}
}

func TestParseTarget(t *testing.T) {
	g := NewWithT(t)
	for _, tc := range []struct{ in, out, urlName string }{
		{"deployment.nginx", "deployment.nginx", "deploy.nginx"},
		{"deploy.nginx", "deployment.nginx", "deploy.nginx"},
		{"pod.x.container.c", "pod.x.container.c", "pod.x.container.c"},
		{"targetless", "targetless", "targetless"},
	} {
		tg, err := ParseTarget(tc.in)
		g.Expect(err).NotTo(HaveOccurred(), tc.in)
		g.Expect(tg.String()).To(Equal(tc.out))
		g.Expect(tg.URLName()).To(Equal(tc.urlName))
	}
	for _, bad := range []string{"widget.x", "deployment", "targetless.x", "label.x.container.c"} {
		_, err := ParseTarget(bad)
		g.Expect(err).To(HaveOccurred(), bad)
	}
}

func TestTargetObject(t *testing.T) {
	g := NewWithT(t)
	for _, name := range []string{"deployment.nginx", "pod.x.container.c", "cronjob.nightly", "statefulset.db"} {
		tg, err := ParseTarget(name)
		g.Expect(err).NotTo(HaveOccurred())
		back, ok := TargetFromObject(tg.Object().(map[string]any))
		g.Expect(ok).To(BeTrue())
		g.Expect(back).To(Equal(tg))
	}
	tg, _ := ParseTarget("cronjob.nightly")
	g.Expect(tg.Object()).To(HaveKeyWithValue("cron_job", "nightly"), "the Rust field's name")
	none, _ := ParseTarget("targetless")
	g.Expect(none.Object()).To(BeNil())
	_, ok := TargetFromObject(map[string]any{"widget": "x"})
	g.Expect(ok).To(BeFalse())
}

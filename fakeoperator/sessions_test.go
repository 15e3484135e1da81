package fakeoperator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/contract"
)

const sessionsPath = "/apis/operator.metalbear.co/v1/namespaces/default/sessions"

func listSessionIDs(t *testing.T, s *Server) []string {
	t.Helper()
	_, body, _ := do(t, s, request{path: sessionsPath})
	var list struct {
		Items []struct {
			Metadata struct{ Name string } `json:"metadata"`
		} `json:"items"`
	}
	NewWithT(t).Expect(json.Unmarshal(body, &list)).To(Succeed())
	ids := []string{}
	for _, it := range list.Items {
		ids = append(ids, it.Metadata.Name)
	}
	return ids
}

func TestSessions(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	der := validCert(t, s)
	active, _, err := dial(t, s, targetPath+"?connect=true", connectHeaders(der, "255"), contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred())
	ended, _, err := dial(t, s, targetPath+"?connect=true", connectHeaders(der, "256"), contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(listSessionIDs(t, s)).To(Equal([]string{"FF", "100"}), "ids in upper-case hex")

	g.Expect(ended.Close()).To(Succeed())
	g.Eventually(func() int { return s.state.listSessions("default")[1].Open }).WithTimeout(5*time.Second).Should(BeZero(), "closed connection counted")
	code, _, _ := do(t, s, request{method: http.MethodDelete, path: sessionsPath + "/inactive"})
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(listSessionIDs(t, s)).To(Equal([]string{"FF"}), "inactive session removed")

	_, _, st := do(t, s, request{method: http.MethodDelete, path: sessionsPath + "/ABC"})
	g.Expect(st.Reason).To(Equal(metav1.StatusReasonNotFound))
	_, _, st = do(t, s, request{method: http.MethodDelete, path: sessionsPath + "/zzz"})
	g.Expect(st.Message).To(ContainSubstring("parse"))

	code, _, _ = do(t, s, request{method: http.MethodDelete, path: sessionsPath + "/FF"})
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(listSessionIDs(t, s)).To(BeEmpty())
	_ = active.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = active.ReadMessage()
	g.Expect(err).To(HaveOccurred(), "deleting a session ends its connections")

	for i := range 3 {
		_, _, err := dial(t, s, targetPath+"?connect=true", connectHeaders(der, fmt.Sprint(500+i)), contract.Subprotocol)
		g.Expect(err).NotTo(HaveOccurred())
	}
	code, _, _ = do(t, s, request{method: http.MethodDelete, path: sessionsPath})
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(listSessionIDs(t, s)).To(BeEmpty(), "collection delete")
}

func TestOperatorStatusListsActiveSessions(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	_, _, err := dial(t, s, targetPath+"?connect=true", connectHeaders(validCert(t, s), "4096"), contract.Subprotocol)
	g.Expect(err).NotTo(HaveOccurred())
	_, body, _ := do(t, s, request{path: operatorPath})
	var obj struct {
		Status struct {
			Sessions []map[string]any `json:"sessions"`
		} `json:"status"`
	}
	g.Expect(json.Unmarshal(body, &obj)).To(Succeed())
	g.Expect(obj.Status.Sessions).To(HaveLen(1))
	g.Expect(obj.Status.Sessions[0]).To(HaveKey("duration_secs"))
	g.Expect(obj.Status.Sessions[0]).To(HaveKeyWithValue("target", "deployment.nginx"))
	g.Expect(obj.Status.Sessions[0]).To(HaveKeyWithValue("user", "unknown/unknown@laptop"))
}

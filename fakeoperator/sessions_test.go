package fakeoperator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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
	g.Expect(st.Message).To(ContainSubstring("not a decimal or hex u64"))

	code, _, _ = do(t, s, request{method: http.MethodDelete, path: sessionsPath + "/255"})
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(listSessionIDs(t, s)).To(BeEmpty())
	_ = active.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = active.ReadMessage()
	g.Expect(err).To(HaveOccurred(), "deleting a session ends its connections")
	_, resp, err := dial(t, s, targetPath+"?connect=true", connectHeaders(der, "255"), contract.Subprotocol)
	g.Expect(err).To(HaveOccurred(), "a session that ended is not re-created")
	g.Expect(resp.StatusCode).To(Equal(http.StatusGone))
	g.Expect(s.Journal().Entries()[len(s.Journal().Entries())-1].Reason).To(Equal("ReconnectNotPossible"), "where the CLI's reconnect loop stops")

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

// TestSessionList: items carry spec.session, a Session as the CLI decodes it; `mirrord session
// ls --key K` selects by spec.session.key; the CLI sends the id it shows in decimal.
func TestSessionList(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	der := validCert(t, s)
	for id, key := range map[string]string{"4096": "alpha", "4097": "beta,gamma"} {
		_, _, err := dial(t, s, targetPath+"?connect=true&key="+url.QueryEscape(key), connectHeaders(der, id), contract.Subprotocol)
		g.Expect(err).NotTo(HaveOccurred())
	}
	list := func(selector string) []map[string]any {
		path := sessionsPath
		if selector != "" {
			path += "?fieldSelector=" + url.QueryEscape(selector)
		}
		code, body, _ := do(t, s, request{path: path})
		g.Expect(code).To(Equal(http.StatusOK), "%s", body)
		var l struct {
			Items []struct {
				Spec struct {
					Session map[string]any `json:"session"`
				} `json:"spec"`
			} `json:"items"`
		}
		g.Expect(json.Unmarshal(body, &l)).To(Succeed())
		var out []map[string]any
		for _, it := range l.Items {
			out = append(out, it.Spec.Session)
		}
		return out
	}
	all := list("")
	g.Expect(all).To(HaveLen(2))
	g.Expect(all[0]).To(HaveKeyWithValue("id", "1000"))
	g.Expect(all[0]).To(HaveKey("duration_secs"))
	g.Expect(all[0]).To(HaveKeyWithValue("user", "unknown/unknown@laptop"))
	g.Expect(all[0]).To(HaveKeyWithValue("target", "deployment.nginx"))
	g.Expect(list("spec.session.key=alpha")).To(HaveLen(1))
	g.Expect(list(`spec.session.key=beta\,gamma`)).To(ConsistOf(HaveKeyWithValue("key", "beta,gamma")), "escaped as escape_field_selector_value escapes it")
	g.Expect(list("spec.session.key=none")).To(BeEmpty())
	code, _, st := do(t, s, request{path: sessionsPath + "?fieldSelector=" + url.QueryEscape("spec.user=x")})
	g.Expect(code).To(Equal(http.StatusBadRequest))
	g.Expect(st.Message).To(ContainSubstring("field label not supported: spec.user"))

	old := newTestServer(t, Options{OperatorVersion: "3.164.0"})
	code, _, _ = do(t, old, request{path: sessionsPath})
	g.Expect(code).To(Equal(http.StatusNotFound), "operators before 3.232.0 do not list sessions: the CLI falls back to status.sessions")
}

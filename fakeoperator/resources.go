package fakeoperator

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/contract"
)

// object is the generic shape of the operator's namespaced objects.
type object struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              any `json:"spec,omitempty"`
	Status            any `json:"status,omitempty"`
}

type objectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []object `json:"items"`
}

func newList(kind string, items []object) objectList {
	if items == nil {
		items = []object{}
	}
	return objectList{TypeMeta: metav1.TypeMeta{Kind: kind + "List", APIVersion: contract.GroupVersion}, Items: items}
}

// target is a connectable target of the inventory.
type target struct{ namespace, name string }

// targets lists the connectable targets of namespace ("": of every namespace) from the
// inventory.
func (s *Server) targets(namespace string) []target {
	var out []target
	for _, group := range []struct {
		typ       string
		workloads []Workload
	}{{"deployment", s.inventory.Deployments}, {"pod", s.inventory.Pods}} {
		for _, w := range selectWorkloads(group.workloads, namespace, "") {
			out = append(out, target{w.Namespace, group.typ + "." + w.Name})
			for _, ctr := range w.Containers {
				out = append(out, target{w.Namespace, group.typ + "." + w.Name + ".container." + ctr})
			}
		}
	}
	return out
}

// resolveTarget reports whether a connect URL's target name exists in namespace.
func (s *Server) resolveTarget(namespace, name string) error {
	t, err := contract.ParseTarget(name)
	if err != nil {
		return err
	}
	if t.Type == "targetless" || slices.Contains(s.targets(namespace), target{namespace, name}) {
		return nil
	}
	return fmt.Errorf("target %q not found in namespace %q", name, namespace)
}

func targetObject(namespace, name string) object {
	return object{
		TypeMeta:   metav1.TypeMeta{Kind: "Target", APIVersion: contract.GroupVersion},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, UID: uid("target", namespace+"/"+name)},
		Spec:       map[string]string{"target": name},
	}
}

func (s *Server) serveTargets(c *call) {
	ns := c.route.Namespace
	if c.route.Class == contract.ClassTargetList {
		var items []object
		for _, t := range s.targets(ns) {
			items = append(items, targetObject(t.namespace, t.name))
		}
		writeJSON(c.w, http.StatusOK, newList("Target", items))
		return
	}
	if err := s.resolveTarget(ns, c.route.Name); err != nil {
		s.notFound(c, err.Error())
		return
	}
	writeJSON(c.w, http.StatusOK, targetObject(ns, c.route.Name))
}

func (s *Server) copyTargetObject(ct copyTarget) object {
	return object{
		TypeMeta: metav1.TypeMeta{Kind: "CopyTarget", APIVersion: contract.GroupVersion},
		ObjectMeta: metav1.ObjectMeta{Name: ct.Name, Namespace: ct.Namespace, UID: uid("copytarget", ct.Namespace+"/"+ct.Name),
			CreationTimestamp: metav1.NewTime(ct.Created)},
		Spec: ct.Spec,
		Status: map[string]any{
			"phase":           "Ready",
			"creator_session": map[string]any{"id": strconv.FormatUint(ct.CreatorSession, 16), "user_id": ct.UserID},
		},
	}
}

func (s *Server) serveCopyTargets(c *call) {
	ns := c.route.Namespace
	switch c.route.Class {
	case contract.ClassCopyTargetList:
		var items []object
		for _, ct := range s.state.listCopyTargets(ns) {
			items = append(items, s.copyTargetObject(ct))
		}
		writeJSON(c.w, http.StatusOK, newList("CopyTarget", items))
	case contract.ClassCopyTargetGet:
		ct, ok := s.state.copyTarget(ns, c.route.Name)
		if !ok {
			s.notFound(c, "copytargets.operator.metalbear.co \""+c.route.Name+"\"")
			return
		}
		writeJSON(c.w, http.StatusOK, s.copyTargetObject(ct))
	case contract.ClassCopyTargetCreate:
		s.createCopyTarget(c)
	}
}

func (s *Server) createCopyTarget(c *call) {
	var body struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
		Spec     map[string]any    `json:"spec"`
	}
	if err := json.NewDecoder(io.LimitReader(c.r.Body, maxBody)).Decode(&body); err != nil {
		s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "copytarget body: %v", err)
		return
	}
	name := body.Metadata.Name
	if name == "" && body.Metadata.GenerateName != "" {
		name = body.Metadata.GenerateName + strconv.FormatUint(rand.Uint64()%1e6, 36)
	}
	if name == "" {
		s.fail(c, http.StatusBadRequest, metav1.StatusReasonInvalid, "metadata.name: required")
		return
	}
	if _, ok := body.Spec["target"]; !ok {
		s.fail(c, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, "spec.target: required")
		return
	}
	ct := &copyTarget{Namespace: c.route.Namespace, Name: name, Spec: body.Spec, Created: s.clock.Now(), CreatorSession: rand.Uint64()}
	if c.cert != nil && c.cert.cert != nil {
		ct.UserID = c.cert.cert.UserID
	}
	if !s.state.addCopyTarget(ct) {
		s.fail(c, http.StatusConflict, metav1.StatusReasonAlreadyExists, "copytargets.operator.metalbear.co %q already exists", name)
		return
	}
	writeJSON(c.w, http.StatusCreated, s.copyTargetObject(*ct))
}

func (s *Server) serveSessions(c *call) {
	ns := c.route.Namespace
	if c.route.Class == contract.ClassSessionList {
		var items []object
		for _, ss := range s.state.listSessions(ns) {
			id := fmt.Sprintf("%X", ss.ID)
			items = append(items, object{
				TypeMeta:   metav1.TypeMeta{Kind: "Session", APIVersion: contract.GroupVersion},
				ObjectMeta: metav1.ObjectMeta{Name: id, Namespace: ss.Namespace, UID: uid("session", id)},
				Spec:       map[string]any{"id": id, "user": ss.User, "target": ss.Target, "namespace": ss.Namespace},
				Status:     map[string]any{"connections": ss.Open},
			})
		}
		writeJSON(c.w, http.StatusOK, newList("Session", items))
		return
	}
	var n int
	switch c.route.Name {
	case "":
		n = s.state.deleteSessions(ns, func(*session) bool { return true })
	case "inactive":
		n = s.state.deleteSessions(ns, func(ss *session) bool { return ss.Open == 0 })
	default:
		id, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(c.route.Name), "0x"), 16, 64)
		if err != nil {
			s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "session id %q: could not parse as hex: %v", c.route.Name, err)
			return
		}
		if n = s.state.deleteSessions(ns, func(ss *session) bool { return ss.ID == id }); n == 0 {
			s.notFound(c, "session "+c.route.Name)
			return
		}
	}
	writeJSON(c.w, http.StatusOK, &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess,
		Code: http.StatusOK, Message: fmt.Sprintf("%d sessions deleted", n),
	})
}

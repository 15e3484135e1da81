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

	"github.com/Masterminds/semver/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/selection"

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

// resolveTarget reports whether a connect URL's target name exists in namespace; deploy.X
// names deployment.X, as the operator reads the names older clients send.
func (s *Server) resolveTarget(namespace, name string) error {
	t, err := contract.ParseTarget(name)
	if err != nil {
		return err
	}
	if t.Type == "targetless" || slices.Contains(s.targets(namespace), target{namespace, t.String()}) {
		return nil
	}
	return fmt.Errorf("target %q not found in namespace %q", name, namespace)
}

// targetObject is a Target of the inventory (or a resolved name): spec.target is mirrord's
// Target object, as the operator serializes it (contract.Target.Object).
func targetObject(namespace, name string) object {
	t, _ := contract.ParseTarget(name) // names come from the inventory, or were resolved
	return object{
		TypeMeta:   metav1.TypeMeta{Kind: "Target", APIVersion: contract.GroupVersion},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, UID: uid("target", namespace+"/"+t.String())},
		Spec:       map[string]any{"target": t.Object()},
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

// copyTargetObject is a CopyTarget: the spec the client sent, and a status whose
// creator_session is a whole Session (from 3.117.0; before, the operator's CopyTarget type
// had no status).
func (s *Server) copyTargetObject(ct copyTarget) object {
	o := object{
		TypeMeta: metav1.TypeMeta{Kind: "CopyTarget", APIVersion: contract.GroupVersion},
		ObjectMeta: metav1.ObjectMeta{Name: ct.Name, Namespace: ct.Namespace, UID: uid("copytarget", ct.Namespace+"/"+ct.Name),
			CreationTimestamp: metav1.NewTime(ct.Created)},
		Spec: ct.Spec,
	}
	if s.since(sinceSessionUserID) {
		creator := session{ID: ct.CreatorSession, UserID: ct.UserID, User: ct.User, Target: ct.Target, Namespace: ct.Namespace, Started: ct.Created}
		phase := "Ready"
		if s.clock.Now().Before(ct.Created.Add(s.opts.CopyTargetReadyAfter)) {
			phase = "InProgress"
		}
		o.Status = map[string]any{"phase": phase, "creator_session": s.sessionJSON(creator, s.clock.Now()), "failure_message": nil}
	}
	return o
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
	ct := &copyTarget{Namespace: c.route.Namespace, Name: name, Spec: body.Spec, Created: s.clock.Now(), CreatorSession: rand.Uint64(),
		User: sessionUser(c.r.Header.Get(s.keys.Name), c.entry.RemoteUser, c.r.Header.Get(s.keys.Hostname)), Target: copiedTarget(body.Spec["target"])}
	if c.cert != nil && c.cert.cert != nil {
		ct.UserID = c.cert.cert.UserID
	}
	if !s.state.addCopyTarget(ct) {
		s.fail(c, http.StatusConflict, metav1.StatusReasonAlreadyExists, "copytargets.operator.metalbear.co %q already exists", name)
		return
	}
	writeJSON(c.w, http.StatusCreated, s.copyTargetObject(*ct))
}

// copiedTarget names the target a CopyTarget's spec.target (mirrord's Target object)
// copies, as a session's target reads: deployment/nginx.
func copiedTarget(spec any) string {
	if obj, ok := spec.(map[string]any); ok {
		if t, ok := contract.TargetFromObject(obj); ok {
			return t.Type + "/" + t.Name
		}
	}
	return "targetless"
}

// sinceSessionList is the first operator release whose Session type is a resource clients
// list (SessionSpec{session}); before it the route served only deletes.
var sinceSessionList = semver.MustParse("3.232.0")

func (s *Server) serveSessions(c *call) {
	ns := c.route.Namespace
	if c.route.Class == contract.ClassSessionList {
		s.listSessions(c, ns)
		return
	}
	var n int
	switch c.route.Name {
	case "":
		n = s.state.deleteSessions(ns, func(*session) bool { return true })
	case "inactive":
		n = s.state.deleteSessions(ns, func(ss *session) bool { return ss.Open == 0 })
	default:
		ids := sessionIDs(c.route.Name)
		if len(ids) == 0 {
			s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "session id %q: not a decimal or hex u64", c.route.Name)
			return
		}
		n = s.state.deleteSessions(ns, func(ss *session) bool { return slices.Contains(ids, ss.ID) })
		if n == 0 {
			s.notFound(c, "sessions.operator.metalbear.co \""+c.route.Name+"\"")
			return
		}
	}
	writeJSON(c.w, http.StatusOK, &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess,
		Code: http.StatusOK, Message: fmt.Sprintf("%d sessions deleted", n),
	})
}

// sessionIDs reads a session id of a DELETE path: the CLI sends the id it shows (hex) in
// decimal, `session kill` tries the other form too; either is accepted.
func sessionIDs(name string) []uint64 {
	var ids []uint64
	if id, err := strconv.ParseUint(name, 10, 64); err == nil {
		ids = append(ids, id)
	}
	if id, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(name), "0x"), 16, 64); err == nil {
		ids = append(ids, id)
	}
	return ids
}

// listSessions answers a session list: items whose spec.session is a Session, filtered by
// fieldSelector=spec.session.key=K (the only field `mirrord session ls --key` selects by).
func (s *Server) listSessions(c *call, ns string) {
	if !s.since(sinceSessionList) {
		s.notFound(c, "the server could not find the requested resource (sessions are listed from "+sinceSessionList.String()+")")
		return
	}
	key, keyed, err := sessionKeySelector(c.query.Get("fieldSelector"))
	if err != nil {
		s.fail(c, http.StatusBadRequest, metav1.StatusReasonBadRequest, "fieldSelector: %v", err)
		return
	}
	now := s.clock.Now()
	var items []object
	for _, ss := range s.state.listSessions(ns) {
		if keyed && ss.Key != key {
			continue
		}
		id := fmt.Sprintf("%X", ss.ID)
		items = append(items, object{
			TypeMeta:   metav1.TypeMeta{Kind: "Session", APIVersion: contract.GroupVersion},
			ObjectMeta: metav1.ObjectMeta{Name: id, Namespace: ss.Namespace, UID: uid("session", id)},
			Spec:       map[string]any{"session": s.sessionJSON(ss, now)},
		})
	}
	writeJSON(c.w, http.StatusOK, newList("Session", items))
}

// sessionKeySelector parses a session list's field selector: spec.session.key=K (or ==),
// escaped as escape_field_selector_value escapes it; any other field is refused, as
// kube-apiserver refuses a field label it does not support.
func sessionKeySelector(selector string) (key string, keyed bool, err error) {
	if selector == "" {
		return "", false, nil
	}
	sel, err := fields.ParseSelector(selector)
	if err != nil {
		return "", false, err
	}
	for _, r := range sel.Requirements() {
		if r.Field != "spec.session.key" || r.Operator == selection.NotEquals {
			return "", false, fmt.Errorf("field label not supported: %s", r.Field)
		}
		key, keyed = r.Value, true
	}
	return key, keyed, nil
}

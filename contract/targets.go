package contract

import (
	"fmt"
	"slices"
	"strings"
)

// TargetTypes are the target types of the connect URL's target name.
var TargetTypes = []string{"deployment", "rollout", "pod", "job", "cronjob", "statefulset", "service", "replicaset", "label", "targetless"}

// Target is a parsed target name: {type}[.{name}][.container.{container}].
type Target struct {
	Type      string
	Name      string
	Container string
}

// URLName is t as TargetCrd::urlfied_name names it: "deploy" for a deployment, the type
// otherwise (clients before 3.132.0 connect to it; every client names a copy target so).
func (t Target) URLName() string {
	if t.Type == "deployment" {
		t.Type = "deploy"
	}
	return t.String()
}

// String formats t as a connect URL target name.
func (t Target) String() string {
	s := t.Type
	if t.Name != "" {
		s += "." + t.Name
	}
	if t.Container != "" {
		s += ".container." + t.Container
	}
	return s
}

// ParseTarget parses a target name. Names of Kubernetes objects cannot contain
// ".container.", so the split is unambiguous. The type "deploy" is a deployment: the name
// TargetCrd::urlfied_name gives it, which clients before 3.132.0 put in their connect URLs.
func ParseTarget(s string) (Target, error) {
	typ, rest, _ := strings.Cut(s, ".")
	if typ == "deploy" {
		typ = "deployment"
	}
	if !slices.Contains(TargetTypes, typ) {
		return Target{}, fmt.Errorf("target %q: type %q is not one of %s", s, typ, strings.Join(TargetTypes, ", "))
	}
	t := Target{Type: typ}
	if typ == "targetless" {
		if rest != "" {
			return Target{}, fmt.Errorf("target %q: targetless takes no name", s)
		}
		return t, nil
	}
	name, container, hasContainer := strings.Cut(rest, ".container.")
	if name == "" {
		return Target{}, fmt.Errorf("target %q: %s needs a name", s, typ)
	}
	if hasContainer && (container == "" || typ == "label") {
		return Target{}, fmt.Errorf("target %q: bad container suffix", s)
	}
	t.Name, t.Container = name, container
	return t, nil
}

// targetFields are the JSON field that names a target of each type in mirrord's Target type
// (mirrord/config/src/target/*.rs): the type, but for the three whose Rust field has an
// underscore.
var targetFields = map[string]string{"cronjob": "cron_job", "statefulset": "stateful_set", "replicaset": "replica_set"}

func targetField(typ string) string {
	if f, ok := targetFields[typ]; ok {
		return f
	}
	return typ
}

// Object is t as mirrord's Target type serializes it, which the CLI sends as a copy target's
// spec.target and an operator answers in a Target's: {"deployment": "nginx", "container":
// null}; targetless is null.
func (t Target) Object() any {
	if t.Type == "targetless" {
		return nil
	}
	var container any
	if t.Container != "" {
		container = t.Container
	}
	return map[string]any{targetField(t.Type): t.Name, "container": container}
}

// TargetFromObject reads mirrord's Target object (see Object); false when it is none.
func TargetFromObject(obj map[string]any) (Target, bool) {
	for _, typ := range TargetTypes {
		if name, ok := obj[targetField(typ)].(string); ok && typ != "targetless" && typ != "label" {
			t := Target{Type: typ, Name: name}
			t.Container, _ = obj["container"].(string)
			return t, true
		}
	}
	return Target{}, false
}

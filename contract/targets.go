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
// ".container.", so the split is unambiguous.
func ParseTarget(s string) (Target, error) {
	typ, rest, _ := strings.Cut(s, ".")
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

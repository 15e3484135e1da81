package matrix

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// lines maps a field path (clients[2].version) to its line in the file.
type lines map[string]int

// checkKeys walks the document against Matrix's fields and reports every key that is not
// a field, exactly as spelled (keys are case-sensitive: `Version` is not `version`), and
// every duplicate key, each with its path and line. It also returns the line of every
// path, so that Validate's problems can say where they are.
func checkKeys(data []byte) (lines, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if line, ok := unclosedFlow(data); ok {
			return nil, fmt.Errorf("line %d: a { or [ opened on this line is not closed (%v)", line, err)
		}
		return nil, err
	}
	at := lines{}
	if len(doc.Content) == 0 {
		return at, nil
	}
	var errs []error
	walkKeys(doc.Content[0], reflect.TypeFor[Matrix](), "", at, &errs)
	return at, errors.Join(errs...)
}

func walkKeys(n *yaml.Node, t reflect.Type, path string, at lines, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if path != "" {
		at[path] = n.Line
	}
	switch {
	case n.Kind == yaml.AliasNode:
		walkKeys(n.Alias, t, path, at, errs)
	case n.Kind == yaml.ScalarNode && path != "":
		if err := decodes(n, t); err != nil {
			*errs = append(*errs, fmt.Errorf("%s (line %d): %w", path, n.Line, err))
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, item := range n.Content {
			walkKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), at, errs)
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkKeys(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), at, errs)
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct && !t.Implements(reflect.TypeFor[json.Unmarshaler]()) && !reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()):
		fields := jsonFields(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i]
			p := join(path, key.Value)
			if line, dup := seen[key.Value]; dup {
				*errs = append(*errs, fmt.Errorf("%s (line %d): duplicate key, first at line %d", p, key.Line, line))
				continue
			}
			seen[key.Value] = key.Line
			ft, ok := fields[key.Value]
			if !ok {
				*errs = append(*errs, fmt.Errorf("%s (line %d): unknown field %q%s", p, key.Line, key.Value, suggest(key.Value, fields)))
				continue
			}
			walkKeys(n.Content[i+1], ft, p, at, errs)
		}
	}
}

// decodes reports why a scalar's value cannot be what the field is (a duration, a number),
// nil when it can: every such value is reported with its line, not only the first.
func decodes(n *yaml.Node, t reflect.Type) error {
	var v any
	if err := n.Decode(&v); err != nil {
		return fmt.Errorf("%q: %v", n.Value, err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%q: %v", n.Value, err)
	}
	if err := json.Unmarshal(data, reflect.New(t).Interface()); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case t == reflect.TypeFor[metav1.Duration]():
			return fmt.Errorf("%q is not a duration (write e.g. 60s, 2m, 1m30s): %v", n.Value, err)
		case errors.As(err, &typeErr):
			return fmt.Errorf("%q is a %s, want %s", n.Value, typeErr.Value, typeErr.Type)
		}
		return fmt.Errorf("%q: %v", n.Value, err)
	}
	return nil
}

// unclosedFlow finds the line of a flow collection ({…} or […]) that is not closed where the
// next entry of the document begins: the line a YAML parser's error points past.
func unclosedFlow(data []byte) (int, bool) {
	depth, opened := 0, 0
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if depth > 0 && (strings.HasPrefix(trimmed, "- ") || flowKey.MatchString(trimmed)) {
			return opened, true // an entry begins while the collection is still open
		}
		quote := byte(0)
		for j := 0; j < len(line); j++ {
			c := line[j]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '#' && (j == 0 || line[j-1] == ' '):
				j = len(line)
			case c == '{' || c == '[':
				if depth == 0 {
					opened = i + 1
				}
				depth++
			case c == '}' || c == ']':
				depth--
			}
		}
	}
	return opened, depth > 0
}

// flowKey is a block mapping key at the start of a line: a new entry.
var flowKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*:(\s|$)`)

// jsonFields are a struct's fields by their JSON names.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" && f.IsExported() {
			out[name] = f.Type
		}
	}
	return out
}

// suggest names the field meant when only its case differs, or lists the known ones.
func suggest(key string, fields map[string]reflect.Type) string {
	var names []string
	for name := range fields {
		if strings.EqualFold(name, key) {
			return fmt.Sprintf(" (keys are case-sensitive: did you mean %q?)", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return "; known fields: " + strings.Join(names, ", ")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// leadingPath is the field path a Validate problem starts with.
var leadingPath = regexp.MustCompile(`^([A-Za-z0-9_.\[\]]+): `)

// withLines adds the line of its path to each of Validate's problems.
func withLines(err error, at lines) error {
	if err == nil {
		return nil
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		return err
	}
	var out []error
	for _, e := range joined.Unwrap() {
		m := leadingPath.FindStringSubmatch(e.Error())
		if m == nil {
			out = append(out, e)
			continue
		}
		line, ok := at[m[1]]
		for p := m[1]; !ok && strings.ContainsAny(p, ".["); {
			p = p[:strings.LastIndexAny(p, ".[")]
			line, ok = at[p]
		}
		if !ok {
			out = append(out, e)
			continue
		}
		out = append(out, fmt.Errorf("%s (line %d): %s", m[1], line, strings.TrimPrefix(e.Error(), m[0])))
	}
	return errors.Join(out...)
}

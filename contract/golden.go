package contract

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// GoldenJournal is a client version's normalised request sequence per scenario: what it
// sends, without the values that change from run to run. Diffing two versions' golden
// journals shows how the contract drifted between them.
type GoldenJournal struct {
	ClientVersion string `json:"clientVersion"`
	// Operator is the version of the fake operator the journal was recorded against.
	Operator  string           `json:"operator"`
	Scenarios []GoldenScenario `json:"scenarios"`
}

// GoldenScenario is one scenario's requests.
type GoldenScenario struct {
	Name     string          `json:"name"`
	Requests []GoldenRequest `json:"requests"`
}

// GoldenRequest is one request, normalised.
type GoldenRequest struct {
	Method string `json:"method"`
	Class  Class  `json:"class"`
	// Path has object names replaced by {namespace}, {name}, {target}.
	Path string `json:"path"`
	// Query lists the query's keys, sorted.
	Query []string `json:"query,omitempty"`
	// Headers maps each contract header the request carried to its value's format.
	Headers map[string]string `json:"headers,omitempty"`
}

// goldenScenarios are the scenarios a golden journal holds.
var goldenScenarios = []string{ScenarioStatus, ScenarioLs, ScenarioExec}

// Golden normalises a cell's observations into a golden journal.
func Golden(clientVersion, operator string, h HeaderNames, observations []Observation) GoldenJournal {
	h = h.OrDefault()
	g := GoldenJournal{ClientVersion: clientVersion, Operator: operator}
	for _, o := range observations {
		if !slices.Contains(goldenScenarios, o.Kind) || o.Name != o.Kind {
			continue
		}
		s := GoldenScenario{Name: o.Name, Requests: []GoldenRequest{}}
		for _, e := range o.Entries {
			s.Requests = append(s.Requests, goldenRequest(e, h))
		}
		g.Scenarios = append(g.Scenarios, s)
	}
	return g
}

func goldenRequest(e Entry, h HeaderNames) GoldenRequest {
	r := GoldenRequest{Method: e.Method, Class: e.Class, Path: pathTemplate(e.Path), Headers: map[string]string{}}
	for k := range e.Query {
		r.Query = append(r.Query, k)
	}
	slices.Sort(r.Query)
	formats := map[string]func(Entry, string) string{
		h.Version: func(_ Entry, v string) string { return semverFormat(v) },
		h.Certificate: func(e Entry, _ string) string {
			if e.Certificate == nil {
				return "certificate"
			}
			return "certificate:" + e.Certificate.Verdict
		},
		h.Name:          func(Entry, string) string { return "text" },
		h.Hostname:      func(Entry, string) string { return "text" },
		h.Info:          func(Entry, string) string { return "client-info" },
		h.SessionID:     func(_ Entry, v string) string { return decimalFormat(v) },
		h.ConnectParams: func(Entry, string) string { return "base64-query" },
		HeaderBaggage:   func(Entry, string) string { return "w3c-baggage" },
	}
	for name, format := range formats {
		if name == "" {
			continue
		}
		vs := e.Headers[strings.ToLower(name)]
		if len(vs) == 0 {
			continue
		}
		f := format(e, vs[0])
		if len(vs) > 1 {
			f += "×" + strconv.Itoa(len(vs))
		}
		r.Headers[strings.ToLower(name)] = f
	}
	if len(r.Headers) == 0 {
		r.Headers = nil
	}
	return r
}

func semverFormat(v string) string {
	if _, err := semver.StrictNewVersion(v); err != nil {
		return "not-semver"
	}
	return "semver"
}

func decimalFormat(v string) string {
	if _, err := strconv.ParseUint(v, 10, 64); err != nil {
		return "not-decimal"
	}
	return "decimal-u64"
}

// pathTemplate replaces the names in a path with placeholders: the segment after
// "namespaces" becomes {namespace}, and an object name after a resource becomes {name}
// ({target} for targets and copy targets); the operator object's fixed name stays.
func pathTemplate(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := 1; i < len(segs); i++ {
		prev := segs[i-1]
		switch {
		case prev == "namespaces" && i+1 < len(segs):
			segs[i] = "{namespace}"
		case prev == ResourceTargets || prev == ResourceCopyTargets:
			segs[i] = "{target}"
		case (prev == "pods" || prev == "deployments" || prev == ResourceSessions || prev == "namespaces") && i == len(segs)-1:
			segs[i] = "{name}"
		}
	}
	if u, err := url.PathUnescape("/" + strings.Join(segs, "/")); err == nil {
		return u
	}
	return "/" + strings.Join(segs, "/")
}

// Diff lists the differences from want to g, one line each ("" when none).
func (g GoldenJournal) Diff(want GoldenJournal) []string {
	var out []string
	scenarios := func(j GoldenJournal) map[string][]GoldenRequest {
		m := map[string][]GoldenRequest{}
		for _, s := range j.Scenarios {
			m[s.Name] = s.Requests
		}
		return m
	}
	have, golden := scenarios(g), scenarios(want)
	names := slices.Sorted(maps.Keys(golden))
	for name := range have {
		if _, ok := golden[name]; !ok {
			names = append(names, name)
		}
	}
	for _, name := range names {
		a, b := golden[name], have[name]
		for i := 0; i < max(len(a), len(b)); i++ {
			switch {
			case i >= len(a):
				out = append(out, fmt.Sprintf("%s: request %d is new: %s", name, i+1, b[i]))
			case i >= len(b):
				out = append(out, fmt.Sprintf("%s: request %d is gone: %s", name, i+1, a[i]))
			case a[i].String() != b[i].String():
				out = append(out, fmt.Sprintf("%s: request %d was %s, is %s", name, i+1, a[i], b[i]))
			}
		}
	}
	return out
}

// String is a one-line form of the request: method, path, query keys and header formats.
func (r GoldenRequest) String() string {
	var hs []string
	for _, k := range slices.Sorted(maps.Keys(r.Headers)) {
		hs = append(hs, k+"="+r.Headers[k])
	}
	q := ""
	if len(r.Query) > 0 {
		q = "?" + strings.Join(r.Query, "&")
	}
	return fmt.Sprintf("%s %s%s (%s) [%s]", r.Method, r.Path, q, r.Class, strings.Join(hs, " "))
}

package contract

import (
	"fmt"
	"strconv"
	"strings"
)

// The session requirements: its id, stable over both connections, under one certificate.

// connects are the scenario's connect entries the client sent (not the harness's probe).
func connects(o Observation) []Entry {
	return where(o.Entries, func(e Entry) bool { return e.Class.IsConnect() })
}

func checkSessionID(s Subject, o Observation) (bool, *violation) {
	if o.Kind == ScenarioTakeover {
		return false, nil
	}
	cs := connects(o)
	for _, e := range cs {
		vs := values(e, s.Headers.SessionID)
		if len(vs) == 0 {
			return true, &violation{"missing", fmt.Sprintf("%s %s carries no %s", e.Method, e.Path, s.Headers.SessionID)}
		}
		if len(vs) > 1 {
			return true, &violation{"repeated", fmt.Sprintf("%s %s carries %s %d times", e.Method, e.Path, s.Headers.SessionID, len(vs))}
		}
		if _, err := strconv.ParseUint(vs[0], 10, 64); err != nil || strings.HasPrefix(vs[0], "+") {
			return true, &violation{"not-decimal-u64", fmt.Sprintf("%s %q is not a decimal u64", s.Headers.SessionID, vs[0])}
		}
	}
	return len(cs) > 0, nil
}

func checkSessionStable(s Subject, o Observation) (bool, *violation) {
	if o.Kind != ScenarioExec {
		return false, nil
	}
	cs := connects(o)
	if len(cs) < 2 {
		return false, nil
	}
	first := strings.Join(values(cs[0], s.Headers.SessionID), ",")
	for _, e := range cs[1:] {
		if got := strings.Join(values(e, s.Headers.SessionID), ","); got != first {
			return true, &violation{"changed", fmt.Sprintf("the session's connections carry %s %q and %q", s.Headers.SessionID, first, got)}
		}
	}
	return true, nil
}

func checkSessionCertificate(s Subject, o Observation) (bool, *violation) {
	cs := connects(o)
	switch o.Kind {
	case ScenarioExec:
		if len(cs) < 2 || cs[0].Certificate == nil {
			return false, nil
		}
		for _, e := range cs[1:] {
			if e.Certificate == nil || e.Certificate.Fingerprint != cs[0].Certificate.Fingerprint {
				return true, &violation{"client-switched", "the client continued its session under another certificate"}
			}
		}
		return true, nil
	case ScenarioTakeover:
		if len(cs) == 0 {
			return false, nil
		}
		probe := cs[len(cs)-1]
		if probe.Decision != DecisionRefused {
			return true, &violation{"takeover-accepted", fmt.Sprintf("the operator let another certificate continue session %s (answer %d)", probe.SessionID, probe.Code)}
		}
		return true, nil
	}
	return false, nil
}

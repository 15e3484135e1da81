package contract

import (
	"fmt"
	"strings"
)

// The refusal requirements: refused early, the client stops, the minimum version named.

func checkEarlyRefusal(s Subject, o Observation) (bool, *violation) {
	if o.Kind != ScenarioFixture {
		return false, nil
	}
	// operators before 3.109.0 check the certificate on target connects only: for them it is
	// refused at the latest there, before any WebSocket is established
	connectsOnly := s.OperatorVersion.LessThan(everyRequest)
	for i, e := range o.Entries {
		if !e.Class.IsOperator() || e.Certificate == nil || (connectsOnly && !e.Class.IsConnect()) {
			continue
		}
		// the first operator request that carries the certificate, as the operator decided
		// it; what the client received of its answer is read on the client's side
		received := o.asReceived(i)
		refusal := received.ReceivedRefusal([]string{s.Headers.Certificate})
		if !o.ExpectRefusal {
			aboutCertificate := strings.HasPrefix(e.Reason, "Certificate") || namedHeader(e.Message, []string{s.Headers.Certificate}) != ""
			if refusal != nil || (e.Decision == DecisionRefused && aboutCertificate) {
				return true, &violation{"valid-refused", fmt.Sprintf("a valid certificate was refused on %s (%s)", e.Class, e.Reason)}
			}
			return true, nil
		}
		if e.Decision != DecisionRefused || (received.Code != 401 && received.Code != 403) {
			return true, &violation{"not-refused", fmt.Sprintf("%s %s carried an invalid certificate (%s) and was answered %d", e.Method, e.Path, e.Certificate.Verdict, received.Code)}
		}
		if refusal == nil {
			return true, &violation{"refusal-not-status", fmt.Sprintf("%s %s was refused with %d, but the client received no Kubernetes Status naming %s and a reason (%s)", e.Method, e.Path, received.Code, s.Headers.Certificate, received.Answer.describe())}
		}
		for _, later := range o.Entries {
			if later.Code == 101 {
				return true, &violation{"websocket-established", "a WebSocket was established with an invalid certificate"}
			}
		}
		return true, nil
	}
	return false, nil
}

func checkStopAfterRefusal(s Subject, o Observation) (bool, *violation) {
	if o.Kind == ScenarioTakeover {
		return false, nil
	}
	entries := o.clientSide()
	for i, e := range entries {
		// a client is judged against well-formed refusals, as it received them: a malformed
		// one is the operator's failure (EARLY-REFUSAL), and gives the client nothing to name
		refusal := e.ReceivedRefusal(s.Headers.Contract())
		if refusal == nil {
			continue
		}
		rest := entries[i+1:]
		if e.Class == ClassOperatorGet && len(rest) > 0 && rest[0].Class == ClassOperatorDiscovery {
			rest = rest[1:] // the one discovery request the mirrord CLI sends before it fails
		}
		if len(rest) > 0 {
			return true, &violation{"requests-after-refusal", fmt.Sprintf("%d requests after the refusal of %s, first %s %s", len(rest), e.Class, rest[0].Method, rest[0].Path)}
		}
		if !refusal.NamedBy(o.Output) {
			return true, &violation{"unclear-error", fmt.Sprintf("the client's error does not name the refusal (%s, reason %s): %q", refusal.Header, refusal.Reason, firstLine(o.Err))}
		}
		if want := s.FailEarlyExitCode; want != 0 && o.ExitCode != nil && *o.ExitCode != want && e.Class.IsOperator() && strings.HasPrefix(refusal.Reason, "Certificate") {
			return true, &violation{"wrong-exit-code", fmt.Sprintf("after the refusal of its certificate (%s) the client exited with %d, not the %d it declares", refusal.Reason, *o.ExitCode, want)}
		}
		return true, nil
	}
	return false, nil
}

func checkMinimumVersion(s Subject, o Observation) (bool, *violation) {
	for _, e := range o.clientSide() {
		refusal := e.ReceivedRefusal(s.Headers.Contract())
		if refusal == nil {
			continue
		}
		min := s.MinClientVersion.String()
		if !strings.Contains(refusal.Message, min) {
			return true, &violation{"operator-silent", fmt.Sprintf("the operator's refusal does not name %s: %q", min, refusal.Message)}
		}
		if !NamesVersion(o.Output, min) {
			return true, &violation{"client-silent", fmt.Sprintf("the client did not pass on the minimum version %s: %q", min, firstLine(o.Err))}
		}
		return true, nil
	}
	return false, nil
}

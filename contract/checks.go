package contract

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// The checks of the requirements, one a requirement (see checks and cellChecks), and what
// they share.

// where returns the entries that keep holds for, in order.
func where(entries []Entry, keep func(Entry) bool) []Entry {
	var out []Entry
	for _, e := range entries {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// clientSide is what the client sent and received, as the harness recorded it on the
// client's side of the wire; without such a record (the harness's own probes), the journal.
func (o Observation) clientSide() []Entry {
	if o.Sent != nil {
		return o.Sent
	}
	return o.Entries
}

// asReceived is the client's side of the journal's entry i: the recorded request with the
// same method and path, as many of them before it. Without a client-side record, or when it
// lacks the request (JOURNAL-COMPLETE's to say), it is the journal's entry.
func (o Observation) asReceived(i int) Entry {
	e := o.Entries[i]
	if o.Sent == nil {
		return e
	}
	same := func(x Entry) bool { return x.Method == e.Method && x.Path == e.Path }
	k := len(where(o.Entries[:i], same))
	for _, sent := range where(o.Sent, same) {
		if k == 0 {
			return sent
		}
		k--
	}
	return e
}

// operatorEntries are the entries that reached the operator.
func operatorEntries(o Observation) []Entry {
	return where(o.Entries, func(e Entry) bool { return e.Class.IsOperator() })
}

func values(e Entry, name string) []string { return e.Headers[strings.ToLower(name)] }

func checkVersionHeader(s Subject, o Observation) (bool, *violation) {
	entries := operatorEntries(o)
	for _, e := range entries {
		vs := values(e, s.Headers.Version)
		switch {
		case len(vs) == 0:
			return true, &violation{"missing", fmt.Sprintf("%s %s (%s) carries no %s", e.Method, e.Path, e.Class, s.Headers.Version)}
		case len(vs) > 1:
			return true, &violation{"repeated", fmt.Sprintf("%s %s carries %s %d times", e.Method, e.Path, s.Headers.Version, len(vs))}
		}
		if _, err := semver.StrictNewVersion(vs[0]); err != nil {
			return true, &violation{"not-semver", fmt.Sprintf("%s %q on %s is not SemVer", s.Headers.Version, vs[0], e.Class)}
		}
		if vs[0] != s.ClientVersion.Original() && vs[0] != s.ClientVersion.String() {
			return true, &violation{"mismatch", fmt.Sprintf("%s %q on %s, the client is %s", s.Headers.Version, vs[0], e.Class, s.ClientVersion)}
		}
	}
	return len(entries) > 0, nil
}

// exempt classes never need a certificate.
func exempt(c Class) bool {
	return c == ClassOperatorGet || c == ClassOperatorDiscovery || c == ClassCredentialRequest
}

func checkCertificateHeader(s Subject, o Observation) (bool, *violation) {
	if o.Kind != ScenarioExec && o.Kind != ScenarioExecStale && o.Kind != ScenarioFixture {
		return false, nil
	}
	every := !s.ClientVersion.LessThan(semver.MustParse("3.109.0-0"))
	ready, observed := false, false
	for _, e := range operatorEntries(o) {
		if e.Class == ClassOperatorGet {
			ready = true // the certificate is prepared right after the operator GET
			continue
		}
		if !ready || exempt(e.Class) || (!every && !e.Class.IsConnect()) {
			continue
		}
		observed = true
		if e.Certificate == nil {
			return true, &violation{"missing", fmt.Sprintf("%s %s (%s) carries no %s after the certificate was ready", e.Method, e.Path, e.Class, s.Headers.Certificate)}
		}
	}
	return observed, nil
}

func checkCertificateExempt(s Subject, o Observation) (bool, *violation) {
	observed := false
	for i, e := range operatorEntries(o) {
		mustNot := e.Class == ClassCredentialRequest || o.Kind == ScenarioStatus || (i == 0 && e.Class == ClassOperatorGet)
		if !mustNot || o.Injected {
			continue
		}
		observed = true
		if e.Certificate != nil {
			return true, &violation{"sent-on-exempt", fmt.Sprintf("%s %s (%s) carries a certificate it needs not", e.Method, e.Path, e.Class)}
		}
	}
	return observed, nil
}

func checkCertificateValid(s Subject, o Observation) (bool, *violation) {
	if o.Injected {
		return false, nil
	}
	observed := false
	for _, e := range o.Entries {
		if e.Certificate == nil || e.Certificate.Verdict == Unjudged {
			continue // a recording proxy cannot judge a real operator's certificates
		}
		observed = true
		if e.Certificate.Verdict != "valid" {
			return true, &violation{e.Certificate.Verdict, fmt.Sprintf("%s %s carried certificate %s, judged %s", e.Method, e.Path, e.Certificate.Fingerprint, e.Certificate.Verdict)}
		}
		if o.ClientUserID != "" && e.Certificate.UserID != o.ClientUserID {
			return true, &violation{"wrong-key", fmt.Sprintf("%s %s carried a certificate for user %s, the client's key is %s", e.Method, e.Path, e.Certificate.UserID, o.ClientUserID)}
		}
	}
	return observed, nil
}

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

func checkIdentity(s Subject, o Observation) (bool, *violation) {
	if o.Kind == ScenarioTakeover {
		return false, nil // the harness's probe, not the client
	}
	every := !s.ClientVersion.LessThan(everyRequest)
	cleaned := !s.ClientVersion.LessThan(identityCleaned)
	roles := []struct{ name, raw string }{{s.Headers.Name, ""}, {s.Headers.Hostname, ""}}
	if s.Identity != nil {
		roles[0].raw, roles[1].raw = s.Identity.Name, s.Identity.Hostname
	}
	observed := false
	for _, e := range o.Entries {
		// presence is judged on what reaches the operator, cleanliness on every request
		must := e.Class.IsOperator() && (every || (!s.ClientVersion.LessThan(identityOnConnects) && e.Class.IsConnect()))
		for _, role := range roles {
			if role.name == "" {
				continue
			}
			vs := values(e, role.name)
			if must {
				observed = true
				if len(vs) == 0 && mustSend(s, role.raw) {
					return true, &violation{"missing", fmt.Sprintf("%s %s (%s) carries no %s", e.Method, e.Path, e.Class, role.name)}
				}
			}
			for _, v := range vs {
				if !cleaned {
					continue
				}
				observed = true
				if !cleanedValue(v) {
					return true, &violation{"not-cleaned", fmt.Sprintf("%s %q on %s is not cleaned", role.name, v, e.Class)}
				}
			}
		}
	}
	return observed, nil
}

// mustSend reports whether the cell's client must send an identity header whose raw value
// is raw: always, unless the harness knows the value and the version's rules leave it out.
func mustSend(s Subject, raw string) bool {
	if s.Identity == nil {
		return true
	}
	_, sent := IdentityValue(s.ClientVersion, raw)
	return sent
}

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

func checkCompat(s Subject, o Observation) (bool, *violation) {
	switch o.Kind {
	case ScenarioStatus, ScenarioLs:
	case ScenarioExec:
		if s.OperatorVersion.LessThan(semver.MustParse("3.46.0-0")) {
			return false, nil // operators before client certificates cannot serve exec to new clients
		}
	default:
		return false, nil
	}
	if o.Err != "" {
		return true, &violation{"failed", fmt.Sprintf("%s failed: %s", o.Kind, o.Err)}
	}
	return true, nil
}

// checkProbe judges the operator probe: a request served bare must be served with the
// contract's headers and an unknown one too.
func checkProbe(o Observation, reason string) (bool, *violation) {
	for _, p := range o.Probes {
		if p.refusedForHeaders() {
			return true, &violation{reason, fmt.Sprintf("GET %s was answered %d without the contract's headers, %d with them and one the operator cannot know", p.Path, p.Codes[0], p.Codes[1])}
		}
	}
	return len(o.Probes) > 0, nil
}

// checkOldOperator judges the clients' scenarios and the operator probe.
func checkOldOperator(s Subject, o Observation) (bool, *violation) {
	if o.Kind == ScenarioProbe {
		return checkProbe(o, "failed")
	}
	return checkCompat(s, o)
}

// checkUnknownHeaders is judged by the operator probe alone: how the operator answers with
// and without headers it does not know, whatever it says in its refusal.
func checkUnknownHeaders(s Subject, o Observation) (bool, *violation) {
	if o.Kind != ScenarioProbe {
		return false, nil
	}
	return checkProbe(o, "refused-unknown-header")
}

func checkGolden(s Subject, observations []Observation) Finding {
	if s.Golden == nil {
		note := s.GoldenNote
		if note == "" {
			note = "no golden journal for this client version; record one with make add-client"
		}
		return Finding{Status: Skip, Reason: NoGoldenJournal, Detail: note}
	}
	have := Golden(s.ClientVersion.Original(), s.OperatorVersion.Original(), s.Headers, observations)
	if diff := have.Diff(*s.Golden); len(diff) > 0 {
		return Finding{Status: Fail, Reason: "drift", Detail: strings.Join(diff, "; "), Scenario: "golden"}
	}
	return Finding{Status: Pass}
}

// concurrentRuns splits requests, in the order they were sent, into runs of requests that
// were under way at once: each starts before an earlier one of its run was answered.
func concurrentRuns(sent []Entry) [][]Entry {
	var runs [][]Entry
	var end time.Time
	for _, e := range sent {
		if len(runs) > 0 && e.Time.Before(end) {
			runs[len(runs)-1] = append(runs[len(runs)-1], e)
		} else {
			runs = append(runs, []Entry{e})
		}
		if done := e.Time.Add(e.Duration); done.After(end) {
			end = done
		}
	}
	return runs
}

// unmatched is the first entry of window not used yet with want's method and path, or -1.
func unmatched(window []Entry, used []bool, want Entry) int {
	for k, e := range window {
		if !used[k] && e.Method == want.Method && e.Path == want.Path {
			return k
		}
	}
	return -1
}

// checkJournalComplete compares what the client sent, as the harness recorded it on the
// client's side, with what the operator journalled: every operator request, in order, with
// the same method, path and contract headers (certificates by fingerprint).
func checkJournalComplete(s Subject, o Observation) (bool, *violation) {
	if o.Sent == nil {
		return false, nil
	}
	if o.Dropped > 0 {
		return true, &violation{"journal-dropped", fmt.Sprintf("the operator's journal dropped %d entries during this scenario: it is not judged as if it were whole (raise the fake operator's --journal-capacity)", o.Dropped)}
	}
	// a request that got no answer (a timeout, a broken connection) may never have
	// reached the operator: the harness cannot hold its journal to it
	sent := where(o.Sent, func(e Entry) bool { return e.Class.IsOperator() && e.Code != 0 })
	seen := operatorEntries(o)
	pos := 0
	for _, group := range concurrentRuns(sent) {
		// requests that were under way at once reach the operator in any order: a run of
		// them is matched with as many journal entries, whatever their order there
		window := seen[pos:min(pos+len(group), len(seen))]
		used := make([]bool, len(window))
		for j, want := range group {
			k := unmatched(window, used, want)
			if k < 0 {
				i := pos + j
				got := "nothing"
				if i < len(seen) {
					got = seen[i].Method + " " + seen[i].Path
				}
				return true, &violation{"missing-request", fmt.Sprintf("the client's request %d of %d, %s %s (%s), is not in the operator's journal (it has %s there)", i+1, len(sent), want.Method, want.Path, want.Class, got)}
			}
			used[k] = true
			for _, name := range s.Headers.Contract() {
				if a, b := strings.Join(values(want, name), ","), strings.Join(values(window[k], name), ","); a != b {
					return true, &violation{"altered", fmt.Sprintf("%s %s left the client with %s %q, the operator's journal has %q", want.Method, want.Path, name, a, b)}
				}
			}
		}
		pos += len(group)
	}
	if len(seen) > len(sent) {
		extra := seen[len(sent)]
		return true, &violation{"extra-request", fmt.Sprintf("the operator's journal has %d operator requests, the client sent %d; the first it did not send: %s %s", len(seen), len(sent), extra.Method, extra.Path)}
	}
	return len(sent) > 0, nil
}

package contract

import (
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	. "github.com/onsi/gomega"
)

var h = MirrordHeaders()

func entry(class Class, hdrs map[string][]string, mods ...func(*Entry)) Entry {
	e := Entry{Class: class, Method: "GET", Path: "/p", Headers: hdrs, Decision: DecisionServed, Code: 200}
	for _, m := range mods {
		m(&e)
	}
	return e
}

func withCert(verdict string) func(*Entry) {
	return func(e *Entry) {
		e.Certificate = &CertificateVerdict{Fingerprint: "sha256:aa", Verdict: verdict, UserID: "u1"}
	}
}

func refused(reason, msg string, code int) func(*Entry) {
	return func(e *Entry) { e.Decision, e.Reason, e.Message, e.Code = DecisionRefused, reason, msg, code }
}

func v(s string) *semver.Version { return semver.MustParse(s) }

func find(t *testing.T, s Subject, obs []Observation, id RequirementID) Finding {
	t.Helper()
	fs, err := Evaluate(s, obs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Requirement == id {
			return f
		}
	}
	t.Fatalf("no finding for %s", id)
	return Finding{}
}

func TestEvaluate(t *testing.T) {
	cur := Subject{ClientVersion: v("3.250.0"), OperatorVersion: v("3.250.0")}
	ver := map[string][]string{"x-mirrord-cli-version": {"3.250.0"}}
	sid := func(id string) map[string][]string {
		return map[string][]string{"x-mirrord-cli-version": {"3.250.0"}, "x-session-id": {id}}
	}
	for _, tc := range []struct {
		name    string
		subject Subject
		obs     Observation
		req     RequirementID
		status  Status
		reason  string
	}{
		{"version ok", cur, Observation{Kind: ScenarioStatus, Entries: []Entry{entry(ClassOperatorGet, ver)}}, ReqVersionHeader, Pass, ""},
		{"version missing", cur, Observation{Kind: ScenarioStatus, Entries: []Entry{entry(ClassOperatorGet, nil)}}, ReqVersionHeader, Fail, "missing"},
		{"version v-prefixed", cur, Observation{Kind: ScenarioStatus, Entries: []Entry{entry(ClassOperatorGet, map[string][]string{"x-mirrord-cli-version": {"v3.250.0"}})}}, ReqVersionHeader, Fail, "not-semver"},
		{"version not gated for old clients", Subject{ClientVersion: v("3.100.0"), OperatorVersion: v("3.250.0")}, Observation{Kind: ScenarioStatus, Entries: []Entry{entry(ClassOperatorGet, nil)}}, ReqVersionHeader, Skip, "not-applicable"},
		{"mirrord queues' plain client: a true finding", cur, Observation{Kind: ScenarioStatus, Entries: []Entry{entry(ClassQueueSplitList, nil)}}, ReqVersionHeader, Fail, "missing"},
		{"mirrord subscribe's plain client", cur, Observation{Kind: ScenarioStatus, Entries: []Entry{entry(ClassEventWatch, nil)}}, ReqIdentityClean, Fail, "missing"},
		{"core reads are not operator requests", cur, Observation{Kind: ScenarioLs, Entries: []Entry{entry(ClassCoreRead, nil)}}, ReqVersionHeader, Skip, "not-observed"},
		{"certificate missing on connect", cur, Observation{Kind: ScenarioExec, Entries: []Entry{entry(ClassOperatorGet, ver), entry(ClassTargetConnect, sid("1"))}}, ReqCertificateHeader, Fail, "missing"},
		{"certificate on connect", cur, Observation{Kind: ScenarioExec, Entries: []Entry{entry(ClassOperatorGet, ver), entry(ClassCredentialRequest, ver), entry(ClassTargetConnect, sid("1"), withCert("valid"))}}, ReqCertificateHeader, Pass, ""},
		{"certificate on exempt request", cur, Observation{Kind: ScenarioLs, Entries: []Entry{entry(ClassOperatorGet, ver), entry(ClassCredentialRequest, ver, withCert("valid"))}}, ReqCertificateExempt, Fail, "sent-on-exempt"},
		{"expired certificate sent", cur, Observation{Kind: ScenarioExecStale, Entries: []Entry{entry(ClassTargetConnect, sid("1"), withCert("CertificateExpired"))}}, ReqCertificateValid, Fail, "CertificateExpired"},
		{"certificate of another key", cur, Observation{Kind: ScenarioExec, ClientUserID: "u2", Entries: []Entry{entry(ClassTargetConnect, sid("1"), withCert("valid"))}}, ReqCertificateValid, Fail, "wrong-key"},
		{"session id hex", cur, Observation{Kind: ScenarioExec, Entries: []Entry{entry(ClassTargetConnect, sid("ABC"))}}, ReqSessionID, Fail, "not-decimal-u64"},
		{"session id changed", cur, Observation{Kind: ScenarioExec, Entries: []Entry{entry(ClassTargetConnect, sid("1")), entry(ClassTargetConnect, sid("2"))}}, ReqSessionStable, Fail, "changed"},
		{"takeover accepted", cur, Observation{Kind: ScenarioTakeover, Entries: []Entry{entry(ClassTargetConnect, sid("1"), withCert("valid"))}}, ReqSessionCertificate, Fail, "takeover-accepted"},
		{"takeover refused", cur, Observation{Kind: ScenarioTakeover, Entries: []Entry{entry(ClassTargetConnect, sid("1"), withCert("valid"), refused("SessionCertificateMismatch", "", 403))}}, ReqSessionCertificate, Pass, ""},
		{"identity not cleaned", cur, Observation{Kind: ScenarioStatus, Entries: []Entry{entry(ClassOperatorGet, map[string][]string{"x-client-name": {"José"}})}}, ReqIdentityClean, Fail, "not-cleaned"},
		{"fixture served", cur, Observation{Kind: ScenarioFixture, Injected: true, ExpectRefusal: true, Entries: []Entry{entry(ClassOperatorGet, ver), entry(ClassTargetConnect, sid("1"), withCert("CertificateExpired"), func(e *Entry) { e.Code = 101 })}}, ReqEarlyRefusal, Fail, "not-refused"},
		{"fixture refused", cur, Observation{Kind: ScenarioFixture, Injected: true, ExpectRefusal: true, Entries: []Entry{entry(ClassOperatorGet, ver), entry(ClassTargetConnect, sid("1"), withCert("CertificateExpired"), refused("CertificateExpired", "header x-client-der: certificate expired", 401))}}, ReqEarlyRefusal, Pass, ""},
		{"valid fixture refused", cur, Observation{Kind: ScenarioFixture, Injected: true, Entries: []Entry{entry(ClassTargetConnect, sid("1"), withCert("valid"), refused("CertificateExpired", "", 401))}}, ReqEarlyRefusal, Fail, "valid-refused"},
		{"requests after refusal", cur, Observation{Kind: ScenarioExec, Output: "header x-client-der, reason CertificateExpired", Entries: []Entry{entry(ClassTargetConnect, sid("1"), refused("CertificateExpired", "header x-client-der: certificate expired", 401)), entry(ClassDiscovery, nil)}}, ReqStopAfterRefusal, Fail, "requests-after-refusal"},
		{"refusal not reported", cur, Observation{Kind: ScenarioExec, Err: "boom", Entries: []Entry{entry(ClassTargetConnect, sid("1"), refused("CertificateExpired", "header x-client-der: certificate expired", 401))}}, ReqStopAfterRefusal, Fail, "unclear-error"},
		{"minimum named", Subject{ClientVersion: v("3.100.0"), OperatorVersion: v("3.250.0"), MinClientVersion: v("3.200.0")}, Observation{Kind: ScenarioStatus, Output: "install mirrord 3.200.0 or later", Entries: []Entry{entry(ClassOperatorGet, nil, refused("ClientVersionTooOld", "header x-mirrord-cli-version: install 3.200.0", 403))}}, ReqMinimumVersionNamed, Pass, ""},
		{"minimum not named", Subject{ClientVersion: v("3.100.0"), OperatorVersion: v("3.250.0"), MinClientVersion: v("3.200.0")}, Observation{Kind: ScenarioStatus, Entries: []Entry{entry(ClassOperatorGet, nil, refused("ClientVersionTooOld", "header x-mirrord-cli-version: too old", 403))}}, ReqMinimumVersionNamed, Fail, "operator-silent"},
		{"old operator fails new client", Subject{ClientVersion: v("3.250.0"), OperatorVersion: v("3.100.0")}, Observation{Kind: ScenarioStatus, Err: "refused", Entries: []Entry{entry(ClassOperatorGet, ver)}}, ReqOldOperatorCompat, Fail, "failed"},
		{"refusal without a Status", cur, Observation{Kind: ScenarioFixture, Injected: true, ExpectRefusal: true, Entries: []Entry{entry(ClassOperatorGet, ver), entry(ClassTargetConnect, sid("1"), withCert("CertificateExpired"), refused("", "header x-client-der: certificate expired", 401))}}, ReqEarlyRefusal, Fail, "refusal-not-status"},
		{"refusal naming no header", cur, Observation{Kind: ScenarioFixture, Injected: true, ExpectRefusal: true, Entries: []Entry{entry(ClassOperatorGet, ver), entry(ClassTargetConnect, sid("1"), withCert("CertificateExpired"), refused("Unauthorized", "go away", 401))}}, ReqEarlyRefusal, Fail, "refusal-not-status"},
		{"a malformed refusal does not judge the client", cur, Observation{Kind: ScenarioExec, Err: "boom", Entries: []Entry{entry(ClassTargetConnect, sid("1"), refused("", "go away", 401)), entry(ClassDiscovery, nil)}}, ReqStopAfterRefusal, Skip, "not-observed"},
		{"identity missing", cur, Observation{Kind: ScenarioStatus, Entries: []Entry{entry(ClassOperatorGet, map[string][]string{"x-client-name": {"Jose"}})}}, ReqIdentityClean, Fail, "missing"},
		{"identity on every request", cur, Observation{Kind: ScenarioStatus, Entries: []Entry{entry(ClassOperatorGet, map[string][]string{"x-client-name": {"Jose"}, "x-client-hostname": {"laptop"}})}}, ReqIdentityClean, Pass, ""},
		{"identity on connects only before 3.109.0", Subject{ClientVersion: v("3.85.0"), OperatorVersion: v("3.250.0")}, Observation{Kind: ScenarioExec, Entries: []Entry{entry(ClassOperatorGet, nil), entry(ClassTargetConnect, map[string][]string{"x-client-name": {"José"}, "x-client-hostname": {"laptop"}})}}, ReqIdentityClean, Pass, ""},
		{"identity missing on a connect", Subject{ClientVersion: v("3.85.0"), OperatorVersion: v("3.250.0")}, Observation{Kind: ScenarioExec, Entries: []Entry{entry(ClassTargetConnect, map[string][]string{"x-client-name": {"Jose"}})}}, ReqIdentityClean, Fail, "missing"},
		{"identity not judged before 3.85.0", Subject{ClientVersion: v("3.46.0"), OperatorVersion: v("3.250.0")}, Observation{Kind: ScenarioExec, Entries: []Entry{entry(ClassTargetConnect, nil)}}, ReqIdentityClean, Skip, "not-applicable"},
		{"probe: refused with the headers", cur, Observation{Kind: ScenarioProbe, Probes: []ProbeAnswer{{Path: "/a", Codes: [2]int{200, 200}}, {Path: "/b", Codes: [2]int{200, 400}}}}, ReqUnknownHeadersIgnored, Fail, "refused-unknown-header"},
		{"probe: served alike", cur, Observation{Kind: ScenarioProbe, Probes: []ProbeAnswer{{Path: "/a", Codes: [2]int{200, 200}}, {Path: "/c", Connect: true, Codes: [2]int{401, 101}}}}, ReqUnknownHeadersIgnored, Pass, ""},
		{"probe: refused alike", cur, Observation{Kind: ScenarioProbe, Probes: []ProbeAnswer{{Path: "/a", Codes: [2]int{403, 403}}}}, ReqUnknownHeadersIgnored, Pass, ""},
		{"a refusal's reason string is not the judge", cur, Observation{Kind: ScenarioStatus, Entries: []Entry{entry(ClassOperatorGet, ver, refused("UnknownHeader", "header x", 400))}}, ReqUnknownHeadersIgnored, Skip, "not-observed"},
		{"probe: an old operator refuses new headers", Subject{ClientVersion: v("3.250.0"), OperatorVersion: v("3.100.0")}, Observation{Kind: ScenarioProbe, Probes: []ProbeAnswer{{Path: "/a", Codes: [2]int{200, 400}}}}, ReqOldOperatorCompat, Fail, "failed"},
		{"the probe is no client", cur, Observation{Kind: ScenarioProbe, Entries: []Entry{entry(ClassOperatorGet, nil)}, Probes: []ProbeAnswer{{Path: "/a", Codes: [2]int{200, 200}}}}, ReqVersionHeader, Skip, "not-observed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.obs.Name = tc.obs.Kind
			f := find(t, tc.subject, []Observation{tc.obs}, tc.req)
			NewWithT(t).Expect(f.Status).To(Equal(tc.status), "%+v", f)
			NewWithT(t).Expect(f.Reason).To(Equal(tc.reason), "%+v", f)
		})
	}
}

func TestRequirementsAreWellFormed(t *testing.T) {
	g := NewWithT(t)
	seen := map[RequirementID]bool{}
	for _, r := range Requirements() {
		g.Expect(seen[r.ID]).To(BeFalse(), "unique %s", r.ID)
		seen[r.ID] = true
		g.Expect((r.judge != nil) != (r.judgeCell != nil)).To(BeTrue(), "%s has one judge: of a scenario or of the cell", r.ID)
		g.Expect(r.Sentence).NotTo(BeEmpty())
		g.Expect(r.Sides).NotTo(BeEmpty(), "%s names the sides that can break it", r.ID)
		_, err := r.Applies(v("3.250.0"), v("3.250.0"), nil)
		g.Expect(err).NotTo(HaveOccurred())
	}
}

// concurrent returns the entries as sent at once: each starts before the first is answered.
func concurrent(entries ...Entry) []Entry {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	out := make([]Entry, len(entries))
	for i, e := range entries {
		e.Time, e.Duration = start.Add(time.Duration(i)*time.Millisecond), time.Second
		out[i] = e
	}
	return out
}

func TestJournalComplete(t *testing.T) {
	cur := Subject{ClientVersion: v("3.250.0"), OperatorVersion: v("3.250.0")}
	ver := map[string][]string{"x-mirrord-cli-version": {"3.250.0"}}
	get, cred := entry(ClassOperatorGet, ver), entry(ClassCredentialRequest, ver, func(e *Entry) { e.Method, e.Path = "POST", "/c" })
	core := entry(ClassCoreRead, nil)
	for _, tc := range []struct {
		name          string
		sent, journal []Entry
		dropped       uint64
		status        Status
		reason        string
	}{
		{"the same requests", []Entry{get, core, cred}, []Entry{get, cred}, 0, Pass, ""},
		{"a request missing", []Entry{get, cred}, []Entry{get}, 0, Fail, "missing-request"},
		{"a request the client did not send", []Entry{get}, []Entry{get, cred}, 0, Fail, "extra-request"},
		{"a header altered", []Entry{get}, []Entry{entry(ClassOperatorGet, map[string][]string{"x-mirrord-cli-version": {"3.0.0"}})}, 0, Fail, "altered"},
		{"a journal that dropped entries", []Entry{get}, []Entry{get}, 3, Fail, "journal-dropped"},
		{"nothing recorded by the harness", nil, []Entry{get}, 0, Skip, "not-observed"},
		{"requests under way at once reach the operator in any order", concurrent(get, cred), []Entry{cred, get}, 0, Pass, ""},
		{"one after the other they keep their order", []Entry{get, cred}, []Entry{cred, get}, 0, Fail, "missing-request"},
		{"a request that got no answer may not have reached the operator", []Entry{get, entry(ClassTargetConnect, ver, func(e *Entry) { e.Code = 0 })}, []Entry{get}, 0, Pass, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Observation{Kind: ScenarioLs, Name: "ls", Sent: tc.sent, Entries: tc.journal, Dropped: tc.dropped}
			f := find(t, cur, []Observation{o}, ReqJournalComplete)
			NewWithT(t).Expect(f.Status).To(Equal(tc.status), "%+v", f)
			NewWithT(t).Expect(f.Reason).To(Equal(tc.reason), "%+v", f)
		})
	}
}

// TestRootCauseFirst: a refused first connect keeps the session checks from being judged;
// they are not observed, under the failure that came first.
func TestRootCauseFirst(t *testing.T) {
	g := NewWithT(t)
	cur := Subject{ClientVersion: v("3.250.0"), OperatorVersion: v("3.250.0")}
	ver := map[string][]string{"x-mirrord-cli-version": {"3.250.0"}, "x-client-name": {"Jose"}, "x-client-hostname": {"laptop"}}
	connect := map[string][]string{"x-mirrord-cli-version": {"3.250.0"}, "x-client-name": {"Jose"}, "x-client-hostname": {"laptop"}, "x-session-id": {"1"}}
	exec := Observation{Kind: ScenarioExec, Name: "exec", Err: "connect refused: header x-client-der, reason CertificateMissing",
		Output:  "connect refused: header x-client-der, reason CertificateMissing",
		Entries: []Entry{entry(ClassOperatorGet, ver), entry(ClassTargetConnect, connect, refused("CertificateMissing", "header x-client-der is required", 401))}}
	fs, err := Evaluate(cur, []Observation{exec})
	g.Expect(err).NotTo(HaveOccurred())
	byID := map[RequirementID]Finding{}
	for _, f := range fs {
		byID[f.Requirement] = f
	}
	g.Expect(byID[ReqCertificateHeader].Status).To(Equal(Fail), "the root cause")
	stable := byID[ReqSessionStable]
	g.Expect(stable.Status).To(Equal(Skip), "never a pass, never a failure of its own")
	g.Expect(stable.Reason).To(Equal(NotObserved))
	g.Expect(stable.PreventedBy).To(Equal(ReqCertificateHeader))
	g.Expect(stable.Detail).To(Equal("not observed: scenario exec ended early (connect refused: header x-client-der, reason CertificateMissing) after HDR-CERTIFICATE failed"))
	g.Expect(byID[ReqStopAfterRefusal].Status).To(Equal(Pass), "what could be judged is judged")

	exec.Err, exec.Output = "", ""
	fs, _ = Evaluate(cur, []Observation{exec})
	for _, f := range fs {
		g.Expect(f.PreventedBy).To(BeEmpty(), "no scenario ended early: nothing was prevented (%s)", f.Requirement)
	}
}

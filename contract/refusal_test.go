package contract

import (
	"os"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestRefusalNamedBy holds "the client names the header and the reason" to what clients
// print, the released mirrord CLI's own wording among them (testdata/README.md).
func TestRefusalNamedBy(t *testing.T) {
	minimum := Refusal{Code: 403, Reason: "ClientVersionTooOld", Header: "x-mirrord-cli-version",
		Message: "header x-mirrord-cli-version: the client is version 3.164.0; this operator (3.250.0) serves clients from 3.200.0 on: install mirrord 3.200.0 or later"}
	expired := Refusal{Code: 401, Reason: "CertificateExpired", Header: "x-client-der",
		Message: "header x-client-der: certificate sha256:5d41402abc4b2a76b9719d911017c592: expired at 2026-12-02T05:00:00Z"}
	for _, tc := range []struct {
		name    string
		refusal Refusal
		output  string
		named   bool
	}{
		{"the real CLI's 403: the message inside a line, no reason, help text after it", minimum, readTestdata(t, "real-cli-3.250.0-forbidden.txt"), true},
		{"the real CLI's 401: message and reason in kube's ApiError", expired, readTestdata(t, "real-cli-3.250.0-unauthorized.txt"), true},
		{"the reference client: header and reason named", expired, "opclient: the operator refused the client certificate (header x-client-der, reason CertificateExpired: …): check this machine's clock", true},
		{"a message wrapped over lines", expired, "error: header x-client-der: certificate\n  sha256:5d41402abc4b2a76b9719d911017c592: expired at 2026-12-02T05:00:00Z", true},
		{"the reason without the header", expired, "error: CertificateExpired", false},
		{"the header without the reason", expired, "error: something is wrong with x-client-der", false},
		{"only the help text's last line", expired, ">> Or email us at hi@metalbear.com", false},
		{"nothing", expired, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			NewWithT(t).Expect(tc.refusal.NamedBy(tc.output)).To(Equal(tc.named))
		})
	}
	g := NewWithT(t)
	g.Expect(NamesVersion(readTestdata(t, "real-cli-3.250.0-forbidden.txt"), "3.200.0")).To(BeTrue(), "the real CLI passes the minimum version on in the operator's message")
	g.Expect(NamesVersion("install mirrord  or later", "3.200.0")).To(BeFalse())
}

// TestReceivedRefusal: a refusal is what the client received, read on its side of the wire
// where the harness has that side; the operator's journal speaks only where it has not.
func TestReceivedRefusal(t *testing.T) {
	headers := MirrordHeaders().Contract()
	status := func(code int, reason, message string) *Answer {
		return NewAnswer("application/json", &AnswerStatus{Code: code, Reason: reason, Message: message}, nil)
	}
	received := func(code int, a *Answer) Entry {
		return Entry{Method: "GET", Path: "/p", Code: code, Decision: DecisionServed, Answer: a}
	}
	for _, tc := range []struct {
		name  string
		entry Entry
		want  string // the reason, "" for no refusal
	}{
		{"a Status naming a header", received(401, status(401, "CertificateExpired", "header x-client-der: expired")), "CertificateExpired"},
		{"a plain-text body, whatever the operator journalled", func() Entry {
			e := received(403, NewAnswer("text/plain; charset=utf-8", nil, []byte("header x-client-der: expired\n")))
			e.Decision, e.Reason, e.Message = DecisionRefused, "CertificateExpired", "header x-client-der: expired"
			return e
		}(), ""},
		{"a Status in a body labelled as text", received(401, NewAnswer("text/plain", &AnswerStatus{Code: 401, Reason: "CertificateExpired", Message: "header x-client-der: expired"}, nil)), ""},
		{"a Status that names no header", received(404, status(404, "NotFound", "deployments \"x\" not found")), ""},
		{"a Status without a reason", received(401, status(401, "", "header x-client-der: expired")), ""},
		{"a 5xx is no refusal", received(500, status(500, "InternalError", "header x-client-der: oops")), ""},
		{"a refused upgrade: no content type seen, the Status decoded", received(401, NewAnswer("", &AnswerStatus{Reason: "CertificateMissing", Message: "header x-client-der is required"}, nil)), "CertificateMissing"},
		{"no client-side record: the journal's decision", Entry{Code: 403, Decision: DecisionRefused, Reason: "ClientVersionTooOld", Message: "header x-mirrord-cli-version: too old"}, "ClientVersionTooOld"},
		{"a success", received(200, nil), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.entry.ReceivedRefusal(headers)
			if tc.want == "" {
				NewWithT(t).Expect(r).To(BeNil())
				return
			}
			NewWithT(t).Expect(r).NotTo(BeNil())
			NewWithT(t).Expect(r.Reason).To(Equal(tc.want))
		})
	}
	long := NewAnswer("text/html", nil, []byte(string(make([]byte, 1000))))
	NewWithT(t).Expect(len(long.Body)).To(Equal(MaxAnswerBody), "what is kept of a body is bounded")
}

// TestRefusalsAsTheClientReceivedThem: the client-side record judges the refusal, on both
// sides of the contract.
func TestRefusalsAsTheClientReceivedThem(t *testing.T) {
	cur := Subject{ClientVersion: v("3.250.0"), OperatorVersion: v("3.250.0")}
	ver := map[string][]string{"x-mirrord-cli-version": {"3.250.0"}}
	msg := "header x-client-der: certificate sha256:aa: expired"
	journalRefused := entry(ClassTargetConnect, ver, withCert("CertificateExpired"), refused("CertificateExpired", msg, 403))
	plain := NewAnswer("text/plain; charset=utf-8", nil, []byte(msg))
	asStatus := NewAnswer("application/json", &AnswerStatus{Code: 403, Reason: "CertificateExpired", Message: msg}, nil)
	sent := func(a *Answer) []Entry {
		c := journalRefused
		c.Decision, c.Reason, c.Message, c.Answer = DecisionServed, "", "", a
		return []Entry{entry(ClassOperatorGet, ver), c}
	}
	get := entry(ClassOperatorGet, ver)
	refusedGet := func(a *Answer) Entry {
		e := entry(ClassOperatorGet, ver)
		e.Code, e.Answer = 403, a
		return e
	}
	discovery := entry(ClassOperatorDiscovery, ver)
	versionRefusal := NewAnswer("application/json", &AnswerStatus{Code: 403, Reason: "ClientVersionTooOld", Message: "header x-mirrord-cli-version: the client is version 3.164.0; this operator (3.250.0) serves clients from 3.200.0 on: install mirrord 3.200.0 or later"}, nil)
	for _, tc := range []struct {
		name   string
		obs    Observation
		req    RequirementID
		status Status
		reason string
	}{
		{"an operator that sends plain text but journals a Status fails on its side", Observation{Kind: ScenarioFixture, Injected: true, ExpectRefusal: true,
			Entries: []Entry{get, journalRefused}, Sent: sent(plain)}, ReqEarlyRefusal, Fail, "refusal-not-status"},
		{"… and the client is not blamed for not naming a reason it was never sent", Observation{Kind: ScenarioFixture, Injected: true, ExpectRefusal: true, Err: "exit status 1",
			Entries: []Entry{get, journalRefused}, Sent: sent(plain)}, ReqStopAfterRefusal, Skip, NotObserved},
		{"a Status received is a refusal", Observation{Kind: ScenarioFixture, Injected: true, ExpectRefusal: true,
			Entries: []Entry{get, journalRefused}, Sent: sent(asStatus)}, ReqEarlyRefusal, Pass, ""},
		{"the real CLI's discovery after a refused operator GET is part of failing", Observation{Kind: ScenarioStatus, Output: readTestdata(t, "real-cli-3.250.0-forbidden.txt"),
			Sent: []Entry{refusedGet(versionRefusal), discovery}}, ReqStopAfterRefusal, Pass, ""},
		{"only that one", Observation{Kind: ScenarioStatus, Output: readTestdata(t, "real-cli-3.250.0-forbidden.txt"),
			Sent: []Entry{refusedGet(versionRefusal), discovery, discovery}}, ReqStopAfterRefusal, Fail, "requests-after-refusal"},
		{"and only after a refused operator GET", Observation{Kind: ScenarioExec, Output: msg + " CertificateExpired",
			Sent: []Entry{get, sent(asStatus)[1], discovery}}, ReqStopAfterRefusal, Fail, "requests-after-refusal"},
		{"the real CLI passes the minimum version on", Observation{Kind: ScenarioStatus, Output: readTestdata(t, "real-cli-3.250.0-forbidden.txt"),
			Sent: []Entry{refusedGet(versionRefusal), discovery}}, ReqMinimumVersionNamed, Pass, ""},
		{"a client that prints only the help text", Observation{Kind: ScenarioStatus, Output: ">> Or email us at hi@metalbear.com",
			Sent: []Entry{refusedGet(versionRefusal), discovery}}, ReqStopAfterRefusal, Fail, "unclear-error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.obs.Name = tc.obs.Kind
			s := cur
			if tc.req == ReqMinimumVersionNamed {
				s.ClientVersion, s.MinClientVersion = v("3.164.0"), v("3.200.0")
			}
			f := find(t, s, []Observation{tc.obs}, tc.req)
			NewWithT(t).Expect(f.Status).To(Equal(tc.status), "%+v", f)
			NewWithT(t).Expect(f.Reason).To(Equal(tc.reason), "%+v", f)
		})
	}
}

// TestEarlyRefusalByOperatorVersion: operators before 3.109.0 check the certificate on
// target connects only, so a client that sends it on an earlier request (the target GET of a
// 3.109.0 client) is refused at the latest on the connect.
func TestEarlyRefusalByOperatorVersion(t *testing.T) {
	ver := map[string][]string{"x-mirrord-cli-version": {"3.109.0"}}
	served := entry(ClassTargetGet, ver, withCert("CertificateExpired"))
	refusedConnect := entry(ClassTargetConnect, ver, withCert("CertificateExpired"), refused("CertificateExpired", "header x-client-der: expired", 401))
	o := Observation{Kind: ScenarioFixture, Name: "fixture", Injected: true, ExpectRefusal: true, Entries: []Entry{entry(ClassOperatorGet, ver), served, refusedConnect}}
	legacy := Subject{ClientVersion: v("3.109.0"), OperatorVersion: v("3.100.0")}
	NewWithT(t).Expect(find(t, legacy, []Observation{o}, ReqEarlyRefusal).Status).To(Equal(Pass))
	current := Subject{ClientVersion: v("3.109.0"), OperatorVersion: v("3.109.0")}
	f := find(t, current, []Observation{o}, ReqEarlyRefusal)
	NewWithT(t).Expect([]any{f.Status, f.Reason}).To(Equal([]any{Fail, "not-refused"}), "from 3.109.0 the first request that carries it")
}

func TestReadAnswer(t *testing.T) {
	g := NewWithT(t)
	a := ReadAnswer("application/json", []byte(`{"kind":"Status","code":401,"reason":"CertificateExpired","message":"header x-client-der: expired"}`))
	g.Expect(a.Status).To(Equal(&AnswerStatus{Code: 401, Reason: "CertificateExpired", Message: "header x-client-der: expired"}))
	g.Expect(a.describe()).To(Equal(`content type "application/json", Status reason "CertificateExpired", message "header x-client-der: expired"`))
	plain := ReadAnswer("text/plain", []byte("forbidden\n"))
	g.Expect(plain.Status).To(BeNil())
	g.Expect(plain.describe()).To(Equal(`content type "text/plain", body "forbidden\n"`))
	g.Expect(ReadAnswer("application/json", []byte(`{"kind":"Pod"}`)).Status).To(BeNil(), "only a Status is one")
	g.Expect((*Answer)(nil).describe()).To(Equal("nothing of its answer was recorded"))
}

func TestOutputKeepsTheTail(t *testing.T) {
	g := NewWithT(t)
	var o Output
	big := strings.Repeat("x", MaxOutput)
	_, _ = o.Write([]byte("head "))
	_, _ = o.Write([]byte(big))
	_, _ = o.Write([]byte(" Error: the end"))
	g.Expect(o.String()).To(HaveLen(MaxOutput))
	g.Expect(o.String()).To(HaveSuffix(" Error: the end"))
	g.Expect(o.String()).NotTo(HavePrefix("head"))
}

func TestErrorLine(t *testing.T) {
	for _, tc := range []struct{ out, want string }{
		{"Error:   × mirrord operator rejected ls: expired\n  help: renew it\n", "Error:   × mirrord operator rejected ls: expired"},
		{"warming up\nsomething failed\n\n", "something failed"},
		{"error: lower case counts\nhelp", "error: lower case counts"},
	} {
		NewWithT(t).Expect(ErrorLine(tc.out)).To(Equal(tc.want))
	}
}

package contract

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestPathTemplate(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/apis/operator.metalbear.co/v1/mirrordoperators/operator", "/apis/operator.metalbear.co/v1/mirrordoperators/operator"},
		{"/apis/operator.metalbear.co/v1/namespaces/default/targets/deployment.nginx", "/apis/operator.metalbear.co/v1/namespaces/{namespace}/targets/{target}"},
		{"/apis/operator.metalbear.co/v1/namespaces/dev/copytargets/deploy.api", "/apis/operator.metalbear.co/v1/namespaces/{namespace}/copytargets/{target}"},
		{"/api/v1/namespaces/default/pods/nginx-1", "/api/v1/namespaces/{namespace}/pods/{name}"},
		{"/api/v1/namespaces/default", "/api/v1/namespaces/{name}"},
		{"/apis/operator.metalbear.co/v1/sessions/12", "/apis/operator.metalbear.co/v1/sessions/{name}"},
		{"/apis/operator.metalbear.co/v1/namespaces/a%2Fb/targets", "/apis/operator.metalbear.co/v1/namespaces/{namespace}/targets"},
	} {
		NewWithT(t).Expect(pathTemplate(tc.path)).To(Equal(tc.want), tc.path)
	}
}

func TestGoldenNormalisesAndDiffs(t *testing.T) {
	g := NewWithT(t)
	h := MirrordHeaders()
	entry := func(path string, headers map[string][]string) Entry {
		return Entry{Method: "GET", Path: path, Class: ClassOperatorGet, Headers: headers}
	}
	obs := []Observation{
		{Kind: ScenarioStatus, Name: ScenarioStatus, Entries: []Entry{entry("/apis/operator.metalbear.co/v1/mirrordoperators/operator", map[string][]string{
			h.Version: {"3.250.0"}, h.Name: {"a"}, h.Hostname: {"b"}, HeaderBaggage: {"x=1"},
		})}},
		{Kind: ScenarioExec, Name: ScenarioExec, Entries: []Entry{{Method: "GET", Path: "/apis/operator.metalbear.co/v1/namespaces/default/targets/pod.p", Class: ClassTargetConnect,
			Query: map[string][]string{"connect": {"true"}, "key": {"k"}}, Certificate: &CertificateVerdict{Verdict: "valid"},
			Headers: map[string][]string{h.Version: {"v3"}, h.Certificate: {"fp", "fp"}, h.SessionID: {"x"}, h.ConnectParams: {"Y29ubmVjdA=="}}}}},
		{Kind: ScenarioExec, Name: "exec-stale"}, // not a golden scenario's own name
		{Kind: ScenarioProbe, Name: ScenarioProbe},
	}
	got := Golden("3.250.0", "3.250.0", HeaderNames{}, obs)
	g.Expect(got.Scenarios).To(HaveLen(2), "status and exec, nothing else")
	g.Expect(got.Scenarios[0].Requests[0].Headers).To(Equal(map[string]string{h.Version: "semver", h.Name: "text", h.Hostname: "text", HeaderBaggage: "w3c-baggage"}))
	exec := got.Scenarios[1].Requests[0]
	g.Expect(exec.Query).To(Equal([]string{"connect", "key"}))
	g.Expect(exec.Path).To(Equal("/apis/operator.metalbear.co/v1/namespaces/{namespace}/targets/{target}"))
	g.Expect(exec.Headers).To(Equal(map[string]string{h.Version: "not-semver", h.Certificate: "certificate:valid×2", h.SessionID: "not-decimal", h.ConnectParams: "base64-query"}))
	g.Expect(exec.String()).To(Equal("GET /apis/operator.metalbear.co/v1/namespaces/{namespace}/targets/{target}?connect&key (target-connect) [x-client-der=certificate:valid×2 x-mirrord-cli-version=not-semver x-mirrord-connect-params=base64-query x-session-id=not-decimal]"))

	g.Expect(got.Diff(got)).To(BeEmpty(), "no drift from itself")
	want := Golden("3.250.0", "3.250.0", h, obs[:1])
	want.Scenarios = append(want.Scenarios, GoldenScenario{Name: ScenarioLs, Requests: []GoldenRequest{{Method: "GET", Path: "/x", Class: ClassTargetList}}})
	changed := got
	changed.Scenarios = []GoldenScenario{{Name: ScenarioStatus, Requests: []GoldenRequest{{Method: "POST", Path: "/y"}}}, got.Scenarios[1]}
	g.Expect(changed.Diff(want)).To(Equal([]string{
		"ls: request 1 is gone: GET /x (target-list) []",
		"status: request 1 was GET /apis/operator.metalbear.co/v1/mirrordoperators/operator (operator-get) [baggage=w3c-baggage x-client-hostname=text x-client-name=text x-mirrord-cli-version=semver], is POST /y () []",
		"exec: request 1 is new: " + exec.String(),
	}))
}

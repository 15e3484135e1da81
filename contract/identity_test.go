package contract

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestIdentityValue(t *testing.T) {
	for _, tc := range []struct {
		version, raw, value string
		sent                bool
	}{
		{"3.100.0", "José Pérez", "José Pérez", true},   // before the cleaning: as it is
		{"3.104.0", "José Pérez", "Jos Prez", true},     // cleaned
		{"3.104.0", "  laptop\t", "laptop", true},       // trimmed
		{"3.250.0", "名前", "", true},                     // only non-ASCII letters: an empty value, still sent
		{"3.108.0", "a\nb", "a\nb", true},               // still illegal: the connect request fails to build
		{"3.109.0", "a\nb", "", false},                  // from 3.109.0 left out
		{"3.250.0", "del\x7f", "", false},               // DEL is no legal header value
		{"3.250.0", "tab\tinside", "tab\tinside", true}, // a tab is
		{"3.250.0", "Laptop-7", "Laptop-7", true},       // not lower-cased
	} {
		value, sent := IdentityValue(v(tc.version), tc.raw)
		NewWithT(t).Expect([]any{value, sent}).To(Equal([]any{tc.value, tc.sent}), "%s %q", tc.version, tc.raw)
	}
}

// TestIdentityAsTheCLICleansIt: HDR-IDENTITY holds a client to its version's rules, with the
// raw identity where the harness knows it.
func TestIdentityAsTheCLICleansIt(t *testing.T) {
	ver := func(name []string, host []string) map[string][]string {
		h := map[string][]string{"x-mirrord-cli-version": {"3.250.0"}}
		if name != nil {
			h["x-client-name"] = name
		}
		if host != nil {
			h["x-client-hostname"] = host
		}
		return h
	}
	cur := Subject{ClientVersion: v("3.250.0"), OperatorVersion: v("3.250.0")}
	withIdentity := func(s Subject, name, host string) Subject {
		s.Identity = &Identity{Name: name, Hostname: host}
		return s
	}
	for _, tc := range []struct {
		name    string
		subject Subject
		headers map[string][]string
		status  Status
		reason  string
	}{
		{"an empty name is a cleaned value", withIdentity(cur, "名前", "laptop"), ver([]string{""}, []string{"laptop"}), Pass, ""},
		{"an illegal name left out is not missing from 3.109.0", withIdentity(cur, "a\nb", "laptop"), ver(nil, []string{"laptop"}), Pass, ""},
		{"a legal name left out is missing", withIdentity(cur, "Zoë", "laptop"), ver(nil, []string{"laptop"}), Fail, "missing"},
		{"without the raw identity a header left out is missing", cur, ver(nil, []string{"laptop"}), Fail, "missing"},
		{"a value with non-ASCII is not cleaned", cur, ver([]string{"Zoë"}, []string{"laptop"}), Fail, "not-cleaned"},
		{"a value with white space around is not cleaned", cur, ver([]string{" Zoe"}, []string{"laptop"}), Fail, "not-cleaned"},
		{"the unknown fallback is a value", withIdentity(cur, "unknown", "unknown"), ver([]string{"unknown"}, []string{"unknown"}), Pass, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Observation{Kind: ScenarioStatus, Name: "status", Entries: []Entry{entry(ClassOperatorGet, tc.headers)}}
			f := find(t, tc.subject, []Observation{o}, ReqIdentityClean)
			NewWithT(t).Expect(f.Status).To(Equal(tc.status), "%+v", f)
			NewWithT(t).Expect(f.Reason).To(Equal(tc.reason), "%+v", f)
		})
	}
}

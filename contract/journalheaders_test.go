package contract

import (
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
)

// TestRequestEntry: a request as it leaves a client is journalled with its class, query,
// version, session id and certificate by fingerprint; credentials never.
func TestRequestEntry(t *testing.T) {
	g := NewWithT(t)
	h := MirrordHeaders()
	req, _ := http.NewRequest("GET", "https://x/apis/operator.metalbear.co/v1/namespaces/default/targets/pod.p?connect=true", nil)
	req.Header.Set(h.Version, "3.250.0")
	req.Header.Add(h.Certificate, "DER1")
	req.Header.Add(h.Certificate, "DER2")
	req.Header.Set(h.SessionID, "42")
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("X-Odd-Header", "kept")
	fp := func(v string) string { return "fp-" + v }
	e := RequestEntry(req, h, fp)
	g.Expect(e.Class).To(Equal(ClassTargetConnect))
	g.Expect(e.Upgrade).To(BeTrue())
	g.Expect(e.ClientVersion).To(Equal("3.250.0"))
	g.Expect(e.SessionID).To(Equal("42"))
	g.Expect(e.Query).To(HaveKeyWithValue("connect", []string{"true"}))
	g.Expect(e.Certificate).To(Equal(&CertificateVerdict{Fingerprint: "fp-DER1", Verdict: Unjudged, Values: 2}))
	g.Expect(e.Headers[h.Certificate]).To(Equal([]string{"fp-DER1", "fp-DER2"}), "certificates by fingerprint only")
	g.Expect(e.Headers["authorization"]).To(Equal([]string{"<redacted>"}))
	g.Expect(e.Header("X-Odd-Header")).To(Equal("kept"))
	g.Expect(e.Header("x-missing")).To(BeEmpty())

	plain, _ := http.NewRequest("GET", "https://x/apis/operator.metalbear.co/v1/mirrordoperators/operator", nil)
	p := RequestEntry(plain, h, fp)
	g.Expect(p.Query).To(BeNil())
	g.Expect(p.Certificate).To(BeNil())
	g.Expect(p.SessionID).To(BeEmpty(), "session ids are journalled for connects")
}

func TestFilter(t *testing.T) {
	e := Entry{Class: ClassOperatorGet, Certificate: &CertificateVerdict{Fingerprint: "f"}, Headers: map[string][]string{"x-client-hostname": {"laptop"}, "x-host": {"other"}}}
	for _, tc := range []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{Fingerprint: "f"}, true},
		{Filter{Fingerprint: "g"}, false},
		{Filter{Hostname: "laptop"}, true},
		{Filter{Hostname: "other"}, false},
		{Filter{Hostname: "other", HostnameHeader: "X-Host"}, true},
		{Filter{Class: ClassOperatorGet}, true},
		{Filter{Class: ClassTargetList}, false},
	} {
		NewWithT(t).Expect(tc.f.Match(e)).To(Equal(tc.want), "%+v", tc.f)
	}
	NewWithT(t).Expect(Filter{Fingerprint: "f"}.Match(Entry{})).To(BeFalse(), "no certificate, no match")
}

func TestCanonicalNamesAreTheKeysNetHTTPStores(t *testing.T) {
	for _, names := range []HeaderNames{MirrordHeaders(), DesignNoteHeaders()} {
		canon := names.Canonical()
		h := http.Header{}
		for _, n := range names.Contract() {
			h.Set(n, "v")
		}
		for _, key := range []string{canon.Version, canon.Certificate, canon.Name, canon.Hostname, canon.Info, canon.SessionID, canon.ConnectParams} {
			if key == "" {
				continue
			}
			if _, ok := h[key]; !ok {
				t.Errorf("canonical name %q is not a key of %v", key, h)
			}
		}
		if (names.Name == "") != (canon.Name == "") {
			t.Errorf("an unused role must stay empty: %q -> %q", names.Name, canon.Name)
		}
	}
}

package fakeoperator

import (
	"github.com/opconform/opconform/contract"

	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/opconform/opconform/credentials"
)

// certCase is one presented certificate header and the refusal it must get.
type certCase struct {
	name   string
	values func(t *testing.T, s *Server) []string
	reason metav1.StatusReason // "" means accepted
}

var epoch = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func b64(der []byte) string { return base64.StdEncoding.EncodeToString(der) }

// certCases covers every refusal kind of the certificate header, plus the accepted forms.
func certCases() []certCase {
	good := func(t *testing.T, s *Server) []string { return []string{b64(validCert(t, s))} }
	return []certCase{
		{name: "valid", values: good},
		{name: "identical repeat", values: func(t *testing.T, s *Server) []string { v := good(t, s)[0]; return []string{v, v} }},
		{name: "different repeat", reason: ReasonCertificateConflict, values: func(t *testing.T, s *Server) []string {
			return []string{good(t, s)[0], good(t, s)[0]}
		}},
		{name: "empty", reason: ReasonCertificateEmpty, values: func(*testing.T, *Server) []string { return []string{""} }},
		{name: "not base64", reason: ReasonCertificateNotBase64, values: func(*testing.T, *Server) []string { return []string{"%%%not base64%%%"} }},
		{name: "unpadded base64", reason: ReasonCertificateNotBase64, values: func(t *testing.T, s *Server) []string {
			der := validCert(t, s)
			for len(der)%3 == 0 { // make sure padding would be needed
				_, der = issue(t, s.Authority(), epoch.Add(-time.Minute), epoch.Add(time.Hour))
			}
			return []string{base64.RawStdEncoding.EncodeToString(der)}
		}},
		{name: "url-safe base64", reason: ReasonCertificateNotBase64, values: func(t *testing.T, s *Server) []string {
			for {
				v := base64.URLEncoding.EncodeToString(validCert(t, s))
				if strings.ContainsAny(v, "-_") {
					return []string{v}
				}
			}
		}},
		{name: "pem instead of der", reason: ReasonCertificateNotDER, values: func(t *testing.T, s *Server) []string {
			return []string{b64(credentials.EncodeCertificatePEM(validCert(t, s)))}
		}},
		{name: "truncated der", reason: ReasonCertificateNotDER, values: func(t *testing.T, s *Server) []string {
			der := validCert(t, s)
			return []string{b64(der[:len(der)-10])}
		}},
		{name: "der but not a certificate", reason: ReasonCertificateMalformed, values: func(*testing.T, *Server) []string {
			return []string{b64([]byte{0x30, 0x03, 0x02, 0x01, 0x01})}
		}},
		{name: "foreign ca", reason: ReasonCertificateUnknownAuthority, values: func(t *testing.T, s *Server) []string {
			foreign, err := credentials.NewAuthority(s.Authority().License(), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, der := issue(t, foreign, epoch.Add(-time.Minute), epoch.Add(time.Hour))
			return []string{b64(der)}
		}},
		{name: "other licence", reason: ReasonCertificateWrongLicense, values: func(t *testing.T, s *Server) []string {
			other := s.Authority().License()
			other.SubscriptionID = "sub-renewed"
			ca, err := credentials.NewAuthority(other, s.opts.LicenseKey)
			if err != nil {
				t.Fatal(err)
			}
			_, der := issue(t, ca, epoch.Add(-time.Minute), epoch.Add(time.Hour))
			return []string{b64(der)}
		}},
		{name: "expired", reason: ReasonCertificateExpired, values: func(t *testing.T, s *Server) []string {
			_, der := issue(t, s.Authority(), epoch.Add(-48*time.Hour), epoch.Add(-time.Hour))
			return []string{b64(der)}
		}},
		{name: "not yet valid", reason: ReasonCertificateNotYetValid, values: func(t *testing.T, s *Server) []string {
			_, der := issue(t, s.Authority(), epoch.Add(time.Hour), epoch.Add(48*time.Hour))
			return []string{b64(der)}
		}},
		{name: "oversized", reason: ReasonCertificateTooLarge, values: func(*testing.T, *Server) []string {
			return []string{strings.Repeat("A", maxCertificateHeader+4)}
		}},
	}
}

// fixedKeyOptions gives servers whose licence key and clock are fixed, so certificates
// issued for "other licence" share the key, and expiry is judged at epoch.
func fixedKeyOptions(t *testing.T) Options {
	key, err := credentials.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return Options{LicenseKey: key, Clock: clocktesting.NewFakePassiveClock(epoch)}
}

func TestCurrentProfileRefusesEveryBadCertificateOnEveryOperatorRequest(t *testing.T) {
	for _, tc := range certCases() {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			s := newTestServer(t, fixedKeyOptions(t))
			h := http.Header{}
			for _, v := range tc.values(t, s) {
				h.Add(hdr.Certificate, v)
			}
			code, _, st := do(t, s, request{path: operatorPath, headers: h})
			entries := s.Journal().Entries()
			g.Expect(entries).To(HaveLen(1))
			if tc.reason == "" {
				g.Expect(code).To(Equal(http.StatusOK), "accepted")
				g.Expect(entries[0].Certificate.Verdict).To(Equal("valid"))
				return
			}
			g.Expect(code).To(Equal(http.StatusUnauthorized))
			g.Expect(st.Reason).To(Equal(tc.reason))
			g.Expect(st.Message).To(ContainSubstring("header x-client-der"), "message names the header")
			g.Expect(entries[0].Decision).To(Equal(contract.DecisionRefused))
			g.Expect(entries[0].Reason).To(Equal(string(tc.reason)))
			g.Expect(entries[0].Certificate.Verdict).To(Equal(string(tc.reason)))
		})
	}
}

func TestConnectRequiresCertificate(t *testing.T) {
	for _, profile := range []string{ProfileLegacy, ProfileCurrent} {
		t.Run(profile, func(t *testing.T) {
			g := NewWithT(t)
			s := newTestServer(t, Options{Profile: profile})
			code, _, st := do(t, s, request{path: targetPath + "?connect=true", headers: headers(hdr.SessionID, "42")})
			g.Expect(code).To(Equal(http.StatusUnauthorized))
			g.Expect(st.Reason).To(Equal(ReasonCertificateMissing))
			g.Expect(st.Message).To(ContainSubstring("x-client-der"))
		})
	}
}

func TestLegacyProfileChecksConnectOnly(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{OperatorVersion: "3.100.0"})
	bad := headers(hdr.Certificate, "garbage!", hdr.Version, "not-semver")
	code, _, _ := do(t, s, request{path: operatorPath, headers: bad})
	g.Expect(code).To(Equal(http.StatusOK), "a legacy operator ignores the certificate and version outside connects")
	code, _, st := do(t, s, request{path: targetPath + "?connect=true", headers: bad})
	g.Expect(code).To(Equal(http.StatusUnauthorized))
	g.Expect(st.Reason).To(Equal(ReasonCertificateNotBase64))
}

func TestAncientProfileIgnoresEveryNewHeader(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{OperatorVersion: "3.40.0"})
	bad := headers(hdr.Certificate, "garbage!", hdr.Version, "not-semver", hdr.SessionID, "-1", hdr.Name, "x")
	code, _, _ := do(t, s, request{path: operatorPath, headers: bad})
	g.Expect(code).To(Equal(http.StatusOK))
	code, _, st := do(t, s, request{path: targetPath + "?connect=true", headers: bad})
	g.Expect(code).To(Equal(http.StatusBadRequest), "not refused for headers: only because it is no upgrade")
	g.Expect(st.Reason).To(Equal(ReasonUpgradeRequired))
	_, _, st = do(t, s, request{method: http.MethodPost, path: operatorPath + "/certificate", body: "x"})
	g.Expect(st.Reason).To(Equal(metav1.StatusReasonNotFound), "no credential endpoints before client certificates")
}

func TestBrokenProfiles(t *testing.T) {
	t.Run("accepts any certificate", func(t *testing.T) {
		g := NewWithT(t)
		opts := fixedKeyOptions(t)
		opts.Profile = ProfileBrokenOpen
		s := newTestServer(t, opts)
		_, der := issue(t, s.Authority(), epoch.Add(-48*time.Hour), epoch.Add(-time.Hour))
		code, _, _ := do(t, s, request{path: operatorPath, headers: headers(hdr.Certificate, b64(der))})
		g.Expect(code).To(Equal(http.StatusOK), "the broken operator serves an expired certificate")
		g.Expect(s.Journal().Entries()[0].Certificate.Verdict).To(Equal(string(ReasonCertificateExpired)), "but the journal still judges it")
	})
	t.Run("refuses unknown headers", func(t *testing.T) {
		g := NewWithT(t)
		s := newTestServer(t, Options{Profile: ProfileBrokenStrict})
		code, _, _ := do(t, s, request{path: operatorPath})
		g.Expect(code).To(Equal(http.StatusOK), "an old client without new headers is served")
		code, _, st := do(t, s, request{path: operatorPath, headers: headers(hdr.Version, "3.250.0")})
		g.Expect(code).To(Equal(http.StatusBadRequest))
		g.Expect(st.Reason).To(Equal(ReasonUnknownHeader))
		g.Expect(st.Message).To(ContainSubstring("x-mirrord-cli-version"))
	})
}

func TestVersionHeader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		min    string
		code   int
		reason metav1.StatusReason
	}{
		{name: "absent is served", code: http.StatusOK},
		{name: "semver", values: []string{"3.250.0"}, code: http.StatusOK},
		{name: "build metadata", values: []string{"1.2.3-beta.1+20250616"}, code: http.StatusOK},
		{name: "v prefix", values: []string{"v3.250.0"}, code: http.StatusBadRequest, reason: ReasonClientVersionInvalid},
		{name: "garbage", values: []string{"latest"}, code: http.StatusBadRequest, reason: ReasonClientVersionInvalid},
		{name: "conflicting repeats", values: []string{"3.250.0", "3.249.0"}, code: http.StatusBadRequest, reason: ReasonClientVersionInvalid},
		{name: "below minimum", values: []string{"3.100.0"}, min: "3.200.0", code: http.StatusForbidden, reason: ReasonClientVersionTooOld},
		{name: "absent with minimum", min: "3.200.0", code: http.StatusForbidden, reason: ReasonClientVersionTooOld},
		{name: "at minimum", values: []string{"3.200.0"}, min: "3.200.0", code: http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			s := newTestServer(t, Options{MinClientVersion: tc.min})
			h := http.Header{}
			for _, v := range tc.values {
				h.Add(hdr.Version, v)
			}
			code, _, st := do(t, s, request{path: operatorPath, headers: h})
			g.Expect(code).To(Equal(tc.code))
			discovery, _, _ := do(t, s, request{path: "/apis/operator.metalbear.co/v1"})
			g.Expect(discovery).To(Equal(http.StatusOK), "discovery stays open, whatever the minimum version")
			if tc.reason == "" {
				return
			}
			g.Expect(st.Reason).To(Equal(tc.reason))
			g.Expect(st.Message).To(ContainSubstring("x-mirrord-cli-version"))
			if tc.min != "" {
				g.Expect(st.Message).To(ContainSubstring("install mirrord " + tc.min + " or later"))
				g.Expect(st.Details.Causes[0].Message).To(Equal(tc.min))
			}
		})
	}
}

func TestDesignNoteNaming(t *testing.T) {
	g := NewWithT(t)
	opts := fixedKeyOptions(t)
	opts.Headers = designNote
	s := newTestServer(t, opts)
	der := validCert(t, s)
	ok := headers("X-Mirrord-Version", "1.2.3-beta.1+20250616", "X-Client-Certificate", b64(der), "X-Client-Info", "version=1.2.3;platform=linux/amd64")
	code, _, _ := do(t, s, request{path: operatorPath, headers: ok})
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(s.Journal().Entries()[0].Certificate.Verdict).To(Equal("valid"))
	code, _, st := do(t, s, request{path: operatorPath, headers: headers("X-Client-Info", "linux")})
	g.Expect(code).To(Equal(http.StatusBadRequest))
	g.Expect(st.Reason).To(Equal(ReasonClientInfoInvalid))
	code, _, st = do(t, s, request{path: operatorPath, headers: headers("X-Client-Certificate", "!!")})
	g.Expect(code).To(Equal(http.StatusUnauthorized))
	g.Expect(st.Message).To(ContainSubstring("x-client-certificate"))
}

func TestCoreReadsNeverEnforce(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{MinClientVersion: "9.0.0"})
	code, _, _ := do(t, s, request{path: "/api/v1/namespaces/default/pods", headers: headers(hdr.Certificate, "garbage!", hdr.Version, "nope")})
	g.Expect(code).To(Equal(http.StatusOK), "kube-apiserver ignores operator headers")
	e := s.Journal().Entries()[0]
	g.Expect(e.Class).To(BeEquivalentTo("core-read"))
	g.Expect(e.Certificate.Verdict).To(Equal(string(ReasonCertificateNotBase64)), "journalled all the same")
}

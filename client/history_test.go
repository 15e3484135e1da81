package client

import (
	"runtime/debug"
	"testing"

	"github.com/Masterminds/semver/v3"
	. "github.com/onsi/gomega"
)

func TestBehavioursAt(t *testing.T) {
	for _, tc := range []struct {
		version string
		has     []Behaviour
		hasNot  []Behaviour
	}{
		{"3.40.0", nil, []Behaviour{SessionIDHeader, CertificateOnConnect}},
		{"3.41.0", []Behaviour{SessionIDHeader}, []Behaviour{CertificateOnConnect}},
		{"3.100.0", []Behaviour{CertificateOnConnect, IdentityOnConnect}, []Behaviour{CleanIdentity, EveryRequest}},
		{"3.104.0", []Behaviour{CleanIdentity}, []Behaviour{EveryRequest}},
		{"3.109.0-rc.1", []Behaviour{EveryRequest}, []Behaviour{ExtendableCredentials}},
		{"3.164.0", []Behaviour{ExtendableCredentials}, []Behaviour{LegacyRawPEM}},
		{"3.250.0+20261128", []Behaviour{ConnectParamsHeader, DiagnosticPing, LegacyRawPEM, UnknownIdentityFallback}, nil},
	} {
		t.Run(tc.version, func(t *testing.T) {
			g := NewWithT(t)
			b := BehavioursAt(semver.MustParse(tc.version))
			for _, want := range tc.has {
				g.Expect(b).To(HaveKey(want))
			}
			for _, not := range tc.hasNot {
				g.Expect(b).NotTo(HaveKey(not))
			}
		})
	}
}

func TestResolveVersion(t *testing.T) {
	g := NewWithT(t)
	v, err := resolveVersion("3.250.0+20261128", nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(v.Metadata()).To(Equal("20261128"))
	for _, bad := range []string{"v3.250.0", "3.250", "latest"} {
		_, err := resolveVersion(bad, nil)
		g.Expect(err).To(MatchError(ErrNoVersion), bad)
		g.Expect(err.Error()).To(ContainSubstring(bad))
	}
	_, err = resolveVersion("", func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true })
	g.Expect(err).To(MatchError(ContainSubstring("source build")))
	_, err = resolveVersion("", func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261128200709-2c4e896abcde"}}, true
	})
	g.Expect(err).To(MatchError(ContainSubstring("source build")), "a git checkout's pseudo-version is not a release")
	_, err = resolveVersion("", func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "v3.250.1-0.20261128200709-2c4e896abcde"}}, true
	})
	g.Expect(err).To(MatchError(ErrNoVersion))
	v, err = resolveVersion("", func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true })
	g.Expect(err).NotTo(HaveOccurred(), "go install …@v1.2.3")
	g.Expect(v.String()).To(Equal("1.2.3"))
}

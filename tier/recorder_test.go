package tier

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/Masterminds/semver/v3"
	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/client"
	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/fakeoperator"
)

// TestRecorderForwardsHeadersUntouchedAndJournalsThem puts the recording proxy in front of
// the in-process fake operator (standing in for a cluster with a real operator) and runs
// the reference client's exec through it.
func TestRecorderForwardsHeadersUntouchedAndJournalsThem(t *testing.T) {
	g := NewWithT(t)
	srv, err := fakeoperator.NewServer(fakeoperator.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	defer srv.Close()
	cluster := srv.RESTConfig()
	cluster.BearerToken = "cluster-credential"
	rec, err := NewRecorder(cluster, contract.MirrordHeaders())
	g.Expect(err).NotTo(HaveOccurred())
	defer rec.Close()

	c, err := client.New(client.Options{
		Config: rec.Config, Build: client.BuildInfo{Version: semver.MustParse("3.250.0")},
		Store: &client.Store{Path: filepath.Join(t.TempDir(), "credentials")}, Identity: &client.Identity{Name: "Zoë", Hostname: "laptop"},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Exec(context.Background(), client.ExecOptions{Target: "deployment.nginx"})).To(Succeed(), "exec works through the proxy, WebSockets included")

	recorded, seen := rec.Journal(), srv.Journal().Entries()
	g.Expect(recorded).To(HaveLen(len(seen)), "one journal entry per forwarded request")
	for i := range recorded {
		r, s := recorded[i], seen[i]
		g.Expect(r.Class).To(Equal(s.Class))
		g.Expect(r.Code).To(Equal(s.Code), "%s answered alike", r.Class)
		g.Expect(r.ClientVersion).To(Equal(s.ClientVersion), "version header forwarded untouched")
		for _, h := range []string{"x-client-der", "x-client-name", "x-client-hostname", "x-session-id", "x-mirrord-connect-params"} {
			g.Expect(r.Headers[h]).To(Equal(s.Headers[h]), "%s forwarded untouched on %s", h, r.Class)
		}
		if s.Certificate != nil {
			g.Expect(r.Certificate.Fingerprint).To(Equal(s.Certificate.Fingerprint))
			g.Expect(r.Certificate.Verdict).To(Equal(contract.Unjudged))
		}
		g.Expect(s.Headers["authorization"]).To(Equal([]string{"<redacted>"}), "the cluster's credential reached the cluster")
	}
	connects := 0
	for _, e := range recorded {
		if e.Class.IsConnect() {
			connects++
			g.Expect(e.Code).To(Equal(101))
		}
	}
	g.Expect(connects).To(Equal(2))
}

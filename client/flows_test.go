package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
	"github.com/opconform/opconform/fakeoperator"
)

// e2e is a fake operator and a client of one version against it.
type e2e struct {
	srv    *fakeoperator.Server
	client *Client
	store  *Store
	out    *bytes.Buffer
}

func newE2E(t *testing.T, version string, defect Defect, opts fakeoperator.Options) *e2e {
	t.Helper()
	srv, err := fakeoperator.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	out := &bytes.Buffer{}
	store := &Store{Path: filepath.Join(t.TempDir(), ".mirrord", "credentials")}
	c, err := New(Options{
		Config: srv.RESTConfig(), Build: BuildInfo{Version: semver.MustParse(version), Defect: defect},
		Identity: &Identity{Name: "José Pérez", Hostname: "Laptop-7"}, Store: store, Out: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &e2e{srv: srv, client: c, store: store, out: out}
}

func (e *e2e) classes() []contract.Class {
	var out []contract.Class
	for _, en := range e.srv.Journal().Entries() {
		out = append(out, en.Class)
	}
	return out
}

func TestStatusSendsOneGETWithoutCertificate(t *testing.T) {
	g := NewWithT(t)
	e := newE2E(t, "3.250.0", DefectNone, fakeoperator.Options{})
	g.Expect(e.client.Status(context.Background())).To(Succeed())
	entries := e.srv.Journal().Entries()
	g.Expect(entries).To(HaveLen(1))
	g.Expect(entries[0].Class).To(Equal(contract.ClassOperatorGet))
	g.Expect(entries[0].Certificate).To(BeNil())
	g.Expect(entries[0].ClientVersion).To(Equal("3.250.0"))
	g.Expect(entries[0].Header("x-client-name")).To(Equal("Jos Prez"), "cleaned")
	g.Expect(e.out.String()).To(ContainSubstring("operator 3.250.0"))
}

func TestLsRequestsACertificateOnce(t *testing.T) {
	g := NewWithT(t)
	e := newE2E(t, "3.250.0", DefectNone, fakeoperator.Options{})
	ctx := context.Background()
	g.Expect(e.client.Ls(ctx)).To(Succeed())
	g.Expect(e.client.Ls(ctx)).To(Succeed())
	g.Expect(e.classes()).To(Equal([]contract.Class{
		contract.ClassOperatorGet, contract.ClassCredentialRequest, contract.ClassCoreRead, contract.ClassCoreRead,
		contract.ClassOperatorGet, contract.ClassCoreRead, contract.ClassCoreRead,
	}), "the second ls finds the certificate in the store")
	for _, en := range e.srv.Journal().Entries() {
		if en.Class == contract.ClassCoreRead {
			g.Expect(en.Headers).NotTo(HaveKey("x-mirrord-cli-version"), "targets are listed with a plain client")
		}
		if en.Class == contract.ClassCredentialRequest {
			g.Expect(en.Certificate).To(BeNil(), "the certificate request carries no certificate")
		}
	}
	g.Expect(e.out.String()).To(ContainSubstring("deployment/nginx"))
}

func TestExecSequence(t *testing.T) {
	g := NewWithT(t)
	e := newE2E(t, "3.250.0", DefectNone, fakeoperator.Options{})
	g.Expect(e.client.Exec(context.Background(), ExecOptions{Target: "deployment.nginx"})).To(Succeed())
	g.Expect(e.classes()).To(Equal([]contract.Class{
		contract.ClassOperatorGet, contract.ClassCredentialRequest, contract.ClassCoreRead,
		contract.ClassTargetConnect, contract.ClassDiscovery, contract.ClassTargetConnect,
	}))
	entries := e.srv.Journal().Entries()
	for _, en := range entries[2:] {
		g.Expect(en.Certificate).NotTo(BeNil(), "%s carries the certificate once it is ready", en.Class)
		g.Expect(en.Certificate.Verdict).To(Equal("valid"))
	}
	g.Expect(entries[3].SessionID).NotTo(BeEmpty())
	g.Expect(entries[5].SessionID).To(Equal(entries[3].SessionID), "both connections share the session id")
	g.Expect(entries[3].Path).To(ContainSubstring("/proxy/"), "ProxyApi advertised")
	g.Expect(entries[3].Query).To(Equal(map[string][]string{"connect": {"true"}}), "params moved to the header")
	g.Expect(entries[3].Headers).To(HaveKey("x-mirrord-connect-params"))
	g.Expect(e.srv.Journal().Select(contract.Filter{Hostname: "Laptop-7"})).To(HaveLen(6))
}

func TestExecCopyTarget(t *testing.T) {
	g := NewWithT(t)
	e := newE2E(t, "3.250.0", DefectNone, fakeoperator.Options{})
	g.Expect(e.client.Exec(context.Background(), ExecOptions{Target: "deployment.nginx", CopyTarget: true})).To(Succeed())
	g.Expect(e.classes()).To(ContainElements(contract.ClassCopyTargetList, contract.ClassCopyTargetCreate, contract.ClassCopyTargetGet, contract.ClassCopyTargetConnect))
}

func TestOldClientAgainstLegacyOperator(t *testing.T) {
	g := NewWithT(t)
	e := newE2E(t, "3.100.0", DefectNone, fakeoperator.Options{OperatorVersion: "3.100.0"})
	g.Expect(e.client.Exec(context.Background(), ExecOptions{Target: "pod.nginx-7d9c6b5f4-x2x7q"})).To(Succeed())
	for _, en := range e.srv.Journal().Entries() {
		g.Expect(en.ClientVersion).To(BeEmpty(), "no version header before 3.109.0")
		if en.Class.IsConnect() {
			g.Expect(en.Certificate).NotTo(BeNil())
			g.Expect(en.Header("x-client-name")).To(Equal("José Pérez"), "no cleaning before 3.104.0")
		} else {
			g.Expect(en.Certificate).To(BeNil(), "%s: certificate on connects only before 3.109.0", en.Class)
		}
		if en.Class == contract.ClassCredentialRequest {
			g.Expect(en.Path).To(HaveSuffix("/mirrordoperators/operator/certificate"), "legacy endpoint")
		}
	}
	g.Expect(e.srv.Journal().Entries()[3].Path).To(ContainSubstring("/proxy/"), "legacy operators advertise ProxyApi too")
}

func TestNewClientAgainstAncientOperator(t *testing.T) {
	g := NewWithT(t)
	e := newE2E(t, "3.250.0", DefectNone, fakeoperator.Options{OperatorVersion: "3.40.0"})
	g.Expect(e.client.Status(context.Background())).To(Succeed(), "an old operator ignores the new headers")
	g.Expect(e.client.Ls(context.Background())).To(Succeed(), "ls goes on without a certificate")
	err := e.client.Exec(context.Background(), ExecOptions{Target: "deployment.nginx"})
	g.Expect(err).To(MatchError(ContainSubstring("preparing the client certificate")), "exec aborts without a certificate")
}

// seedExpired puts a certificate that expired an hour ago into e's store.
func seedExpired(t *testing.T, e *e2e) {
	t.Helper()
	key, _ := credentials.GenerateKey()
	now := time.Now()
	der, err := e.srv.Authority().IssueFor(key, "laptop-7", now.Add(-48*time.Hour), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Put(context.Background(), e.srv.License().Fingerprint, key, der); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredCertificateIsRefreshedNotSent(t *testing.T) {
	g := NewWithT(t)
	e := newE2E(t, "3.250.0", DefectNone, fakeoperator.Options{})
	seedExpired(t, e)
	g.Expect(e.client.Exec(context.Background(), ExecOptions{Target: "deployment.nginx"})).To(Succeed())
	for _, en := range e.srv.Journal().Entries() {
		if en.Certificate != nil {
			g.Expect(en.Certificate.Verdict).To(Equal("valid"), "the expired certificate is never sent")
		}
	}
	g.Expect(e.classes()).To(ContainElement(contract.ClassCredentialRequest))
}

func TestRefusalStopsTheClient(t *testing.T) {
	g := NewWithT(t)
	e := newE2E(t, "3.250.0", DefectNoRefresh, fakeoperator.Options{})
	seedExpired(t, e)
	err := e.client.Exec(context.Background(), ExecOptions{Target: "deployment.nginx"})
	var refused *RefusalError
	g.Expect(errors.As(err, &refused)).To(BeTrue(), "got %v", err)
	g.Expect(refused.ExitCode()).To(Equal(ExitCertificateRefused))
	g.Expect(refused.Error()).To(ContainSubstring("header x-client-der, reason CertificateExpired"))
	g.Expect(refused.Error()).To(ContainSubstring("clock"), "says what to do")
	entries := e.srv.Journal().Entries()
	last := entries[len(entries)-1]
	g.Expect(last.Decision).To(Equal(contract.DecisionRefused), "the refused request is the client's last")
	g.Expect(last.Class).To(Equal(contract.ClassTargetConnect))
}

func TestIgnoreRefusalDefectKeepsGoing(t *testing.T) {
	g := NewWithT(t)
	e := newE2E(t, "3.250.0", DefectIgnoreRefusal, fakeoperator.Options{Profile: fakeoperator.ProfileCurrent})
	fakeKey, _ := credentials.GenerateKey()
	foreign, _ := credentials.NewAuthority(credentials.License{Name: "x", Organization: "x", SubscriptionID: "x"}, nil)
	der, err := foreign.IssueFor(fakeKey, "laptop-7", time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.store.Put(context.Background(), e.srv.License().Fingerprint, fakeKey, der)).To(Succeed())
	err = e.client.Exec(context.Background(), ExecOptions{Target: "deployment.nginx"})
	g.Expect(err).To(HaveOccurred())
	entries := e.srv.Journal().Entries()
	g.Expect(entries[len(entries)-1].Decision).To(Equal(contract.DecisionRefused))
	refusedAt := -1
	for i, en := range entries {
		if en.Decision == contract.DecisionRefused && refusedAt < 0 {
			refusedAt = i
		}
	}
	g.Expect(len(entries)).To(BeNumerically(">", refusedAt+1), "the defective client sends requests after the refusal")
}

func TestVersionRefusalNamesTheMinimum(t *testing.T) {
	g := NewWithT(t)
	e := newE2E(t, "3.200.0", DefectNone, fakeoperator.Options{MinClientVersion: "3.240.0"})
	err := e.client.Status(context.Background())
	var refused *RefusalError
	g.Expect(errors.As(err, &refused)).To(BeTrue(), "got %v", err)
	g.Expect(refused.ExitCode()).To(Equal(ExitVersionRefused))
	g.Expect(refused.Error()).To(ContainSubstring("install mirrord 3.240.0 or later"))
	g.Expect(e.classes()).To(Equal([]contract.Class{contract.ClassOperatorGet, contract.ClassOperatorDiscovery}), "the one discovery request the CLI sends before it fails")
}

func TestFakeClockExpiry(t *testing.T) {
	g := NewWithT(t)
	clock := clocktesting.NewFakePassiveClock(time.Now())
	e := newE2E(t, "3.250.0", DefectNoRefresh, fakeoperator.Options{Clock: clock, CertificateValidity: time.Hour})
	g.Expect(e.client.Ls(context.Background())).To(Succeed())
	clock.SetTime(time.Now().Add(3 * time.Hour))
	err := e.client.Exec(context.Background(), ExecOptions{Target: "deployment.nginx"})
	g.Expect(err).To(MatchError(ContainSubstring("CertificateExpired")), "the operator's clock judges the stored certificate")
}

// TestDiscoveryAfterARefusedOperatorGET: the mirrord CLI asks discovery whether the operator
// is installed after any API error on the operator GET, a refusal included, then fails with
// the GET's error; every command from 3.109.0, exec alone from 3.107.0, none before.
func TestDiscoveryAfterARefusedOperatorGET(t *testing.T) {
	refusedGet := []contract.Class{contract.ClassOperatorGet}
	withDiscovery := []contract.Class{contract.ClassOperatorGet, contract.ClassOperatorDiscovery}
	for _, tc := range []struct {
		version, command string
		want             []contract.Class
	}{
		{"3.250.0", "status", withDiscovery},
		{"3.109.0", "ls", withDiscovery},
		{"3.108.0", "exec", withDiscovery},
		{"3.108.0", "status", refusedGet},
		{"3.100.0", "exec", refusedGet},
	} {
		t.Run(tc.version+"/"+tc.command, func(t *testing.T) {
			g := NewWithT(t)
			e := newE2E(t, tc.version, DefectNone, fakeoperator.Options{MinClientVersion: "4.0.0"})
			var err error
			switch ctx := context.Background(); tc.command {
			case "status":
				err = e.client.Status(ctx)
			case "ls":
				err = e.client.Ls(ctx)
			default:
				err = e.client.Exec(ctx, ExecOptions{Target: "deployment.nginx"})
			}
			var refused *RefusalError
			g.Expect(errors.As(err, &refused)).To(BeTrue(), "fails with the GET's refusal: %v", err)
			g.Expect(e.classes()).To(Equal(tc.want))
		})
	}
}

// TestCopyTargetAsTheCLIMakesIt: named deploy.<name>, spec.target mirrord's Target object,
// polled every 5 s on the client's clock until Ready, connected with the creator session's
// id and no on_concurrent_steal.
func TestCopyTargetAsTheCLIMakesIt(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Now())
	srv, err := fakeoperator.NewServer(fakeoperator.Options{Clock: clk, CopyTargetReadyAfter: 8 * time.Second})
	g.Expect(err).NotTo(HaveOccurred())
	defer srv.Close()
	c, err := New(Options{Config: srv.RESTConfig(), Build: BuildInfo{Version: semver.MustParse("3.250.0")},
		Store: &Store{Path: filepath.Join(t.TempDir(), "credentials")}, Now: clk.Now, Clock: clk})
	g.Expect(err).NotTo(HaveOccurred())
	done := make(chan error, 1)
	go func() {
		done <- c.Exec(context.Background(), ExecOptions{Target: "deployment.nginx", CopyTarget: true})
	}()
	for range 2 { // InProgress at 0 s and 5 s, Ready at 10 s
		g.Eventually(clk.HasWaiters).WithTimeout(10*time.Second).Should(BeTrue(), "the client waits on its clock")
		clk.Step(5 * time.Second)
	}
	g.Eventually(done).WithTimeout(20 * time.Second).Should(Receive(BeNil()))

	var polls int
	var created, connect contract.Entry
	for _, e := range srv.Journal().Entries() {
		switch e.Class {
		case contract.ClassCopyTargetGet:
			polls++
		case contract.ClassCopyTargetCreate:
			created = e
		case contract.ClassCopyTargetConnect:
			connect = e
		}
	}
	g.Expect(polls).To(Equal(3), "polled until Ready")
	g.Expect(created.Path).To(HaveSuffix("/namespaces/default/copytargets"))
	g.Expect(connect.Path).To(HaveSuffix("/copytargets/deploy.nginx"))
	raw, err := base64.StdEncoding.DecodeString(connect.Header("x-mirrord-connect-params"))
	g.Expect(err).NotTo(HaveOccurred(), "the operator advertises ConnectParamsInHeader")
	params, err := url.ParseQuery(string(raw))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(params).NotTo(HaveKey("on_concurrent_steal"))
	g.Expect(params).To(HaveKey("key"))
	resp, err := srv.Client().Get(srv.URL + "/apis/operator.metalbear.co/v1/namespaces/default/copytargets/deploy.nginx")
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var obj struct {
		Spec struct {
			Target map[string]any `json:"target"`
		} `json:"spec"`
		Status struct {
			CreatorSession struct {
				ID string `json:"id"`
			} `json:"creator_session"`
		} `json:"status"`
	}
	g.Expect(json.NewDecoder(resp.Body).Decode(&obj)).To(Succeed())
	g.Expect(obj.Spec.Target).To(Equal(map[string]any{"deployment": "nginx", "container": nil}), "the Target object the CLI sends")
	g.Expect(connect.SessionID).To(Equal(fmt.Sprint(mustHex(t, obj.Status.CreatorSession.ID))), "the creator session continues on the connect")
}

func mustHex(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// countingSessions is a TLS session cache that counts the sessions it handed back.
type countingSessions struct {
	tls.ClientSessionCache
	resumed int
}

func (c *countingSessions) Get(key string) (*tls.ClientSessionState, bool) {
	s, ok := c.ClientSessionCache.Get(key)
	if ok {
		c.resumed++
	}
	return s, ok
}

func TestConnectsResumeTLSSessionsFromTheSharedCache(t *testing.T) {
	g := NewWithT(t)
	e := newE2E(t, "3.250.0", DefectNone, fakeoperator.Options{})
	sessions := &countingSessions{ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	e.client.opts.ConnectTLS = func(c *tls.Config) { c.ClientSessionCache = sessions }
	g.Expect(e.client.Exec(context.Background(), ExecOptions{Target: "deployment.nginx"})).To(Succeed())
	g.Expect(sessions.resumed).To(Equal(1), "the second of the exec's two connects offers the first one's session")
	var connects int
	for _, en := range e.srv.Journal().Entries() {
		if en.Class.IsConnect() {
			connects++
			g.Expect(en.Certificate).NotTo(BeNil(), "a resumed connect carries the headers all the same")
			g.Expect(en.Certificate.Verdict).To(Equal("valid"))
		}
	}
	g.Expect(connects).To(Equal(2))
}

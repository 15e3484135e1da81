package fakeoperator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

func TestJournalNeverHoldsSecrets(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	der := validCert(t, s)
	h := headers(hdr.Certificate, b64(der), "Authorization", "Bearer s3cr3t-token", hdr.Version, "3.250.0", hdr.Hostname, "laptop")
	do(t, s, request{path: operatorPath + "?x=1", headers: h})
	do(t, s, request{path: operatorPath, headers: headers(hdr.Certificate, "not-a-cert!")})

	e := s.Journal().Entries()[0]
	g.Expect(e.Headers[hdr.Certificate]).To(Equal([]string{credentials.Fingerprint(der)}), "certificate replaced by its fingerprint")
	g.Expect(e.Headers["authorization"]).To(Equal([]string{"<redacted>"}))
	g.Expect(e.Certificate.Fingerprint).To(Equal(credentials.Fingerprint(der)))
	g.Expect(e.Certificate.UserID).NotTo(BeEmpty())
	g.Expect(e.ClientVersion).To(Equal("3.250.0"))
	g.Expect(e.Query).To(HaveKeyWithValue("x", []string{"1"}))
	g.Expect(e.Code).To(Equal(http.StatusOK))
	g.Expect(e.Duration).To(BeNumerically(">", 0))

	_, body, _ := do(t, s, request{path: contract.HarnessPrefix + "journal"})
	code, grouped, _ := do(t, s, request{path: contract.HarnessGroupPrefix + "journal?since=1"})
	g.Expect(code).To(Equal(http.StatusOK), "the harness's endpoints answer under the API group too (through an aggregator)")
	var after []contract.Entry
	g.Expect(json.Unmarshal(grouped, &after)).To(Succeed())
	g.Expect(after).To(HaveLen(1), "the refused request; not the first read: the harness's requests are not journalled")
	g.Expect(after[0].Decision).To(Equal(contract.DecisionRefused))
	g.Expect(string(body)).NotTo(ContainSubstring(b64(der)[:40]), "no certificate in the JSON journal")
	g.Expect(string(body)).NotTo(ContainSubstring("s3cr3t"))
	g.Expect(string(body)).NotTo(ContainSubstring("not-a-cert!"), "not even an invalid one")
	var entries []contract.Entry
	g.Expect(json.Unmarshal(body, &entries)).To(Succeed())
	g.Expect(entries).To(HaveLen(2))
	g.Expect(entries[1].Decision).To(Equal(contract.DecisionRefused))
}

func TestJournalIsLosslessUnderConcurrency(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				do(t, s, request{path: operatorPath, headers: headers(hdr.Hostname, "host-"+string(rune('a'+w)))})
			}
		})
	}
	wg.Wait()
	entries := s.Journal().Entries()
	g.Expect(entries).To(HaveLen(workers * each))
	seen := map[uint64]bool{}
	for _, e := range entries {
		g.Expect(seen[e.Seq]).To(BeFalse(), "sequence numbers are unique")
		seen[e.Seq] = true
	}
	g.Expect(s.Journal().Select(contract.Filter{Hostname: "host-c"})).To(HaveLen(each), "filter by hostname")
}

func TestJournalFilterResetAndHTTP(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{})
	a, b := validCert(t, s), validCert(t, s)
	do(t, s, request{path: operatorPath, headers: headers(hdr.Certificate, b64(a))})
	do(t, s, request{path: operatorPath, headers: headers(hdr.Certificate, b64(b))})
	do(t, s, request{path: "/api/v1/namespaces"})
	g.Expect(s.Journal().Select(contract.Filter{Fingerprint: credentials.Fingerprint(a)})).To(HaveLen(1))

	_, body, _ := do(t, s, request{path: contract.HarnessPrefix + "journal?fingerprint=" + credentials.Fingerprint(b)})
	var entries []contract.Entry
	g.Expect(json.Unmarshal(body, &entries)).To(Succeed())
	g.Expect(entries).To(HaveLen(1))
	_, body, _ = do(t, s, request{path: contract.HarnessPrefix + "journal?class=core-read"})
	g.Expect(json.Unmarshal(body, &entries)).To(Succeed())
	g.Expect(entries).To(HaveLen(1))

	code, _, _ := do(t, s, request{method: http.MethodDelete, path: contract.HarnessPrefix + "journal"})
	g.Expect(code).To(Equal(http.StatusNoContent))
	g.Expect(s.Journal().Entries()).To(BeEmpty(), "nothing is left after a reset, not even the reset: the harness's requests are not journalled")
	_, body, _ = do(t, s, request{path: contract.HarnessPrefix + "journal?hostname=nobody"})
	g.Expect(strings.TrimSpace(string(body))).To(Equal("[]"))
}

// TestJournalSkipsTheClustersOwnUsers: requests of the users JournalSkipUsers names (the
// aggregator's own) are served but not journalled; every other user's are.
func TestJournalSkipsTheClustersOwnUsers(t *testing.T) {
	g := NewWithT(t)
	ca := newFrontProxyCA(t)
	s := newTestServer(t, Options{FrontProxy: &FrontProxy{ClientCA: ca.pem}, JournalSkipUsers: []string{"system:kube-aggregator"}})
	aggregator := withClientCert(s, ca.client(t, "front-proxy-client"))
	for _, user := range []string{"system:kube-aggregator", "kubernetes-admin"} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/apis/operator.metalbear.co/v1", nil)
		req.Header.Set("X-Remote-User", user)
		resp, err := aggregator.Do(req)
		g.Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		g.Expect(resp.StatusCode).To(Equal(http.StatusOK), "served to %s", user)
	}
	entries := s.Journal().Entries()
	g.Expect(entries).To(HaveLen(1))
	g.Expect(entries[0].RemoteUser).To(Equal("kubernetes-admin"))
}

func TestJournalEndpointPagesAndSaysWhatWasDropped(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{JournalCapacity: 2})
	for i := 0; i < 3; i++ {
		do(t, s, request{path: operatorPath})
	}
	get := func(query string) (*http.Response, []contract.Entry) {
		resp, err := s.Client().Get(s.URL + contract.HarnessPrefix + "journal" + query)
		g.Expect(err).NotTo(HaveOccurred())
		defer resp.Body.Close()
		var entries []contract.Entry
		if resp.StatusCode == http.StatusOK {
			g.Expect(json.NewDecoder(resp.Body).Decode(&entries)).To(Succeed())
		}
		return resp, entries
	}
	resp, entries := get("")
	g.Expect(entries).To(HaveLen(2))
	g.Expect(resp.Header.Get(JournalDroppedHeader)).To(Equal("1"), "one of three dropped")
	g.Expect(entries[1].Seq).To(BeEquivalentTo(3))
	_, entries = get("?since=" + strconv.FormatUint(entries[1].Seq, 10))
	g.Expect(entries).To(BeEmpty(), "nothing came after the cursor: the reads of the journal are not journalled, and take no client's room")
	do(t, s, request{path: operatorPath})
	resp, entries = get("?since=3")
	g.Expect(entries).To(HaveLen(1), "what came after the cursor")
	g.Expect(entries[0].Seq).To(BeEquivalentTo(4))
	g.Expect(resp.Header.Get(JournalDroppedHeader)).To(Equal("2"), "two of four dropped")
	resp, _ = get("?since=last")
	g.Expect(resp.StatusCode).To(Equal(http.StatusBadRequest), "a cursor that is not a sequence number")
}

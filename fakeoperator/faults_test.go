package fakeoperator

import (
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

func TestFaults(t *testing.T) {
	g := NewWithT(t)
	s := newTestServer(t, Options{Faults: []Fault{
		{Class: contract.ClassOperatorGet, Status: http.StatusServiceUnavailable, Count: 1},
		{Class: contract.ClassTargetList, Latency: 50 * time.Millisecond},
		{Class: contract.ClassSessionList, Drop: true},
		{Class: contract.ClassTargetConnect, RefuseUpgrade: true},
	}})

	code, _, st := do(t, s, request{path: operatorPath})
	g.Expect(code).To(Equal(http.StatusServiceUnavailable), "forced status")
	g.Expect(st.Reason).To(Equal(ReasonInjectedFault))
	code, _, _ = do(t, s, request{path: operatorPath})
	g.Expect(code).To(Equal(http.StatusOK), "Count: 1 fires once")

	start := time.Now()
	code, _, _ = do(t, s, request{path: "/apis/operator.metalbear.co/v1/namespaces/default/targets"})
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(time.Since(start)).To(BeNumerically(">=", 50*time.Millisecond), "latency added")

	_, err := s.Client().Get(s.URL + sessionsPath)
	g.Expect(err).To(HaveOccurred(), "connection dropped")

	_, resp, err := dial(t, s, targetPath+"?connect=true", connectHeaders(validCert(t, s), "1"), contract.Subprotocol)
	g.Expect(err).To(HaveOccurred())
	g.Expect(resp.StatusCode).To(Equal(http.StatusBadRequest), "upgrade refused")

	decisions := map[contract.Class]string{}
	for _, e := range s.Journal().Entries() {
		if e.Decision == contract.DecisionFault {
			decisions[e.Class] = e.Reason
		}
	}
	g.Expect(decisions).To(Equal(map[contract.Class]string{
		contract.ClassOperatorGet:   string(ReasonInjectedFault),
		contract.ClassSessionList:   "ConnectionDropped",
		contract.ClassTargetConnect: string(ReasonUpgradeRefused),
	}), "faults are journalled")
}

func TestClockInjection(t *testing.T) {
	g := NewWithT(t)
	opts := fixedKeyOptions(t)
	opts.CertificateValidity = time.Hour
	s := newTestServer(t, opts)
	pemCSR, _ := newCSR(t, "laptop", credentials.CSROptions{})
	code, body, _ := do(t, s, request{method: http.MethodPost, path: credentialsPath, body: credentialBody(t, pemCSR, "regular")})
	g.Expect(code).To(Equal(http.StatusCreated))
	der := certFromCredential(t, body)
	code, _, _ = do(t, s, request{path: operatorPath, headers: headers(hdr.Certificate, b64(der))})
	g.Expect(code).To(Equal(http.StatusOK))
	fakeClock(s).SetTime(epoch.Add(2 * time.Hour))
	code, _, st := do(t, s, request{path: operatorPath, headers: headers(hdr.Certificate, b64(der))})
	g.Expect(code).To(Equal(http.StatusUnauthorized), "expired by the injected clock, no sleeping")
	g.Expect(st.Reason).To(Equal(ReasonCertificateExpired))
}

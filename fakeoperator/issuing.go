package fakeoperator

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/credentials"
)

// Issuing is what the credential endpoints issue: valid certificates, or, so that a harness
// can watch any client — a black box included — meet a refusal it did not cause, certificates
// this operator itself refuses when they come back.
type Issuing string

// The ways of issuing.
const (
	IssueValid Issuing = ""
	// IssueExpired issues certificates that expired an hour ago.
	IssueExpired Issuing = "expired"
	// IssueForeignAuthority issues certificates signed by a CA that is not the licence's.
	IssueForeignAuthority Issuing = "foreign-authority"
	// IssueOtherLicense issues certificates of the licence's CA for another subscription.
	IssueOtherLicense Issuing = "other-licence"
)

// Issuings lists the ways of issuing a certificate the operator refuses.
var Issuings = []Issuing{IssueExpired, IssueForeignAuthority, IssueOtherLicense}

// SetIssuing changes what the credential endpoints issue from now on.
func (s *Server) SetIssuing(i Issuing) error {
	switch i {
	case IssueValid, IssueExpired, IssueForeignAuthority, IssueOtherLicense:
		s.issuing.Store(string(i))
		return nil
	}
	return fmt.Errorf("unknown way of issuing %q: want one of %s, or valid", i, strings.Join(issuingNames(), ", "))
}

func issuingNames() []string {
	var out []string
	for _, i := range Issuings {
		out = append(out, string(i))
	}
	return out
}

// issue signs a CSR the way the server issues now.
func (s *Server) issue(csr *credentials.CSR) ([]byte, error) {
	now := s.clock.Now()
	notBefore, notAfter := now.Add(-s.opts.Backdate), now.Add(s.opts.CertificateValidity)
	authority := s.authority
	switch v, _ := s.issuing.Load().(string); Issuing(v) {
	case IssueExpired:
		notBefore, notAfter = now.Add(-2*time.Hour), now.Add(-time.Hour)
	case IssueForeignAuthority:
		authority = s.foreign
	case IssueOtherLicense:
		authority = s.otherLicense
	}
	return authority.Issue(csr, notBefore, notAfter)
}

// Reset makes the server as new for the next client: its sessions ended (their connections
// closed) and forgotten, no copy target, valid certificates issued, an empty journal. A
// harness that keeps one operator for many cells (the kind tier) resets it between them
// (POST /_opconform/reset).
func (s *Server) Reset() {
	s.state.deleteSessions("", func(*session) bool { return true })
	s.state.reset()
	s.issuing.Store(string(IssueValid))
	s.journal.Reset()
}

// serveIssuing answers PUT /_opconform/issuing?as=WAY (valid, or one of Issuings).
func (s *Server) serveIssuing(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		writeStatus(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "issuing answers PUT ?as=WAY")
		return
	}
	as := r.URL.Query().Get("as")
	if as == "valid" {
		as = ""
	}
	if err := s.SetIssuing(Issuing(as)); err != nil {
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "query parameter as: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

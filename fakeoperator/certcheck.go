package fakeoperator

import (
	"errors"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opconform/opconform/credentials"
)

// maxCertificateHeader bounds the certificate header; real client certificates are well
// under 1 KiB of base64.
const maxCertificateHeader = 16 << 10

// verdict is the time-independent result of checking one header value.
type verdict struct {
	fingerprint string
	cert        *credentials.Certificate
	reason      metav1.StatusReason
	problem     string
}

// presented is what a request's certificate header lines held.
type presented struct {
	values int
	verdict
}

// verdictAt returns "valid" or the refusal reason of p at now.
func (p *presented) verdictAt(now time.Time) string {
	if reason, _ := p.check(now); reason != "" {
		return string(reason)
	}
	return "valid"
}

// check returns the refusal reason and problem of p at now, or "" when it is valid.
func (p *presented) check(now time.Time) (metav1.StatusReason, string) {
	if p.reason != "" {
		return p.reason, p.problem
	}
	if err := p.cert.ValidAt(now); err != nil {
		if errors.Is(err, credentials.ErrExpired) {
			return ReasonCertificateExpired, err.Error()
		}
		return ReasonCertificateNotYetValid, err.Error()
	}
	return "", ""
}

// examineCertificate checks every line of the certificate header: identical repeats are one
// certificate, different values a conflict.
func (s *Server) examineCertificate(values []string) *presented {
	first := s.verdicts.lookup(values[0], s.authority)
	for _, v := range values[1:] {
		if v != values[0] {
			return &presented{values: len(values), verdict: verdict{
				fingerprint: first.fingerprint, reason: ReasonCertificateConflict,
				problem: fmt.Sprintf("%d lines with different values", len(values)),
			}}
		}
	}
	return &presented{values: len(values), verdict: first}
}

// verdictCache remembers verdicts by header value, so a client's certificate is decoded,
// parsed and signature-checked once; its validity period is checked on every request.
type verdictCache struct {
	mu sync.RWMutex
	m  map[string]verdict
}

// verdictCacheSize bounds the cache; when full it starts over.
const verdictCacheSize = 4096

func newVerdictCache() *verdictCache { return &verdictCache{m: map[string]verdict{}} }

func (vc *verdictCache) lookup(value string, ca *credentials.Authority) verdict {
	vc.mu.RLock()
	v, ok := vc.m[value]
	vc.mu.RUnlock()
	if ok {
		return v
	}
	v = judge(value, ca)
	vc.mu.Lock()
	if len(vc.m) >= verdictCacheSize {
		clear(vc.m)
	}
	vc.m[value] = v
	vc.mu.Unlock()
	return v
}

// judge decodes and checks one header value.
func judge(value string, ca *credentials.Authority) verdict {
	if len(value) > maxCertificateHeader {
		return verdict{fingerprint: credentials.HeaderFingerprint(value), reason: ReasonCertificateTooLarge,
			problem: fmt.Sprintf("%d bytes, more than the %d a certificate needs", len(value), maxCertificateHeader)}
	}
	der, err := credentials.DecodeHeader(value)
	if err != nil {
		reason := ReasonCertificateNotBase64
		if errors.Is(err, credentials.ErrEmpty) {
			reason = ReasonCertificateEmpty
		}
		return verdict{fingerprint: credentials.HeaderFingerprint(value), reason: reason, problem: err.Error()}
	}
	cert, err := ca.Check(der)
	if err != nil {
		return verdict{fingerprint: credentials.Fingerprint(der), reason: checkReason(err), problem: err.Error()}
	}
	return verdict{fingerprint: cert.Fingerprint, cert: cert}
}

// checkReason maps a credentials error to its refusal reason.
func checkReason(err error) metav1.StatusReason {
	switch {
	case errors.Is(err, credentials.ErrNotDER):
		return ReasonCertificateNotDER
	case errors.Is(err, credentials.ErrUnknownAuthority):
		return ReasonCertificateUnknownAuthority
	case errors.Is(err, credentials.ErrWrongLicense):
		return ReasonCertificateWrongLicense
	default:
		return ReasonCertificateMalformed
	}
}

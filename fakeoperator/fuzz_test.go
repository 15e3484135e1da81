package fakeoperator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/credentials"
)

// FuzzCertificateHeader feeds arbitrary certificate, version and session header values
// through the whole request pipeline of a current operator on a target connect. It must
// never panic, and every refusal must be a contract refusal naming a reason.
func FuzzCertificateHeader(f *testing.F) {
	s, err := NewUnstartedServer(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	now := time.Now()
	_, der := issue(f, s.Authority(), now.Add(-time.Minute), now.Add(time.Hour))
	f.Add(b64(der), "3.250.0", "42")
	f.Add(b64(der[:len(der)/2]), "v1", "-1")
	f.Add(b64(credentials.EncodeCertificatePEM(der)), "", "18446744073709551616")
	f.Add("", "1.2.3-beta.1+x", "0")
	f.Add("====", "3.250.0\n", "1 2")
	f.Fuzz(func(t *testing.T, cert, version, session string) {
		req := httptest.NewRequest(http.MethodGet, "https://fake"+targetPath+"?connect=true", nil)
		req.Header.Set(hdr.Certificate, cert)
		req.Header.Set(hdr.Version, version)
		req.Header.Set(hdr.SessionID, session)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		entries := s.Journal().Entries()
		e := entries[len(entries)-1]
		if e.Class != contract.ClassTargetConnect {
			t.Fatalf("class %s", e.Class)
		}
		if strings.Contains(w.Body.String(), cert) && len(cert) > 8 {
			t.Fatalf("the answer repeats the certificate header")
		}
		switch w.Code {
		case http.StatusUnauthorized, http.StatusForbidden:
			if e.Decision != contract.DecisionRefused || e.Reason == "" {
				t.Fatalf("code %d without a contract refusal: %+v", w.Code, e)
			}
		case http.StatusBadRequest:
			// a refused header, or a valid connect that is no WebSocket upgrade
			if e.Reason == "" {
				t.Fatalf("400 without a reason")
			}
		default:
			t.Fatalf("unexpected code %d for %+v", w.Code, e)
		}
		s.Journal().Reset()
	})
}

// FuzzClassify checks the route parser on arbitrary paths: no panic, and operator classes
// only under the operator's group version.
func FuzzClassify(f *testing.F) {
	for _, p := range []string{operatorPath, targetPath, "/api/v1/namespaces/default/pods", "/apis/operator.metalbear.co/v1/proxy/namespaces/a/targets/b", "//", "/apis/operator.metalbear.co/v1/namespaces//sessions/"} {
		f.Add("GET", p, true)
	}
	f.Fuzz(func(t *testing.T, method, path string, connect bool) {
		r := contract.Classify(contract.Request{Method: method, Path: path, Connect: connect})
		if r.Class.IsOperator() && !strings.Contains(path, "operator.metalbear.co/v1") {
			t.Fatalf("%s %s classified %s", method, path, r.Class)
		}
	})
}

package fakeoperator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/opconform/opconform/contract"
	"github.com/opconform/opconform/journal"
)

// benchmarkGets sends GETs of url with h through a client on transport, in parallel, and
// fails on any answer but 200. Both benchmarks use the same client settings: keep-alive
// connections, no client timeout (a timeout costs a timer per request on the client side).
func benchmarkGets(b *testing.B, transport http.RoundTripper, url string, h http.Header) {
	transport.(*http.Transport).MaxIdleConnsPerHost = 64
	client := &http.Client{Transport: transport}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header = h.Clone()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

// BenchmarkOperatorGetValidated is the operator GET of a current operator with a valid
// certificate checked on every request, over TLS.
func BenchmarkOperatorGetValidated(b *testing.B) {
	s := newTestServer(b, Options{})
	h := headers(hdr.Certificate, b64(validCert(b, s)), hdr.Version, "3.250.0", hdr.Name, "Jos Prez", hdr.Hostname, "laptop")
	benchmarkGets(b, s.Client().Transport, s.URL+operatorPath, h)
	b.StopTimer()
	if e := s.Journal().Entries(); len(e) == 0 || e[0].Certificate.Verdict != "valid" {
		b.Fatal("the certificate was not judged valid")
	}
}

// BenchmarkBareTLSHandler is the baseline: a net/http TLS handler that answers the same
// operator object without classification, checks or journal.
func BenchmarkBareTLSHandler(b *testing.B) {
	s := newTestServer(b, Options{})
	_, body, _ := do(b, s, request{path: operatorPath})
	var obj json.RawMessage = body
	bare := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(obj)
	}))
	bare.StartTLS()
	defer bare.Close()
	h := headers(hdr.Certificate, b64(validCert(b, s)), hdr.Version, "3.250.0", hdr.Name, "Jos Prez", hdr.Hostname, "laptop")
	benchmarkGets(b, bare.Client().Transport, bare.URL+operatorPath, h)
}

// BenchmarkCertificateCheck is the header check alone, with the verdict cache warm.
func BenchmarkCertificateCheck(b *testing.B) {
	s := newTestServer(b, Options{})
	v := b64(validCert(b, s))
	b.ReportAllocs()
	for b.Loop() {
		p := s.examineCertificate([]string{v})
		if reason, _ := p.check(s.clock.Now()); reason != "" {
			b.Fatal(reason)
		}
	}
}

// BenchmarkOperatorGetJournal is the operator GET with the journal on (default capacity)
// and off (capacity -1), in one run, reporting requests per second.
func BenchmarkOperatorGetJournal(b *testing.B) {
	for _, tc := range []struct {
		name     string
		capacity int
	}{{"on", 0}, {"off", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			s := newTestServer(b, Options{JournalCapacity: tc.capacity})
			h := headers(hdr.Certificate, b64(validCert(b, s)), hdr.Version, "3.250.0", hdr.Name, "Jos Prez", hdr.Hostname, "laptop")
			start := time.Now()
			benchmarkGets(b, s.Client().Transport, s.URL+operatorPath, h)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
		})
	}
}

// BenchmarkJournalMemory adds a million operator GET entries, as a long-running fake records
// them, to a journal of the default capacity, and reports the heap in use afterwards.
func BenchmarkJournalMemory(b *testing.B) {
	s := newTestServer(b, Options{})
	h := headers(hdr.Certificate, b64(validCert(b, s)), hdr.Version, "3.250.0", hdr.Name, "Jos Prez", hdr.Hostname, "laptop")
	e := contract.Entry{Method: http.MethodGet, Path: operatorPath, Class: contract.ClassOperatorGet, Headers: s.journalHeaders(h),
		ClientVersion: "3.250.0", Decision: contract.DecisionServed, Code: http.StatusOK}
	const requests = 1_000_000
	for b.Loop() {
		j := journal.New(0)
		for i := 0; i < requests; i++ {
			e.Time = time.Now()
			e.Headers = s.journalHeaders(h) // each request's own header map, as the server journals it
			j.Add(e)
		}
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		b.ReportMetric(float64(m.HeapInuse)/(1<<20), "MiB-heap-after-1M")
		b.ReportMetric(float64(j.Dropped()), "dropped")
		runtime.KeepAlive(j)
	}
}

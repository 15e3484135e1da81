package client

import (
	"io"
	"net/http"
	"testing"
)

// nopTransport answers every request at once, so the benchmarks measure the layer, not a
// network.
type nopTransport struct{}

func (nopTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
}

func benchmarkTransport(b *testing.B, rt http.RoundTripper) {
	req, _ := http.NewRequest(http.MethodGet, "https://127.0.0.1:6443/apis/operator.metalbear.co/v1/namespaces/default/targets", nil)
	req.Header.Set("Accept", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
	}
}

// BenchmarkPlainTransport is the baseline: the transport without the layer.
func BenchmarkPlainTransport(b *testing.B) {
	benchmarkTransport(b, nopTransport{})
}

// BenchmarkLayer is the same transport with the header layer and a certificate set.
func BenchmarkLayer(b *testing.B) {
	l := newLayer(b, "3.250.0")
	l.SetCertificate(make([]byte, 340)) // the size of a real client certificate
	benchmarkTransport(b, l.Wrap(nopTransport{}))
}

// BenchmarkLayerOldClient is a 3.100.0 layer, which classifies each request.
func BenchmarkLayerOldClient(b *testing.B) {
	l := newLayer(b, "3.100.0")
	l.SetCertificate(make([]byte, 340))
	benchmarkTransport(b, l.Wrap(nopTransport{}))
}

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

// BenchmarkCopyFloor is the least a layer that leaves the caller's request alone can do
// (http.RoundTripper's contract): copy the request, copy its header map, add five headers.
// BenchmarkLayer minus this is what the layer costs beyond the copy.
func BenchmarkCopyFloor(b *testing.B) {
	names := []string{"X-Mirrord-Version", "X-Mirrord-Info", "X-Mirrord-Name", "X-Mirrord-Hostname", "X-Mirrord-Certificate"}
	value := []string{"v"}[:1:1]
	floor := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		out := new(http.Request)
		*out = *req
		out.Header = make(http.Header, len(req.Header)+len(names))
		for k, vs := range req.Header {
			out.Header[k] = vs
		}
		for _, name := range names {
			out.Header[name] = value
		}
		return floorNext.RoundTrip(out)
	})
	benchmarkTransport(b, floor)
}

// floorNext is where the floor's request goes on, as the layer's does: through an interface
// the compiler cannot see through, so that the copy is on the heap, as the layer's is.
var floorNext http.RoundTripper = nopTransport{}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

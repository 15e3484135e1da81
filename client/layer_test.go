package client

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/Masterminds/semver/v3"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/opconform/opconform/contract"
)

// recorder is an httptest server that keeps every request's headers.
type headerRecorder struct {
	mu       sync.Mutex
	requests []*http.Request
}

func (hr *headerRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hr.mu.Lock()
	hr.requests = append(hr.requests, r)
	hr.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api":
		_, _ = w.Write([]byte(`{"kind":"APIVersions","versions":["v1"]}`))
	case "/apis":
		_, _ = w.Write([]byte(`{"kind":"APIGroupList","apiVersion":"v1","groups":[]}`))
	case "/api/v1":
		_, _ = w.Write([]byte(`{"kind":"APIResourceList","groupVersion":"v1","resources":[]}`))
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","code":404,"reason":"NotFound"}`))
	}
}

func newLayer(t testing.TB, version string) *Layer {
	t.Helper()
	return NewLayer(LayerConfig{Version: semver.MustParse(version), Identity: Identity{Name: "Jos Prez", Hostname: "Laptop"}})
}

func TestLayerStampsDiscovery(t *testing.T) {
	g := NewWithT(t)
	hr := &headerRecorder{}
	srv := httptest.NewServer(hr)
	defer srv.Close()
	layer := newLayer(t, "3.250.0")
	layer.SetCertificate([]byte{0x30, 0x00})
	cfg := &rest.Config{Host: srv.URL}
	cfg.Wrap(layer.Wrap)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	_, _ = dc.ServerGroups()
	g.Expect(hr.requests).NotTo(BeEmpty())
	for _, r := range hr.requests {
		g.Expect(r.Header.Values("x-mirrord-cli-version")).To(Equal([]string{"3.250.0"}), r.URL.Path)
		g.Expect(r.Header.Get("x-client-name")).To(Equal("Jos Prez"))
		g.Expect(r.Header.Get("x-client-hostname")).To(Equal("Laptop"), "hostname not lower-cased")
		g.Expect(r.Header.Get("x-client-der")).To(Equal("MAA="))
	}
}

func TestLayerNeverMutatesTheCallersRequest(t *testing.T) {
	g := NewWithT(t)
	hr := &headerRecorder{}
	srv := httptest.NewServer(hr)
	defer srv.Close()
	rt := newLayer(t, "3.250.0").Wrap(http.DefaultTransport)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x", nil)
	req.Header.Set("baggage", "a=1")
	resp, err := rt.RoundTrip(req)
	g.Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	g.Expect(req.Header).To(Equal(http.Header{"Baggage": {"a=1"}}), "the caller's headers are untouched")
	g.Expect(hr.requests[0].Header.Get("Baggage")).To(Equal("a=1"))
	g.Expect(hr.requests[0].Header.Get("x-mirrord-cli-version")).To(Equal("3.250.0"))
}

func TestLayerFollowsHistory(t *testing.T) {
	connect := "/apis/operator.metalbear.co/v1/namespaces/default/targets/deployment.nginx?connect=true"
	get := "/apis/operator.metalbear.co/v1/mirrordoperators/operator"
	for _, tc := range []struct {
		version       string
		path          string
		version_, der bool
		name          bool
	}{
		{"3.40.0", connect, false, false, false},
		{"3.46.0", connect, false, true, false},
		{"3.46.0", get, false, false, false},
		{"3.100.0", connect, false, true, true},
		{"3.100.0", get, false, false, false},
		{"3.109.0", get, true, true, true},
	} {
		t.Run(tc.version+tc.path, func(t *testing.T) {
			g := NewWithT(t)
			hr := &headerRecorder{}
			srv := httptest.NewServer(hr)
			defer srv.Close()
			l := newLayer(t, tc.version)
			l.SetCertificate([]byte{0x30, 0x00})
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			resp, err := l.Wrap(http.DefaultTransport).RoundTrip(req)
			g.Expect(err).NotTo(HaveOccurred())
			resp.Body.Close()
			h := hr.requests[0].Header
			g.Expect(h.Get("x-mirrord-cli-version") != "").To(Equal(tc.version_), "version header")
			g.Expect(h.Get("x-client-der") != "").To(Equal(tc.der), "certificate header")
			g.Expect(h.Get("x-client-name") != "").To(Equal(tc.name), "name header")
		})
	}
}

func TestLayerDesignNoteNaming(t *testing.T) {
	g := NewWithT(t)
	hr := &headerRecorder{}
	srv := httptest.NewServer(hr)
	defer srv.Close()
	l := NewLayer(LayerConfig{Version: semver.MustParse("3.250.0-beta.1+20250616"), Headers: contract.DesignNoteHeaders()})
	l.SetCertificate([]byte{0x30, 0x00})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/apis", nil)
	_, _ = l.Wrap(http.DefaultTransport).RoundTrip(req)
	h := hr.requests[0].Header
	g.Expect(h.Get("X-Mirrord-Version")).To(Equal("3.250.0-beta.1+20250616"))
	g.Expect(h.Get("X-Client-Certificate")).To(Equal("MAA="))
	g.Expect(h.Get("X-Client-Info")).To(MatchRegexp(`^version=3\.250\.0-beta\.1\+20250616;platform=[a-z0-9]+/[a-z0-9]+$`))
	g.Expect(h.Get("x-mirrord-cli-version")).To(BeEmpty())
}

func TestLayerConcurrentUse(t *testing.T) {
	g := NewWithT(t)
	hr := &headerRecorder{}
	srv := httptest.NewServer(hr)
	defer srv.Close()
	l := newLayer(t, "3.250.0")
	rt := l.Wrap(http.DefaultTransport)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if i%4 == 0 {
				l.SetCertificate([]byte{0x30, 0x00})
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/apis", nil)
			if resp, err := rt.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	g.Expect(hr.requests).To(HaveLen(16))
	for _, r := range hr.requests {
		g.Expect(r.Header.Values("x-mirrord-cli-version")).To(HaveLen(1), "one version header, never doubled")
		g.Expect(len(r.Header.Values("x-client-der"))).To(BeNumerically("<=", 1))
	}
}

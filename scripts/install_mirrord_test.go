package scripts

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
)

// releaseAsset is the asset name mirrord publishes for this machine's platform.
func releaseAsset(t *testing.T) string {
	switch runtime.GOOS + "/" + runtime.GOARCH {
	case "linux/amd64":
		return "mirrord_linux_x86_64"
	case "linux/arm64":
		return "mirrord_linux_aarch64"
	case "darwin/amd64", "darwin/arm64":
		return "mirrord_mac_universal"
	}
	t.Skipf("mirrord publishes no release for %s/%s", runtime.GOOS, runtime.GOARCH)
	return ""
}

// releaseServer stands in for mirrord's GitHub releases: <url>/<version>/<asset>.zip, a zip
// holding the binary `mirrord`, and <asset>.shasum256, the output of `shasum -a 256 <asset>.zip`
// (as mirrord's release workflow makes them). It counts the requests it serves.
type releaseServer struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte
	requests atomic.Int32
}

// set serves body at path.
func (s *releaseServer) set(path string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = body
}

func (s *releaseServer) get(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, ok := s.files[path]
	return body, ok
}

func newReleaseServer(t *testing.T) *releaseServer {
	s := &releaseServer{files: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		body, ok := s.get(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// publish lays out a release: the zip and its shasum line.
func (s *releaseServer) publish(t *testing.T, version, asset, binary string) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "mirrord", Method: zip.Deflate}
	h.SetMode(0o755)
	f, err := zw.CreateHeader(h)
	if err == nil {
		_, err = f.Write([]byte(binary))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	s.set("/"+version+"/"+asset+".zip", buf.Bytes())
	s.set("/"+version+"/"+asset+".shasum256", fmt.Appendf(nil, "%x  %s.zip\n", sha256.Sum256(buf.Bytes()), asset))
}

func runInstall(t *testing.T, env []string, version string) (stdout, stderr string, err error) {
	cmd := exec.Command("./install-mirrord.sh", version)
	cmd.Env = env
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestInstallMirrordFromARelease(t *testing.T) {
	g := NewWithT(t)
	asset := releaseAsset(t)
	srv := newReleaseServer(t)
	srv.publish(t, "3.250.0", asset, "#!/bin/sh\necho 'mirrord 3.250.0'\n")
	cache := t.TempDir()
	env := append(os.Environ(), "MIRRORD_RELEASES_URL="+srv.URL, "OPCONFORM_CACHE="+cache, "OPCONFORM_DOWNLOAD=")

	out, stderr, err := runInstall(t, env, "3.250.0")
	g.Expect(err).NotTo(HaveOccurred(), stderr)
	bin := filepath.Join(cache, "mirrord", "3.250.0", "mirrord")
	g.Expect(strings.TrimSpace(out)).To(Equal(bin), "prints the installed binary's path")
	version, err := exec.Command(bin, "--version").Output()
	g.Expect(err).NotTo(HaveOccurred(), "the installed binary runs")
	g.Expect(string(version)).To(Equal("mirrord 3.250.0\n"), "it is the binary from the zip")
	g.Expect(srv.requests.Load()).To(BeEquivalentTo(2), "the zip and its checksum")

	out, _, err = runInstall(t, env, "3.250.0")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.TrimSpace(out)).To(Equal(bin))
	g.Expect(srv.requests.Load()).To(BeEquivalentTo(2), "a second call uses the cache without downloading")
}

func TestInstallMirrordRefusesATamperedZip(t *testing.T) {
	g := NewWithT(t)
	asset := releaseAsset(t)
	srv := newReleaseServer(t)
	srv.publish(t, "3.250.0", asset, "#!/bin/sh\necho 'mirrord 3.250.0'\n")
	zipPath := "/3.250.0/" + asset + ".zip"
	published, _ := srv.get(zipPath)
	srv.set(zipPath, append(bytes.Clone(published), 0)) // one byte more than was published
	cache := t.TempDir()
	env := append(os.Environ(), "MIRRORD_RELEASES_URL="+srv.URL, "OPCONFORM_CACHE="+cache)

	_, stderr, err := runInstall(t, env, "3.250.0")
	g.Expect(err).To(HaveOccurred(), "a zip that does not match its checksum is refused")
	g.Expect(stderr).To(ContainSubstring("SHA-256 mismatch for " + asset + ".zip"))
	g.Expect(stderr).To(ContainSubstring("refusing to install it"))
	entries, _ := os.ReadDir(cache)
	g.Expect(entries).To(BeEmpty(), "nothing is left in the cache")
}

func TestInstallMirrordNamesAMissingAsset(t *testing.T) {
	g := NewWithT(t)
	asset := releaseAsset(t)
	srv := newReleaseServer(t)
	env := append(os.Environ(), "MIRRORD_RELEASES_URL="+srv.URL, "OPCONFORM_CACHE="+t.TempDir())

	_, stderr, err := runInstall(t, env, "3.999.0")
	g.Expect(err).To(HaveOccurred())
	g.Expect(stderr).To(ContainSubstring("downloading " + srv.URL + "/3.999.0/" + asset + ".zip: HTTP 404 (no such release asset)"))
}

func TestInstallMirrordWithoutDownloads(t *testing.T) {
	g := NewWithT(t)
	env := append(os.Environ(), "MIRRORD_RELEASES_URL=", "OPCONFORM_DOWNLOAD=", "OPCONFORM_CACHE="+t.TempDir())
	_, stderr, err := runInstall(t, env, "3.250.0")
	var exit *exec.ExitError
	g.Expect(err).To(BeAssignableToTypeOf(exit))
	g.Expect(err.(*exec.ExitError).ExitCode()).To(Equal(3), "exit 3: not available here, the cells skip")
	g.Expect(stderr).To(ContainSubstring("set OPCONFORM_DOWNLOAD=1"))

	_, stderr, err = runInstall(t, env, "../3.250.0")
	g.Expect(err).To(HaveOccurred())
	g.Expect(stderr).To(ContainSubstring("VERSION ../3.250.0: want a release version"))
}

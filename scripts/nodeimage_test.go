package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// Stand-ins for what build-node-image.sh runs besides go: each logs its arguments and
// makes what the script reads next. docker answers "not there" to image inspect unless
// STUB_IMAGE_PRESENT is set.
var nodeImageStubs = map[string]string{
	"docker": `#!/usr/bin/env bash
echo "docker $*" >> "${STUB_LOG}"
case "$1" in
  image) [[ -n "${STUB_IMAGE_PRESENT:-}" ]] ;;
  import) cat > /dev/null ;;
  run) echo builder-id ;;
  save) echo archive ;;
  exec) [[ "$2" == "-i" ]] && cat > /dev/null; exit 0 ;;
esac
`,
	"debootstrap": `#!/usr/bin/env bash
echo "debootstrap $*" >> "${STUB_LOG}"
root="${@: -1}"
mkdir -p "${root}/usr/lib/cni" "${root}/usr/local/sbin" "${root}/etc"
for p in host-local loopback ptp portmap bridge; do touch "${root}/usr/lib/cni/${p}"; done
`,
	"chroot": "#!/usr/bin/env bash\necho \"chroot $1\" >> \"${STUB_LOG}\"\ncat > /dev/null\n",
	"cc": `#!/usr/bin/env bash
echo "cc $*" >> "${STUB_LOG}"
while (($#)); do [[ "$1" == -o ]] && { printf '\177ELF' > "$2"; chmod +x "$2"; }; shift; done
`,
}

func TestBuildNodeImageColdThenCached(t *testing.T) {
	g := NewWithT(t)
	e := newScriptEnv(t)
	stubs := filepath.Join(filepath.Dir(e.log), "bin")
	for name, body := range nodeImageStubs {
		g.Expect(os.WriteFile(filepath.Join(stubs, name), []byte(body), 0o755)).To(Succeed())
	}
	// kind's base image files, as the sigs.k8s.io/kind module holds them
	files := filepath.Join(filepath.Dir(e.log), "kind", "images", "base", "files")
	for _, f := range []string{"usr/local/bin/entrypoint", "kind/bin/mount-product-files.sh", "etc/containerd/config.toml"} {
		g.Expect(os.MkdirAll(filepath.Join(files, filepath.Dir(f)), 0o755)).To(Succeed())
		g.Expect(os.WriteFile(filepath.Join(files, f), nil, 0o644)).To(Succeed())
	}

	image, calls := e.run(t, "build-node-image.sh", "v1.37.0")
	g.Expect(image).To(Equal("opconform/kind-node:v1.37.0"), "prints the image")
	log := strings.Join(calls, "\n")
	g.Expect(log).To(ContainSubstring("mod download -json k8s.io/kubernetes@v1.37.0"), "Kubernetes at the image's version")
	g.Expect(log).To(ContainSubstring("get go.etcd.io/etcd/server/v3@v3.7.0"), "etcd at the version kubeadm names")
	g.Expect(log).To(ContainSubstring("mod edit -require github.com/coredns/coredns@v1.14.6"), "CoreDNS at the version kubeadm names")
	g.Expect(log).To(MatchRegexp(`debootstrap --variant=minbase --include=\S*runc\S* bookworm `))
	g.Expect(log).To(ContainSubstring("docker import -c ENV container=docker -c ENTRYPOINT [\"/usr/local/bin/entrypoint\", \"/sbin/init\"] - opconform/kind-base:v1.37.0"))
	for _, tag := range []string{"kube-apiserver:v1.37.0", "kube-proxy:v1.37.0", "etcd:3.7.0-0", "coredns/coredns:v1.14.6", "pause:3.10"} {
		g.Expect(log).To(ContainSubstring("build --quiet -t registry.k8s.io/"+tag), "image %s built here", tag)
		g.Expect(log).To(MatchRegexp(`docker save .*registry.k8s.io/`+strings.ReplaceAll(tag, ".", `\.`)), "and preloaded")
	}
	g.Expect(log).To(ContainSubstring("docker commit --change ENTRYPOINT [ \"/usr/local/bin/entrypoint\", \"/sbin/init\" ] --change ENV container=docker opconform-node-build-"))
	g.Expect(log).To(MatchRegexp(`docker rm -f opconform-node-build-\d+`), "the build container is removed")

	e.env = append(e.env, "STUB_IMAGE_PRESENT=1")
	image, calls = e.run(t, "build-node-image.sh", "v1.37.0")
	g.Expect(image).To(Equal("opconform/kind-node:v1.37.0"))
	g.Expect(calls).To(Equal([]string{"docker image inspect opconform/kind-node:v1.37.0"}), "an image that is there is reused")
}

// Package scripts holds the project's shell scripts; its tests run their cold paths (empty
// caches) in seconds, with a stub `go` on PATH that makes the outputs a real build would.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// stubGo is a `go` that logs its arguments and makes what the build scripts expect of each
// call: a go.mod for `mod download -json`, executables for `build -o`.
const stubGo = `#!/usr/bin/env bash
set -o errexit -o nounset
echo "$*" >> "${STUB_LOG}"
case "$1 ${2:-}" in
  "mod download")
    printf 'module k8s.io/kubernetes\nreplace k8s.io/api => ./staging/src/k8s.io/api\n' > "${STUB_DIR}/kubernetes.mod"
    printf '{\n\t"Path": "k8s.io/kubernetes",\n\t"GoMod": "%s",\n}\n' "${STUB_DIR}/kubernetes.mod" ;;
  "mod init") echo "module $3" > go.mod ;;
  "list -m") echo "${STUB_DIR}/kind" ;;
  "build "*)
    out="" pkgs=()
    while (($#)); do
      case "$1" in -o) out="$2"; shift 2 ;; -ldflags|-tags) shift 2 ;; -*) shift ;; build) shift ;; *) pkgs+=("$1"); shift ;; esac
    done
    if [[ "${out}" == */ ]]; then
      for p in "${pkgs[@]}"; do printf '#!/bin/sh\n' > "${out}$(basename "${p}")"; chmod +x "${out}$(basename "${p}")"; done
      if [[ -f "${out}kubeadm" ]]; then
        printf '#!/bin/sh\necho registry.k8s.io/kube-apiserver:v1.37.0\necho registry.k8s.io/coredns/coredns:v1.14.6\necho registry.k8s.io/pause:3.10.2\necho registry.k8s.io/etcd:3.7.0-0\n' > "${out}kubeadm"
      fi
    else
      printf '#!/bin/sh\n' > "${out}"; chmod +x "${out}"
    fi ;;
esac
`

// stubDocker is a Docker that holds the images STUB_DOCKER_IMAGES names (none by default):
// a binary copied out of one answers --version as kube-apiserver STUB_KUBE_VERSION (else
// v1.37.0) or etcd 3.7.0 would.
const stubDocker = `#!/usr/bin/env bash
echo "docker $*" >> "${STUB_LOG}"
case "$1" in
  image) [[ " ${STUB_DOCKER_IMAGES:-} " == *" $3 "* ]] ;;
  create) echo "container-of-$2" ;;
  cp)
    case "$(basename "$2")" in
      kube-apiserver) v="Kubernetes ${STUB_KUBE_VERSION:-v1.37.0}" ;;
      etcd) v="etcd Version: 3.7.0" ;;
    esac
    printf '#!/bin/sh\necho "%s"\n' "${v}" > "$3"; chmod +x "$3" ;;
  rm) ;;
  *) exit 1 ;;
esac
`

// scriptEnv is a cold machine: a stub go first on PATH (and a Docker without images), an
// empty cache, a new HOME.
type scriptEnv struct {
	cache, log string
	env        []string
}

func newScriptEnv(t *testing.T) scriptEnv {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(stubGo), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(stubDocker), 0o755); err != nil {
		t.Fatal(err)
	}
	e := scriptEnv{cache: filepath.Join(dir, "cache"), log: filepath.Join(dir, "go.log")}
	e.env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"OPCONFORM_CACHE="+e.cache, "HOME="+filepath.Join(dir, "home"),
		"STUB_LOG="+e.log, "STUB_DIR="+dir, "KUBE_APISERVER=", "ETCD=", "KUBEBUILDER_ASSETS=")
	return e
}

// run runs a script and returns its standard output's last line and the go calls it made.
func (e scriptEnv) run(t *testing.T, script string, args ...string) (string, []string) {
	t.Helper()
	_ = os.Remove(e.log)
	cmd := exec.Command("./"+script, args...)
	cmd.Env = e.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\nstderr:\n%s", script, args, err, stderr.String())
	}
	calls, _ := os.ReadFile(e.log)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], strings.Split(strings.TrimSpace(string(calls)), "\n")
}

func builds(calls []string) []string {
	var b []string
	for _, c := range calls {
		if strings.HasPrefix(c, "build ") {
			b = append(b, c)
		}
	}
	return b
}

func TestBuildKubernetesColdThenCached(t *testing.T) {
	g := NewWithT(t)
	e := newScriptEnv(t)
	dir, calls := e.run(t, "build-kubernetes.sh", "kube-apiserver", "kubelet")
	g.Expect(dir).To(Equal(filepath.Join(e.cache, "bin", "kubernetes-v1.37.0")), "prints the output directory")
	for _, b := range []string{"kube-apiserver", "kubelet"} {
		g.Expect(filepath.Join(dir, b)).To(BeAnExistingFile())
	}
	g.Expect(builds(calls)).To(HaveLen(1), "one go build for all commands")
	for _, stamp := range []string{
		"k8s.io/component-base/version.gitVersion=v1.37.0", "k8s.io/component-base/version.gitMajor=1",
		"k8s.io/component-base/version.gitMinor=37", "k8s.io/client-go/pkg/version.gitVersion=v1.37.0",
	} {
		g.Expect(builds(calls)[0]).To(ContainSubstring(stamp), "binaries are stamped with their version")
	}

	again, calls := e.run(t, "build-kubernetes.sh", "kube-apiserver", "kubelet", "kubeadm")
	g.Expect(again).To(Equal(dir))
	g.Expect(builds(calls)).To(ConsistOf(And(ContainSubstring("k8s.io/kubernetes/cmd/kubeadm"), Not(ContainSubstring("cmd/kubelet")))),
		"only the missing command is built")

	_, calls = e.run(t, "build-kubernetes.sh", "kubelet")
	g.Expect(builds(calls)).To(BeEmpty(), "a cached command is not built again")
}

func TestBuildKubernetesAnotherVersion(t *testing.T) {
	g := NewWithT(t)
	e := newScriptEnv(t)
	dir, calls := e.run(t, "build-kubernetes.sh", "--version=v1.36.4", "kubelet")
	g.Expect(dir).To(Equal(filepath.Join(e.cache, "bin", "kubernetes-v1.36.4")))
	g.Expect(calls).To(ContainElement("mod download -json k8s.io/kubernetes@v1.36.4"))
	g.Expect(builds(calls)[0]).To(ContainSubstring("k8s.io/component-base/version.gitVersion=v1.36.4 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36"))
	mod, err := os.ReadFile(filepath.Join(filepath.Dir(e.log), "kubernetes.mod"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(mod)).To(ContainSubstring("./staging/src/k8s.io/api"))
}

func TestBuildGoToolColdThenCached(t *testing.T) {
	g := NewWithT(t)
	e := newScriptEnv(t)
	dir, calls := e.run(t, "build-go-tool.sh", "crictl", "sigs.k8s.io/cri-tools", "v1.34.0", "sigs.k8s.io/cri-tools/cmd/crictl")
	g.Expect(dir).To(Equal(filepath.Join(e.cache, "bin", "crictl-v1.34.0")))
	g.Expect(filepath.Join(dir, "crictl")).To(BeAnExistingFile())
	g.Expect(calls).To(ContainElement("mod edit -require sigs.k8s.io/cri-tools@v1.34.0"))
	g.Expect(builds(calls)).To(HaveLen(1))

	e.env = append(e.env, "LDFLAGS=-X example.com/v.Version={version}", "TAGS=no_btrfs")
	dir, calls = e.run(t, "build-go-tool.sh", "containerd", "github.com/containerd/containerd/v2", "v2.4.2", "github.com/containerd/containerd/v2/cmd/ctr")
	g.Expect(filepath.Join(dir, "ctr")).To(BeAnExistingFile())
	g.Expect(builds(calls)[0]).To(And(ContainSubstring("-X example.com/v.Version=v2.4.2"), ContainSubstring("-tags no_btrfs")))

	_, calls = e.run(t, "build-go-tool.sh", "crictl", "sigs.k8s.io/cri-tools", "v1.34.0", "sigs.k8s.io/cri-tools/cmd/crictl")
	g.Expect(calls).To(Equal([]string{""}), "warm: no go call at all")
}

func TestBuildEtcdColdThenCached(t *testing.T) {
	g := NewWithT(t)
	e := newScriptEnv(t)
	dir, calls := e.run(t, "build-etcd.sh", "v3.7.0")
	g.Expect(dir).To(Equal(filepath.Join(e.cache, "bin", "etcd-v3.7.0")))
	g.Expect(filepath.Join(dir, "etcd")).To(BeAnExistingFile())
	g.Expect(calls).To(ContainElement("get go.etcd.io/etcd/server/v3@v3.7.0"))
	_, calls = e.run(t, "build-etcd.sh", "v3.7.0")
	g.Expect(calls).To(Equal([]string{""}))
}

func TestBuildKubernetesRefusesBadNames(t *testing.T) {
	e := newScriptEnv(t)
	cmd := exec.Command("./build-kubernetes.sh", "../etc")
	cmd.Env = e.env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not a command name: ../etc") {
		t.Fatalf("want a refusal naming the argument, got %v: %s", err, out)
	}
}

func TestBuildControlPlaneColdThenCached(t *testing.T) {
	g := NewWithT(t)
	e := newScriptEnv(t)
	dir, calls := e.run(t, "build-control-plane.sh")
	g.Expect(dir).To(Equal(filepath.Join(e.cache, "bin", "control-plane-kubernetes-v1.37.0-etcd-v3.7.0")))
	g.Expect(filepath.Join(dir, "kube-apiserver")).To(BeAnExistingFile())
	g.Expect(filepath.Join(dir, "etcd")).To(BeAnExistingFile())
	g.Expect(builds(calls)).To(HaveLen(2), "kube-apiserver and etcd")

	again, calls := e.run(t, "build-control-plane.sh")
	g.Expect(again).To(Equal(dir))
	g.Expect(calls).To(Equal([]string{""}), "warm: no go call at all")
}

// TestBuildControlPlaneTakesTheNodeImagesBuild: where Docker holds kube-apiserver's and
// etcd's images of the versions (the node image's build made them), their binaries are taken
// and nothing is built; an image whose binary is of another version is not taken.
func TestBuildControlPlaneTakesTheNodeImagesBuild(t *testing.T) {
	g := NewWithT(t)
	e := newScriptEnv(t)
	e.env = append(e.env, "STUB_DOCKER_IMAGES=registry.k8s.io/kube-apiserver:v1.37.0 registry.k8s.io/etcd:3.7.0-0")
	dir, calls := e.run(t, "build-control-plane.sh")
	g.Expect(builds(calls)).To(BeEmpty(), "nothing built")
	g.Expect(calls).To(ContainElement(MatchRegexp(`^docker cp container-of-registry\.k8s\.io/kube-apiserver:v1\.37\.0:/usr/local/bin/kube-apiserver `)), "the binary of the image")
	g.Expect(calls).To(ContainElement(MatchRegexp(`^docker rm container-of-registry\.k8s\.io/etcd:3\.7\.0-0$`)), "the container copied from is removed")
	for _, name := range []string{"kube-apiserver", "etcd"} {
		fi, err := os.Lstat(filepath.Join(dir, name))
		g.Expect(err).NotTo(HaveOccurred(), name)
		g.Expect(fi.Mode().IsRegular() && fi.Mode()&0o111 != 0).To(BeTrue(), "%s is an executable file in the cache", name)
	}

	other := newScriptEnv(t)
	other.env = append(other.env, "STUB_DOCKER_IMAGES=registry.k8s.io/kube-apiserver:v1.37.0 registry.k8s.io/etcd:3.7.0-0", "STUB_KUBE_VERSION=v1.36.1")
	_, calls = other.run(t, "build-control-plane.sh")
	g.Expect(builds(calls)).To(HaveLen(2), "a kube-apiserver of another version is not taken: both are built")
}

// TestBadKnobsAreNamed: each knob given a bad value stops before anything runs, with one line
// that names the problem and where it is.
func TestBadKnobsAreNamed(t *testing.T) {
	for _, tc := range []struct {
		name, cmd string
		want      string
	}{
		{"a space after a comma", `make conformance CLIENTS="mirrord-3.250.0, nope"`, `CLIENTS: the matrix has no "nope"; it has: mirrord-3.41.0`},
		{"a matrix in a folder that does not exist", `make conformance MATRIX=nowhere/m.yaml`, "conformance: MATRIX=nowhere/m.yaml: there is no folder nowhere"},
		{"a label filter that does not parse", `make conformance GINKGO_LABEL_FILTER='req:X &&'`, `GINKGO_LABEL_FILTER "req:X &&": Syntax Error Parsing Label Filter req:X && Unexpected EOF.`},
		{"a version without its patch", `go run ./cmd/opconform add-client --version 3.251`, `--version: "3.251" is not MAJOR.MINOR.PATCH: write 3.251.0`},
		{"a defect that does not exist", `make client VERSION=3.250.0 DEFECT=no-refreshh`, `unknown defect "no-refreshh" built in; known: drop-certificate-on-connect`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			cmd := exec.Command("bash", "-c", tc.cmd)
			cmd.Dir = ".."
			cmd.Env = append(os.Environ(), "ARTIFACTS="+t.TempDir())
			out, err := cmd.CombinedOutput()
			g.Expect(err).To(HaveOccurred(), "%s", out)
			g.Expect(string(out)).To(ContainSubstring(tc.want))
			g.Expect(string(out)).NotTo(ContainSubstring("command not found"))
			g.Expect(string(out)).NotTo(ContainSubstring("Running Suite"), "nothing ran")
		})
	}
	_, err := os.Stat("../bin/opclient-3.250.0-no-refreshh")
	NewWithT(t).Expect(os.IsNotExist(err)).To(BeTrue(), "no broken binary is left in bin/")
}

// TestBuildClientKeepsABinaryOfTheSameInputs: a client already built from the same inputs is
// kept, not linked again; another toolchain setting makes it anew. The real go builds here,
// into the repository's bin/, as the suites' own builds do, a version no other test builds.
func TestBuildClientKeepsABinaryOfTheSameInputs(t *testing.T) {
	g := NewWithT(t)
	build := func(env ...string) (string, os.FileInfo) {
		cmd := exec.Command("./build-client.sh", "--stand-in", "3.101.0")
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		g.Expect(err).NotTo(HaveOccurred(), "%s", out)
		fi, err := os.Stat(filepath.Join("..", strings.TrimSpace(string(out))))
		g.Expect(err).NotTo(HaveOccurred(), "%s", out)
		return strings.TrimSpace(string(out)), fi
	}
	path, first := build()
	g.Expect(path).To(Equal("bin/mirrordlike-3.101.0"))
	_, again := build()
	g.Expect(again.ModTime()).To(Equal(first.ModTime()), "the same inputs: the binary is kept")
	goflags, err := exec.Command("go", "env", "GOFLAGS").Output()
	g.Expect(err).NotTo(HaveOccurred())
	_, other := build("GOFLAGS=" + strings.TrimSpace(string(goflags)) + " -tags=opconformkeep") // selects no other file
	g.Expect(other.ModTime()).NotTo(Equal(first.ModTime()), "another toolchain setting: built anew")
	inputs, err := os.ReadFile(filepath.Join("..", path+".inputs"))
	g.Expect(err).NotTo(HaveOccurred())
	_, back := build()
	now, err := os.ReadFile(filepath.Join("..", path+".inputs"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(now).NotTo(Equal(inputs), "back to the first settings: built anew, for them")
	g.Expect(back.ModTime()).NotTo(Equal(other.ModTime()))
}

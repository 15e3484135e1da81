#!/usr/bin/env bash
# Builds a kind node image for Kubernetes VERSION with no image registry, in the layout
# `kind build node-image` produces, and prints its name (opconform/kind-node:<version>):
#   - a Debian rootfs (debootstrap, Debian's packages: systemd, iptables, runc, CNI plugins…)
#     with kind's own base image files from the sigs.k8s.io/kind module, prepared as kind's
#     images/base/Dockerfile prepares them;
#   - containerd, ctr and its runc shim, crictl, built from their Go modules;
#   - kubeadm, kubelet, kubectl in /usr/bin, the version in /kind/version;
#   - every image the cluster runs, built here from Go modules (kube-apiserver,
#     kube-controller-manager, kube-scheduler, kube-proxy, etcd and CoreDNS at the versions
#     kubeadm asks for) or from source (pause), preloaded into the node's containerd;
#   - pod networking without a CNI image: kind's default CNI (kindnetd) is not on any
#     registry we reach, so the node carries a ptp + host-local conflist for its pod range
#     (one-node clusters; the tier disables kind's default CNI), and a StorageClass without a
#     dynamic provisioner.
# Reused when the image is there; binaries are cached under ${OPCONFORM_CACHE:-~/.cache/opconform}.
# Needs root (debootstrap, chroot) and a Docker engine (make docker-up).
# Usage: scripts/build-node-image.sh VERSION   (e.g. v1.37.0)
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"
# shellcheck source=scripts/lib/versions.sh
source scripts/lib/versions.sh

# WORK holds the rootfs and build contexts; BUILDER is the container images are loaded in.
WORK=""
BUILDER=""
cleanup() {
  [[ -z "${BUILDER}" ]] || docker rm -f "${BUILDER}" >/dev/null 2>&1 || true
  [[ -z "${WORK}" ]] || rm -rf "${WORK}"
}
trap cleanup EXIT

step() { echo "node-image: $*" >&2; }

main() {
  local version="${1:?usage: build-node-image.sh VERSION}"
  local image="opconform/kind-node:${version}"
  if docker image inspect "${image}" >/dev/null 2>&1; then
    echo "${image}"
    return
  fi
  # the rootfs's tool, installed as make docker-up installs Docker: from Debian's packages
  if ! command -v debootstrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    echo "build-node-image: installing Debian's debootstrap" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  local tool
  for tool in debootstrap docker cc; do
    command -v "${tool}" >/dev/null 2>&1 || { echo "build-node-image: ${tool} is needed (Debian: apt-get install debootstrap docker.io gcc; make docker-up starts Docker)" >&2; return 1; }
  done
  local start=${SECONDS}
  WORK="$(mktemp -d)"
  step "[1/6] Kubernetes ${version} binaries"
  local kube
  kube="$(scripts/build-kubernetes.sh --version="${version}" kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)"
  local images etcd_tag coredns_tag
  images="$("${kube}/kubeadm" config images list --kubernetes-version "${version}")"
  etcd_tag="$(sed -n 's|^registry.k8s.io/etcd:||p' <<<"${images}")"
  coredns_tag="$(sed -n 's|^registry.k8s.io/coredns/coredns:||p' <<<"${images}")"
  [[ -n "${etcd_tag}" && -n "${coredns_tag}" ]] \
    || { echo "build-node-image: kubeadm ${version} names no etcd or CoreDNS image: ${images}" >&2; return 1; }
  step "[2/6] containerd ${CONTAINERD_VERSION}, crictl ${CRICTL_VERSION}, etcd ${etcd_tag}, CoreDNS ${coredns_tag}, pause"
  local containerd crictl etcd coredns pause
  containerd="$(TAGS="no_btrfs no_devmapper no_zfs" LDFLAGS="-X github.com/containerd/containerd/v2/version.Version={version}" \
    scripts/build-go-tool.sh containerd github.com/containerd/containerd/v2 "${CONTAINERD_VERSION}" \
    github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/ctr \
    github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2)"
  crictl="$(LDFLAGS="-X sigs.k8s.io/cri-tools/pkg/version.Version={version}" \
    scripts/build-go-tool.sh crictl sigs.k8s.io/cri-tools "${CRICTL_VERSION}" sigs.k8s.io/cri-tools/cmd/crictl)"
  etcd="$(scripts/build-etcd.sh "v${etcd_tag%-*}")"
  coredns="$(scripts/build-go-tool.sh coredns github.com/coredns/coredns "${coredns_tag}" github.com/coredns/coredns)"
  pause="$(build_pause)"
  step "[3/6] Debian ${DEBIAN_SUITE} rootfs with kind's base files"
  local base="opconform/kind-base:${version}"
  build_base "${base}" "${containerd}" "${crictl}"
  step "[4/6] component images"
  component "registry.k8s.io/kube-apiserver:${version}" scratch "${kube}/kube-apiserver"
  component "registry.k8s.io/kube-controller-manager:${version}" scratch "${kube}/kube-controller-manager"
  component "registry.k8s.io/kube-scheduler:${version}" scratch "${kube}/kube-scheduler"
  component "registry.k8s.io/kube-proxy:${version}" "${base}" "${kube}/kube-proxy" # iptables, conntrack
  component "registry.k8s.io/etcd:${etcd_tag}" scratch "${etcd}/etcd"
  component "registry.k8s.io/coredns/coredns:${coredns_tag}" scratch "${coredns}/coredns" /coredns
  component "${PAUSE_IMAGE}" scratch "${pause}/pause" /pause
  step "[5/6] node: Kubernetes binaries in, images preloaded into containerd"
  build_node "${base}" "${image}" "${version}" "${kube}" \
    "registry.k8s.io/kube-apiserver:${version}" "registry.k8s.io/kube-controller-manager:${version}" \
    "registry.k8s.io/kube-scheduler:${version}" "registry.k8s.io/kube-proxy:${version}" \
    "registry.k8s.io/etcd:${etcd_tag}" "registry.k8s.io/coredns/coredns:${coredns_tag}" "${PAUSE_IMAGE}"
  step "[6/6] built ${image} in $((SECONDS - start)) s"
  echo "${image}"
}

# build_pause compiles a static pause: it sleeps until a signal ends it, as Kubernetes' does.
build_pause() {
  local out="${OPCONFORM_CACHE:-${HOME}/.cache/opconform}/bin/pause"
  if [[ ! -x "${out}/pause" ]]; then
    mkdir -p "${out}"
    cat > "${WORK}/pause.c" <<'C'
/* pause: the sandbox process of a pod; exits on SIGINT or SIGTERM, reaps zombies. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void quit(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGINT, quit);
  signal(SIGTERM, quit);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
C
    cc -static -O2 -o "${out}/pause" "${WORK}/pause.c"
  fi
  echo "${out}"
}

# build_base makes the rootfs kind's base image has, and imports it as base.
build_base() {
  local base="$1" containerd="$2" crictl="$3" rootfs="${WORK}/rootfs" kindfiles
  kindfiles="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kind)/images/base/files"
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,jq,procps,runc,containernetworking-plugins \
    "${DEBIAN_SUITE}" "${rootfs}" >"${WORK}/debootstrap.log" 2>&1 \
    || { tail -n 20 "${WORK}/debootstrap.log" >&2; return 1; }
  # what kind's images/base/Dockerfile copies and runs
  cp -r "${kindfiles}/." "${rootfs}/"
  chmod -R u+w "${rootfs}/kind" "${rootfs}/etc" "${rootfs}/usr/local/bin"
  chmod 0755 "${rootfs}"/usr/local/bin/* "${rootfs}"/kind/bin/*
  install -m 0755 "${containerd}"/containerd "${containerd}"/ctr "${containerd}"/containerd-shim-runc-v2 "${crictl}/crictl" "${rootfs}/usr/local/bin/"
  ln -sf /usr/sbin/runc "${rootfs}/usr/local/sbin/runc"
  mkdir -p "${rootfs}/opt/cni/bin" "${rootfs}/etc/kubernetes/manifests" "${rootfs}/etc/cni/net.d" "${rootfs}/kind/manifests"
  local p
  for p in host-local loopback ptp portmap; do cp "${rootfs}/usr/lib/cni/${p}" "${rootfs}/opt/cni/bin/"; done
  chroot "${rootfs}" /bin/bash -o errexit -c '
    find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
    rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
      /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
      /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
    echo ReadKMsg=no >> /etc/systemd/journald.conf
    systemctl enable kubelet.service containerd.service undo-mount-hacks.service
    systemctl mask systemd-binfmt.service
    ctr oci spec \
      | jq ".hooks.createContainer[.hooks.createContainer | length] |= . + {\"path\": \"/kind/bin/mount-product-files.sh\"}" \
      | jq "del(.process.rlimits)" > /etc/containerd/cri-base.json
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old
  '
  # pod networking for a one-node cluster: the node's pod range on point-to-point links
  cat > "${rootfs}/etc/cni/net.d/10-opconform-ptp.conflist" <<'JSON'
{
  "cniVersion": "0.4.0",
  "name": "opconform-ptp",
  "plugins": [
    {"type": "ptp", "ipMasq": false, "mtu": 1500,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
  cat > "${rootfs}/kind/manifests/default-storage.yaml" <<'YAML'
# no dynamic provisioner in this node image: local volumes are bound statically
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
YAML
  tar -C "${rootfs}" -c . | docker import \
    -c 'ENV container=docker' -c 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' - "${base}" >/dev/null
}

# component builds a one-binary image: IMAGE FROM BINARY [ENTRYPOINT]; without an
# entrypoint the binary goes to /usr/local/bin, where kubeadm's manifests call it by name.
component() {
  local image="$1" from="$2" binary="$3" entrypoint="${4:-}" ctx="${WORK}/ctx-${RANDOM}"
  mkdir -p "${ctx}"
  cp "${binary}" "${ctx}/"
  {
    echo "FROM ${from}"
    echo 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    if [[ -n "${entrypoint}" ]]; then
      echo "COPY $(basename "${binary}") ${entrypoint}"
      echo "ENTRYPOINT [\"${entrypoint}\"]"
    else
      echo "COPY $(basename "${binary}") /usr/local/bin/"
    fi
  } > "${ctx}/Dockerfile"
  DOCKER_BUILDKIT=0 docker build --quiet -t "${image}" "${ctx}" >/dev/null
}

# build_node does what kind's node-image builder does: binaries in, the version written,
# images imported into the node's containerd (k8s.io namespace), then a commit. (kindest/node
# also sets STOPSIGNAL SIGRTMIN+3, which Docker 20.10 refuses in a commit; kind removes its
# nodes with docker rm -f, so no stop signal is ever sent.)
build_node() {
  local base="$1" image="$2" version="$3" kube="$4"
  shift 4
  BUILDER="opconform-node-build-$$"
  docker run -d --name "${BUILDER}" --entrypoint sleep "${base}" infinity >/dev/null
  local b
  for b in kubeadm kubelet kubectl; do
    docker cp "${kube}/${b}" "${BUILDER}:/usr/bin/${b}"
  done
  docker exec "${BUILDER}" sh -c "echo ${version} > /kind/version"
  docker exec -d "${BUILDER}" sh -c 'containerd > /var/log/containerd-build.log 2>&1'
  local _
  for _ in $(seq 1 100); do
    docker exec "${BUILDER}" ctr version >/dev/null 2>&1 && break
    sleep 0.2
  done
  docker save "$@" | docker exec -i "${BUILDER}" ctr --namespace=k8s.io images import --all-platforms --no-unpack --digests - >&2
  docker exec "${BUILDER}" sh -c 'pkill containerd; while pgrep -x containerd >/dev/null; do sleep 0.1; done'
  docker commit \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
    --change 'ENV container=docker' \
    "${BUILDER}" "${image}" >/dev/null
}

main "$@"

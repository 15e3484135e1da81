#!/usr/bin/env bash
# Builds the apiserver tier's control plane — kube-apiserver (scripts/build-kubernetes.sh)
# and etcd, from their Go modules at the versions in scripts/lib/versions.sh — and prints a
# directory holding both: ${OPCONFORM_CACHE:-~/.cache/opconform}/bin/control-plane-<versions>/.
# Does nothing when they are already there. Where Docker holds the images of kube-apiserver
# and etcd at those versions (the kind tier's node image built here makes them, from the same
# build), their binaries are taken from the images instead: one Kubernetes build serves both
# tiers. Nothing it builds goes into the repository.
# Binaries given through KUBE_APISERVER and ETCD (paths), or envtest's KUBEBUILDER_ASSETS
# (a directory holding kube-apiserver and etcd), are used instead and not built.
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"
# shellcheck source=scripts/lib/versions.sh
source scripts/lib/versions.sh

main() {
  if [[ -n "${KUBE_APISERVER:-}" && -n "${ETCD:-}" ]]; then
    check "${KUBE_APISERVER}" && check "${ETCD}"
    dirname "${KUBE_APISERVER}"
    return
  fi
  if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
    check "${KUBEBUILDER_ASSETS}/kube-apiserver" && check "${KUBEBUILDER_ASSETS}/etcd"
    echo "${KUBEBUILDER_ASSETS}"
    return
  fi
  local cache="${OPCONFORM_CACHE:-${HOME}/.cache/opconform}/bin"
  local out="${cache}/control-plane-kubernetes-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}"
  if [[ -x "${out}/kube-apiserver" && -x "${out}/etcd" ]]; then
    echo "${out}"
    return
  fi
  if from_image "registry.k8s.io/kube-apiserver:${KUBERNETES_VERSION}" kube-apiserver "Kubernetes ${KUBERNETES_VERSION}" "${out}" &&
    from_image "registry.k8s.io/etcd:${ETCD_VERSION#v}-0" etcd "etcd Version: ${ETCD_VERSION#v}" "${out}"; then
    echo "build-control-plane: kube-apiserver ${KUBERNETES_VERSION} and etcd ${ETCD_VERSION} taken from their images in Docker, not built again" >&2
    echo "${out}"
    return
  fi
  local kube etcd
  kube="$(scripts/build-kubernetes.sh kube-apiserver)"
  etcd="$(scripts/build-etcd.sh "${ETCD_VERSION}")"
  mkdir -p "${out}"
  ln -sf "${kube}/kube-apiserver" "${out}/kube-apiserver"
  ln -sf "${etcd}/etcd" "${out}/etcd"
  echo "${out}"
}

# from_image IMAGE NAME WANT OUT copies /usr/local/bin/NAME out of IMAGE, when Docker has
# the image, into OUT, if its --version says WANT; it fails, leaving nothing, otherwise.
# Each docker command is bounded.
from_image() {
  local image="$1" name="$2" want="$3" out="$4" tmp id ok=""
  command -v docker >/dev/null 2>&1 || return 1
  timeout 30 docker image inspect "${image}" >/dev/null 2>&1 || return 1
  id="$(timeout 30 docker create "${image}" /none 2>/dev/null)" || return 1
  tmp="$(mktemp -d)"
  if timeout 120 docker cp "${id}:/usr/local/bin/${name}" "${tmp}/${name}" >/dev/null 2>&1 &&
    "${tmp}/${name}" --version 2>/dev/null | grep -qF "${want}"; then
    mkdir -p "${out}"
    mv -f "${tmp}/${name}" "${out}/${name}"
    ok=1
  fi
  timeout 30 docker rm "${id}" >/dev/null 2>&1 || true
  rm -rf "${tmp}"
  [[ -n "${ok}" ]]
}

check() {
  [[ -x "$1" ]] || { echo "build-control-plane: $1 is not an executable" >&2; return 1; }
}

main "$@"

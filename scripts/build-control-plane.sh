#!/usr/bin/env bash
# Builds the apiserver tier's control plane — kube-apiserver (scripts/build-kubernetes.sh)
# and etcd, from their Go modules at the versions in scripts/lib/versions.sh — and prints a
# directory holding both: ${OPCONFORM_CACHE:-~/.cache/opconform}/bin/control-plane-<versions>/.
# Does nothing when they are already there. Nothing it builds goes into the repository.
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
  local kube etcd
  kube="$(scripts/build-kubernetes.sh kube-apiserver)"
  etcd="$(scripts/build-etcd.sh "${ETCD_VERSION}")"
  mkdir -p "${out}"
  ln -sf "${kube}/kube-apiserver" "${out}/kube-apiserver"
  ln -sf "${etcd}/etcd" "${out}/etcd"
  echo "${out}"
}

check() {
  [[ -x "$1" ]] || { echo "build-control-plane: $1 is not an executable" >&2; return 1; }
}

main "$@"

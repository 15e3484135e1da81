#!/usr/bin/env bash
# Builds Kubernetes commands (kube-apiserver, kubelet, kubeadm, …) from the k8s.io/kubernetes
# Go module at KUBERNETES_VERSION (scripts/lib/versions.sh) into
# ${OPCONFORM_CACHE:-~/.cache/opconform}/bin/kubernetes-<version>/ and prints that directory.
# Every binary is stamped with its real version (what /version and `kubectl version` report,
# what kubeadm's skew checks read). Commands already there are not built again.
# Usage: scripts/build-kubernetes.sh [--version=vX.Y.Z] COMMAND...   (e.g. kube-apiserver kubelet)
# --version builds another release than the pinned one (its staging modules at v0.Y.Z).
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"
# shellcheck source=scripts/lib/versions.sh
source scripts/lib/versions.sh
# shellcheck source=scripts/lib/gomodule.sh
source scripts/lib/gomodule.sh

# WORK is the throwaway module the build happens in; a global, so the EXIT trap can name it.
WORK=""
cleanup() { [[ -z "${WORK}" ]] || rm -rf "${WORK}"; }
trap cleanup EXIT

main() {
  if [[ "${1:-}" == --version=* ]]; then
    KUBERNETES_VERSION="${1#--version=}"
    shift
    [[ "${KUBERNETES_VERSION}" =~ ^v1\.([0-9]+\.[0-9]+)$ ]] || { echo "build-kubernetes: --version=${KUBERNETES_VERSION}: want v1.Y.Z" >&2; return 2; }
    KUBERNETES_STAGING_VERSION="v0.${BASH_REMATCH[1]}"
  fi
  (($#)) || { echo "usage: build-kubernetes.sh [--version=vX.Y.Z] COMMAND..." >&2; return 2; }
  local out="${OPCONFORM_CACHE:-${HOME}/.cache/opconform}/bin/kubernetes-${KUBERNETES_VERSION}"
  local missing=() cmd
  for cmd in "$@"; do
    [[ "${cmd}" =~ ^[a-z-]+$ ]] || { echo "build-kubernetes: not a command name: ${cmd}" >&2; return 2; }
    [[ -x "${out}/${cmd}" ]] || missing+=("${cmd}")
  done
  if ((${#missing[@]})); then
    mkdir -p "${out}"
    WORK="$(mktemp -d)"
    build "${out}" "${missing[@]}"
  fi
  echo "${out}"
}

# build compiles the commands in one go build, so their shared packages compile once.
build() {
  local out="$1"
  shift
  local pkgs=() cmd
  for cmd in "$@"; do pkgs+=("k8s.io/kubernetes/cmd/${cmd}"); done
  echo "build-kubernetes: building $* ${KUBERNETES_VERSION} from the Go module proxy (several minutes cold; cached in ${out})" >&2
  local start=${SECONDS}
  cd "${WORK}"
  go mod init opconform.local/kubernetes >/dev/null 2>&1
  write_tools_go "${pkgs[@]}"
  # k8s.io/kubernetes maps its staging modules to ./staging; point them at the proxy.
  local mod
  mod="$(go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
  [[ -f "${mod}" ]] || { echo "build-kubernetes: no go.mod for k8s.io/kubernetes@${KUBERNETES_VERSION}" >&2; return 1; }
  grep -E '=> \./staging/src/' "${mod}" | awk -v v="${KUBERNETES_STAGING_VERSION}" '{print "replace " $1 " => " $1 " " v}' >> go.mod
  go mod edit -require "k8s.io/kubernetes@${KUBERNETES_VERSION}"
  go mod tidy >&2
  CGO_ENABLED=0 go build -trimpath -ldflags "$(version_ldflags)" -o "${out}/" "${pkgs[@]}" >&2
  cd - >/dev/null
  echo "build-kubernetes: built $* ${KUBERNETES_VERSION} in $((SECONDS - start)) s" >&2
}

# version_ldflags stamps the version where Kubernetes' own build (hack/lib/version.sh) does;
# without it a binary says v0.0.0-master+$Format:%H$.
version_ldflags() {
  local v="${KUBERNETES_VERSION}" major minor flags="-s -w" pkg
  major="${v#v}"; major="${major%%.*}"
  minor="${v#v*.}"; minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X ${pkg}.gitVersion=${v} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
    flags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
  done
  echo "${flags}"
}

main "$@"

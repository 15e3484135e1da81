#!/usr/bin/env bash
# Builds kube-apiserver and etcd from their Go modules, at the versions pinned below, into
# ${OPCONFORM_CACHE:-~/.cache/opconform}/bin/<versions>/ and prints that directory. Does
# nothing when both binaries are already there. Nothing it builds goes into the repository.
# Binaries given through KUBE_APISERVER and ETCD (paths), or envtest's KUBEBUILDER_ASSETS
# (a directory holding kube-apiserver and etcd), are used instead and not built.
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"

# The control plane's versions: one place.
KUBERNETES_VERSION="v1.37.2"
STAGING_VERSION="v0.37.2"
ETCD_VERSION="v3.6.16"

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
  local out="${OPCONFORM_CACHE:-${HOME}/.cache/opconform}/bin/kubernetes-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}"
  if [[ -x "${out}/kube-apiserver" && -x "${out}/etcd" ]]; then
    echo "${out}"
    return
  fi
  mkdir -p "${out}"
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "${work}"' EXIT
  [[ -x "${out}/etcd" ]] || build_etcd "${work}/etcd" "${out}"
  [[ -x "${out}/kube-apiserver" ]] || build_apiserver "${work}/apiserver" "${out}"
  echo "${out}"
}

check() {
  [[ -x "$1" ]] || { echo "build-control-plane: $1 is not an executable" >&2; return 1; }
}

build_etcd() {
  local dir="$1" out="$2"
  mkdir -p "${dir}"
  cat > "${dir}/main.go" <<'GO'
// Command etcd runs etcd's server, built from its Go module for opconform's apiserver tier.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (
    cd "${dir}"
    go mod init opconform.local/etcd >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >&2
    go mod tidy >&2
    go build -o "${out}/etcd" . >&2
  )
  echo "build-control-plane: built etcd ${ETCD_VERSION}" >&2
}

build_apiserver() {
  local dir="$1" out="$2"
  mkdir -p "${dir}"
  cat > "${dir}/main.go" <<'GO'
// Command kube-apiserver runs Kubernetes' API server, built from k8s.io/kubernetes for
// opconform's apiserver tier.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() { os.Exit(cli.Run(app.NewAPIServerCommand())) }
GO
  (
    cd "${dir}"
    go mod init opconform.local/kube-apiserver >/dev/null 2>&1
    # k8s.io/kubernetes maps its staging modules to ./staging; point them at the proxy.
    local mod
    mod="$(go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
    grep -E '=> \./staging/src/' "${mod}" | awk -v v="${STAGING_VERSION}" '{print "replace " $1 " => " $1 " " v}' >> go.mod
    go mod edit -require "k8s.io/kubernetes@${KUBERNETES_VERSION}"
    go mod tidy >&2
    go build -o "${out}/kube-apiserver" . >&2
  )
  echo "build-control-plane: built kube-apiserver ${KUBERNETES_VERSION}" >&2
}

main "$@"

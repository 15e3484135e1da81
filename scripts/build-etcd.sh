#!/usr/bin/env bash
# Builds etcd's server at VERSION from its Go module (go.etcd.io/etcd/server/v3, whose
# etcdmain is what etcd's own main runs) into
# ${OPCONFORM_CACHE:-~/.cache/opconform}/bin/etcd-<version>/ and prints that directory;
# a build already there is reused.
# Usage: scripts/build-etcd.sh VERSION   (e.g. v3.7.0)
set -o errexit -o nounset -o pipefail

# WORK is the throwaway module the build happens in; a global, so the EXIT trap can name it.
WORK=""
cleanup() { [[ -z "${WORK}" ]] || rm -rf "${WORK}"; }
trap cleanup EXIT

main() {
  local version="${1:?usage: build-etcd.sh VERSION}"
  [[ "${version}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "build-etcd: not a version: ${version}" >&2; return 2; }
  local out="${OPCONFORM_CACHE:-${HOME}/.cache/opconform}/bin/etcd-${version}"
  if [[ -x "${out}/etcd" ]]; then
    echo "${out}"
    return
  fi
  echo "build-etcd: building etcd ${version} from the Go module proxy (about a minute cold)" >&2
  local start=${SECONDS}
  WORK="$(mktemp -d)"
  cat > "${WORK}/main.go" <<'GO'
// Command etcd runs etcd's server, built from its Go module for opconform.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  mkdir -p "${out}"
  (
    cd "${WORK}"
    go mod init opconform.local/etcd >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@${version}" >&2
    go mod tidy >&2
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${out}/etcd" . >&2
  )
  echo "build-etcd: built etcd ${version} in $((SECONDS - start)) s" >&2
  echo "${out}"
}

main "$@"

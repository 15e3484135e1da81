#!/usr/bin/env bash
# Builds the reference client at a version (and optionally with a defect) into bin/: opclient,
# or with --stand-in hack/mirrordlike, the stand-in for the released mirrord CLI.
# A binary already in bin/ built from the same inputs (go_inputs) is kept, not linked again:
# a link takes seconds, and a run asks for every client it judges.
# Usage: scripts/build-client.sh [--stand-in] VERSION [DEFECT]
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"
# shellcheck source=scripts/lib/gobuild.sh
source scripts/lib/gobuild.sh

main() {
  local name="opclient" pkgdir="./cmd/opclient"
  if [[ "${1:-}" == "--stand-in" ]]; then
    name="mirrordlike" pkgdir="./hack/mirrordlike"
    shift
  fi
  local version="${1:?usage: build-client.sh [--stand-in] VERSION [DEFECT]}"
  local defect="${2:-}"
  local pkg="github.com/opconform/opconform/client"
  local out="bin/${name}-${version}${defect:+-${defect}}"
  local commit date
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  local flags="-X ${pkg}.version=${version} -X ${pkg}.commit=${commit} -X ${pkg}.defect=${defect}"
  local key
  key="$(go_inputs "${pkgdir}" "${flags}")"
  if [[ -x "${out}" && "$(cat "${out}.inputs" 2>/dev/null)" == "${key}" ]]; then
    echo "${out}"
    return 0
  fi
  mkdir -p bin
  # built beside its place and renamed into it, so that processes building the same client
  # at once (the suites' Ginkgo processes) never run a half-written binary
  local tmp="${out}.tmp.$$"
  go build -o "${tmp}" -ldflags "${flags} -X ${pkg}.buildDate=${date}" "${pkgdir}"
  local check=(version)
  [[ "${name}" == "opclient" ]] || check=(--version)
  # a binary that refuses to run (an unknown defect) is not left in bin/
  if ! "${tmp}" "${check[@]}" >/dev/null; then
    rm -f "${tmp}"
    return 1
  fi
  mv -f "${tmp}" "${out}"
  echo "${key}" >"${out}.inputs.$$" && mv -f "${out}.inputs.$$" "${out}.inputs"
  echo "${out}"
}

main "$@"

#!/usr/bin/env bash
# Builds the reference client at a version (and optionally with a defect) into bin/.
# Usage: scripts/build-client.sh VERSION [DEFECT]
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"

main() {
  local version="${1:?usage: build-client.sh VERSION [DEFECT]}"
  local defect="${2:-}"
  local pkg="github.com/opconform/opconform/client"
  local out="bin/opclient-${version}${defect:+-${defect}}"
  local commit date
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  mkdir -p bin
  go build -o "${out}" -ldflags "-X ${pkg}.version=${version} -X ${pkg}.commit=${commit} -X ${pkg}.buildDate=${date} -X ${pkg}.defect=${defect}" ./cmd/opclient
  "${out}" version >/dev/null
  echo "${out}"
}

main "$@"

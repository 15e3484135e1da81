#!/usr/bin/env bash
# Builds main packages of one Go module at one version from the Go module proxy into
# ${OPCONFORM_CACHE:-~/.cache/opconform}/bin/<name>-<version>/ and prints that directory;
# a build already there is reused. Static (CGO_ENABLED=0) and trimmed. TAGS and LDFLAGS
# (where "{version}" is the version) are passed to go build.
# Usage: scripts/build-go-tool.sh NAME MODULE VERSION PACKAGE...
#   e.g. scripts/build-go-tool.sh crictl sigs.k8s.io/cri-tools v1.34.0 sigs.k8s.io/cri-tools/cmd/crictl
set -o errexit -o nounset -o pipefail
# shellcheck source=scripts/lib/gomodule.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/gomodule.sh"

# WORK is the throwaway module the build happens in; a global, so the EXIT trap can name it.
WORK=""
cleanup() { [[ -z "${WORK}" ]] || rm -rf "${WORK}"; }
trap cleanup EXIT

main() {
  (($# >= 4)) || { echo "usage: build-go-tool.sh NAME MODULE VERSION PACKAGE..." >&2; return 2; }
  local name="$1" module="$2" version="$3"
  shift 3
  [[ "${name}" =~ ^[a-z0-9-]+$ ]] || { echo "build-go-tool: not a name: ${name}" >&2; return 2; }
  [[ "${version}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]] || { echo "build-go-tool: not a module version: ${version}" >&2; return 2; }
  local out="${OPCONFORM_CACHE:-${HOME}/.cache/opconform}/bin/${name}-${version}"
  if [[ -f "${out}/.built" ]]; then
    echo "${out}"
    return
  fi
  echo "build-go-tool: building ${name} ${version} (${module}) from the Go module proxy" >&2
  local start=${SECONDS}
  WORK="$(mktemp -d)"
  cd "${WORK}"
  go mod init opconform.local/"${name}" >/dev/null 2>&1
  write_tools_go "$@"
  go mod edit -require "${module}@${version}"
  go mod tidy >&2
  mkdir -p "${out}"
  local ldflags="${LDFLAGS:-}"
  CGO_ENABLED=0 go build -trimpath -tags "${TAGS:-}" -ldflags "-s -w ${ldflags//\{version\}/${version}}" -o "${out}/" "$@" >&2
  touch "${out}/.built"
  cd - >/dev/null
  echo "build-go-tool: built ${name} ${version} in $((SECONDS - start)) s" >&2
  echo "${out}"
}

main "$@"

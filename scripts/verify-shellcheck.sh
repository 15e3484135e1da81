#!/usr/bin/env bash
# Lints every shell script of the project (scripts/, .ci/) with shellcheck, Debian's package.
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"

main() {
  if ! command -v shellcheck >/dev/null 2>&1; then
    echo "shellcheck: not installed; install Debian's package: apt-get install shellcheck" >&2
    return 1
  fi
  local files
  # every script, in a git checkout or not (a copy, a tarball)
  mapfile -t files < <(find scripts .ci -type f \( -name '*.sh' -o -path '.ci/*' \) | sort)
  ((${#files[@]})) || { echo "shellcheck: no scripts found under scripts/ and .ci/" >&2; return 1; }
  shellcheck --external-sources "${files[@]}"
  echo "shellcheck: ${#files[@]} scripts are clean"
}

main "$@"

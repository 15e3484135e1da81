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
  mapfile -t files < <(git ls-files --cached --others --exclude-standard 'scripts/*.sh' 'scripts/**/*.sh' '.ci/*' | sort -u)
  shellcheck --external-sources "${files[@]}"
  echo "shellcheck: ${#files[@]} scripts are clean"
}

main "$@"

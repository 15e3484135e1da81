#!/usr/bin/env bash
# Runs every static check (gofmt, go vet, go mod tidy, actionlint, shellcheck) and prints one verdict.
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"

main() {
  local failed=()
  local unformatted
  # gofmt -l over the module's directory (not a file list: without files it would read
  # standard input, and outside a git checkout git lists none)
  unformatted="$(gofmt -l . | grep -v '^_artifacts/' || true)"
  if [[ -n "${unformatted}" ]]; then
    echo "gofmt would change: ${unformatted}"
    failed+=(gofmt)
  fi
  go vet ./... || failed+=(vet)
  go mod tidy -diff || failed+=(tidy)
  scripts/verify-actionlint.sh || failed+=(actionlint)
  scripts/verify-shellcheck.sh || failed+=(shellcheck)
  if ((${#failed[@]})); then
    echo "verify: FAILED: ${failed[*]}"
    return 1
  fi
  echo "verify: all checks passed"
}

main "$@"

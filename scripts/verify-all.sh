#!/usr/bin/env bash
# Runs every static check (gofmt, go vet, go mod tidy, actionlint) and prints one verdict.
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"

main() {
  local failed=()
  local unformatted
  unformatted="$(gofmt -l $(git ls-files '*.go'))"
  if [[ -n "${unformatted}" ]]; then
    echo "gofmt would change: ${unformatted}"
    failed+=(gofmt)
  fi
  go vet ./... || failed+=(vet)
  go mod tidy -diff || failed+=(tidy)
  scripts/verify-actionlint.sh || failed+=(actionlint)
  if ((${#failed[@]})); then
    echo "verify: FAILED: ${failed[*]}"
    return 1
  fi
  echo "verify: all checks passed"
}

main "$@"

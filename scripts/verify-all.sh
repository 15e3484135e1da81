#!/usr/bin/env bash
# Runs every static check and prints one verdict.
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
  cp go.mod /tmp/opconform-go.mod.bak && cp go.sum /tmp/opconform-go.sum.bak
  go mod tidy
  if ! git diff --quiet -- go.mod go.sum; then
    echo "go mod tidy changes go.mod/go.sum"
    failed+=(tidy)
  fi
  cp /tmp/opconform-go.mod.bak go.mod && cp /tmp/opconform-go.sum.bak go.sum
  if ((${#failed[@]})); then
    echo "verify: FAILED: ${failed[*]}"
    return 1
  fi
  echo "verify: all checks passed"
}

main "$@"

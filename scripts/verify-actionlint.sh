#!/usr/bin/env bash
# Lints the GitHub Actions workflows with actionlint, run from its Go module (pinned).
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"

ACTIONLINT_VERSION="v1.7.12"

main() {
  go run "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}" -color=false .github/workflows/*.yml
  echo "actionlint: workflows are clean"
}

main "$@"

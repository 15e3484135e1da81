#!/usr/bin/env bash
# Runs the conformance suites with the Ginkgo CLI pinned in go.mod. Knobs come from the
# environment (make conformance sets them): MATRIX TIER CLIENTS OPERATORS ARTIFACTS
# GINKGO_LABEL_FILTER GINKGO_FOCUS GINKGO_NODES GINKGO_TIMEOUT GINKGO_RACE (non-empty: -race)
# KIND_REQUIRED (default 1: TIER=kind fails when kind cannot make clusters; 0: those cells skip).
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"

main() {
  local artifacts="${ARTIFACTS:-_artifacts}"
  mkdir -p "${artifacts}"
  artifacts="$(cd "${artifacts}" && pwd -P)"
  local args=(
    --procs="${GINKGO_NODES:-2}" --randomize-all --fail-on-pending --fail-on-empty --keep-going
    --timeout="${GINKGO_TIMEOUT:-20m}" --poll-progress-after=60s --poll-progress-interval=30s
    --output-dir="${artifacts}" --junit-report=junit.xml --json-report=ginkgo.json
  )
  [[ -n "${GINKGO_LABEL_FILTER:-}" ]] && args+=(--label-filter="${GINKGO_LABEL_FILTER}")
  [[ -n "${GINKGO_FOCUS:-}" ]] && args+=(--focus="${GINKGO_FOCUS}")
  [[ -n "${CI:-}" ]] && args+=(--no-color)
  [[ -n "${GINKGO_RACE:-}" ]] && args+=(--race)
  local matrix
  matrix="$(cd "$(dirname "${MATRIX:-matrix.yaml}")" && pwd -P)/$(basename "${MATRIX:-matrix.yaml}")"
  if [[ ",${TIER:-fake}," == *",kind,"* && "${KIND_REQUIRED:-1}" == "1" ]]; then
    # before anything is created: one clear line when kind cannot make clusters here
    # (KIND_REQUIRED=0, as make test sets it, lets kind cells skip with that line instead)
    go run ./cmd/opconform preflight --matrix "${matrix}"
  fi
  local status=0
  go tool ginkgo "${args[@]}" ./suites -- \
    --conformance.matrix="${matrix}" --conformance.tier="${TIER:-fake}" \
    --conformance.clients="${CLIENTS:-}" --conformance.operators="${OPERATORS:-}" \
    --conformance.artifacts="${artifacts}" || status=$?
  if [[ -f "${artifacts}/report.md" ]]; then
    echo "conformance report: ${artifacts}/report.md (and report.json, junit.xml, journals/ of failing cells)"
  fi
  return "${status}"
}

main "$@"

#!/usr/bin/env bash
# Runs the conformance suites with the Ginkgo CLI pinned in go.mod. Knobs come from the
# environment (make conformance sets them): MATRIX TIER CLIENTS OPERATORS KUBERNETES ARTIFACTS
# GINKGO_LABEL_FILTER GINKGO_FOCUS GINKGO_NODES GINKGO_TIMEOUT GINKGO_RACE (non-empty: -race)
# KIND_REQUIRED (default 1: TIER=kind fails when kind cannot make clusters; 0: those cells skip).
#
# Before anything runs: the matrix and the selection are checked (every problem once), the
# previous run's reports are removed, and `opconform prepare` prepares what the selection
# needs (long builds run there, where their progress shows).
# After: the report's verdict, counts, failures with their re-run commands, and where the
# reports are.
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"

main() {
  local artifacts="${ARTIFACTS:-_artifacts}"
  mkdir -p "${artifacts}"
  artifacts="$(cd "${artifacts}" && pwd -P)"
  local matrix tier="${TIER:-fake}"
  local folder
  folder="$(dirname "${MATRIX:-matrix.yaml}")"
  if [[ ! -d "${folder}" ]]; then
    echo "conformance: MATRIX=${MATRIX}: there is no folder ${folder}" >&2
    return 2
  fi
  matrix="$(cd "${folder}" && pwd -P)/$(basename "${MATRIX:-matrix.yaml}")"
  local opconform="${REPO_ROOT}/bin/opconform" kind_required=false
  [[ "${KIND_REQUIRED:-1}" == "1" ]] && kind_required=true
  go build -o "${opconform}" ./cmd/opconform
  "${opconform}" matrix check --matrix "${matrix}" --tier "${tier}" \
    --clients "${CLIENTS:-}" --operators "${OPERATORS:-}" --kubernetes "${KUBERNETES:-}" --label-filter "${GINKGO_LABEL_FILTER:-}"
  # a report left from an earlier run must never be mistaken for this one's
  rm -rf "${artifacts}/report.md" "${artifacts}/report.html" "${artifacts}/report.json" "${artifacts}/junit.xml" "${artifacts}/ginkgo.json" "${artifacts}/ginkgo.log" \
    "${artifacts}/journals" "${artifacts}/kind-logs" "${artifacts}/progress.log" "${artifacts}/prepared.json"

  # Ginkgo shuffles the top-level containers: every fake and apiserver cell is one, and each
  # Kubernetes version's kind cells are one, so a process finishes a version's cluster before
  # it makes the next (--randomize-all would interleave them)
  local args=(
    --procs="${GINKGO_NODES:-2}" --fail-on-pending --fail-on-empty --keep-going --silence-skips
    --timeout="${GINKGO_TIMEOUT:-20m}" --poll-progress-after=60s --poll-progress-interval=30s
    --output-dir="${artifacts}" --junit-report=junit.xml --json-report=ginkgo.json
  )
  [[ -n "${GINKGO_LABEL_FILTER:-}" ]] && args+=(--label-filter="${GINKGO_LABEL_FILTER}")
  [[ -n "${GINKGO_FOCUS:-}" ]] && args+=(--focus="${GINKGO_FOCUS}")
  # colour only on a terminal, never in CI
  if [[ -n "${CI:-}" || ! -t 1 ]]; then args+=(--no-color); fi
  [[ -n "${GINKGO_RACE:-}" ]] && args+=(--race)
  local suite=(--conformance.matrix="${matrix}" --conformance.root="${REPO_ROOT}" --conformance.tier="${tier}"
    --conformance.clients="${CLIENTS:-}" --conformance.operators="${OPERATORS:-}" --conformance.kubernetes="${KUBERNETES:-}"
    --conformance.artifacts="${artifacts}"
    --conformance.kind-required="${kind_required}")
  # what the selection needs before its first cell, decided once in Go (package prepare):
  # the control plane, each Kubernetes version's node image (built here when missing and
  # KIND_REQUIRED=1), the kind preflight, the operator image; long builds show as they go
  "${opconform}" prepare --matrix "${matrix}" --root "${REPO_ROOT}" --tier "${tier}" \
    --clients "${CLIENTS:-}" --operators "${OPERATORS:-}" --kubernetes "${KUBERNETES:-}" \
    --kind-required="${kind_required}" --out "${artifacts}/prepared.json"
  suite+=(--conformance.prepared="${artifacts}/prepared.json")
  local status=0 tail_pid=""
  if [[ ",${tier}," == *",kind,"* ]]; then
    # the kind tier's progress (clusters, each operator's rollout, cells done of all), as it
    # happens; Ginkgo's dots go to ginkgo.log meanwhile, its summary is shown after
    : > "${artifacts}/progress.log"
    tail -n +1 -F "${artifacts}/progress.log" 2>/dev/null &
    tail_pid=$!
    go tool ginkgo "${args[@]}" --no-color ./suites -- "${suite[@]}" >"${artifacts}/ginkgo.log" 2>&1 || status=$?
    sleep 1 # tail -F reads once a second: the last lines too
    kill "${tail_pid}" 2>/dev/null || true
    grep -E '^(Ran [0-9]+ of|SUCCESS!|FAIL!|Ginkgo ran)' "${artifacts}/ginkgo.log" || true
    sed -n '/^Summarizing [0-9]* Failure/,$p' "${artifacts}/ginkgo.log"
    echo "Ginkgo's whole output: ${artifacts}/ginkgo.log"
  else
    go tool ginkgo "${args[@]}" ./suites -- "${suite[@]}" || status=$?
  fi
  if [[ -f "${artifacts}/report.json" ]]; then
    "${opconform}" report summary "${artifacts}/report.json" || status=$((status == 0 ? 1 : status))
  else
    echo "conformance: no report was written (the run stopped before the suites reported); Ginkgo's output is above" >&2
    ((status)) || status=1
  fi
  return "${status}"
}

main "$@"

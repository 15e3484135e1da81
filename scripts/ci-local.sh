#!/usr/bin/env bash
# Runs .github/workflows/conformance.yml here, as written, with act (github.com/nektos/act,
# built from its Go module at ACT_VERSION and cached), in host mode: every job's `run:`
# steps on this machine, in dependency order, matrix shards from the matrix job's output.
# GitHub's hosted actions cannot be fetched here; the workflow's pinned references are
# mapped (act --local-repository) to stand-ins in hack/actions/, which the real workflow
# never sees: checkout is the working tree (act copies it), setup-go the Go already here,
# cache a no-op, upload/download-artifact a local artifact folder in GitHub's layout.
#   CI_LOCAL_TIERS  the shards' tiers, comma-separated (default: fake); "all" runs every shard
#   CI_LOCAL_SHARDS only these shards' jobs, by name, comma-separated (act --matrix name:…);
#                   the report job expects every shard of CI_LOCAL_TIERS and names the
#                   others missing, as it would on GitHub if their artifacts were
# The push is a release tag (v3.250.0), so that the report job records the merged report
# in the SQLite results store and its can-i-deploy gate asks of it.
#   ARTIFACTS       where it all goes (default _artifacts): ci-local/artifacts/<name>/ per
#                   artifact, ci-local/summaries/<job>.md (each job's step summary),
#                   ci-local/act.log; the merged report.md is printed at the end
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"

ACT_VERSION="v0.2.89"
WORKFLOW=".github/workflows/conformance.yml"
work="" # act's workspaces of this run (a global: the EXIT trap names it)

main() {
  local out="${ARTIFACTS:-_artifacts}/ci-local"
  rm -rf "${out}"
  mkdir -p "${out}/artifacts"
  out="$(cd "${out}" && pwd -P)"
  local act="${OPCONFORM_CACHE:-${HOME}/.cache/opconform}/bin/act-${ACT_VERSION}/act"
  if [[ ! -x "${act}" ]]; then
    echo "ci-local: building act ${ACT_VERSION} from the Go module proxy" >&2
    GOBIN="$(dirname "${act}")" go install "github.com/nektos/act@${ACT_VERSION}"
  fi
  # each job's copy of the tree (act's host workspace) goes here, removed at the end: act
  # leaves them behind, a copy of the repository and its build outputs per job and run
  work="$(mktemp -d)"
  trap 'rm -rf "${work}"' EXIT
  local args=(-W "${WORKFLOW}" -P ubuntu-24.04=-self-hosted --no-cache-server --action-offline-mode
    --action-cache-path "${work}" --env "OPCONFORM_ACT_ARTIFACTS=${out}/artifacts")
  local ref action
  while read -r ref; do
    action="${ref%@*}"
    args+=(--local-repository "${ref}=${REPO_ROOT}/hack/actions/${action#actions/}")
  done < <(grep -o 'uses: actions/[a-z-]*@[0-9a-f]\{40\}' "${WORKFLOW}" | grep -v '/checkout@' | sed 's/^uses: //' | sort -u)
  # the workflow's own knobs (repository variables): which tiers' shards, and no downloads
  local tiers="${CI_LOCAL_TIERS:-fake}"
  [[ "${tiers}" == "all" ]] && tiers=""
  args+=(--var "OPCONFORM_SHARD_TIERS=${tiers}" --var OPCONFORM_DOWNLOAD=0)
  # pushed as a release tag, so that the report job's can-i-deploy gate runs too, asking of
  # the results it has just recorded (the SQLite store: no secret here)
  printf '{"ref": "refs/tags/v3.250.0", "ref_name": "v3.250.0"}\n' > "${work}/event.json"
  args+=(--eventpath "${work}/event.json" --var "OPCONFORM_CAN_I_DEPLOY=--client {version} --operators 3.250.0,3.100.0")
  local shard only="${CI_LOCAL_SHARDS:-}"
  for shard in ${only//,/ }; do
    args+=(--matrix "name:${shard}")
  done
  echo "ci-local: running ${WORKFLOW} with act ${ACT_VERSION} (shards of tiers: ${tiers:-all}); log: ${out}/act.log"
  local status=0 actlog="${out}/actlog"
  go build -o "${actlog}" ./hack/actlog
  # act's JSON log: as act prints it into act.log, the jobs' step summaries into summaries/
  "${act}" "${args[@]}" --json push 2>&1 | "${actlog}" "${out}/summaries" > "${out}/act.log" || status=$?
  rm -f "${actlog}"
  grep -E '🏁|❌  Failure' "${out}/act.log" || true
  if [[ -f "${out}/artifacts/conformance-merged/report.md" ]]; then
    echo
    cat "${out}/artifacts/conformance-merged/report.md"
  fi
  # the release gate's answer, as the report job's summary has it
  sed -n '/^### Can I deploy/,$p' "${out}/summaries/conformance-report.md" 2>/dev/null || true
  return "${status}"
}

main "$@"

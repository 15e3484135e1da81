#!/usr/bin/env bash
# CI: the fake operator image on a machine without a Docker engine. Installs Debian's
# docker.io when dockerd is missing, starts the daemon unprivileged-friendly (no bridge:
# containers run with --network host, so no traffic goes to a bridge or private address),
# builds the image and checks that it serves, then stops what it started.
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"

STARTED_PID=""

cleanup() {
  if [[ -n "${STARTED_PID}" ]]; then
    kill "${STARTED_PID}" 2>/dev/null || true
    wait "${STARTED_PID}" 2>/dev/null || true
  fi
}
trap cleanup EXIT

main() {
  if ! command -v dockerd >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  if ! docker info >/dev/null 2>&1; then
    dockerd --bridge=none --iptables=false --ip6tables=false >/tmp/opconform-dockerd.log 2>&1 &
    STARTED_PID=$!
    local _
    for _ in $(seq 1 100); do
      docker info >/dev/null 2>&1 && break
      sleep 0.2
    done
    docker info >/dev/null 2>&1 || { echo "dockerd did not start: $(tail -5 /tmp/opconform-dockerd.log)" >&2; return 1; }
  fi
  scripts/image.sh check
}

main "$@"

#!/usr/bin/env bash
# Makes a Docker engine answer, the way this machine needs it, for the kind tier and the
# image check. Idempotent:
#   - an engine that answers is reused (on a normal Docker machine, this does nothing else);
#   - otherwise Debian's docker.io is installed when dockerd is missing, and dockerd started
#     without the default bridge, without NAT and without forwarding (--bridge=none
#     --iptables=false --ip6tables=false --ip-forward=false, and net.ipv4.ip_forward=0:
#     containers live only on networks the project makes itself and reach nothing beyond
#     this machine), its registry traffic sent to a closed loopback port (nothing is ever
#     pulled from outside);
#   - where this machine's capability bounding set lacks a capability that privileged
#     containers ask for (here CAP_SYS_RESOURCE), dockerd's default runtime is
#     hack/runc-capdrop, which drops it, so that kind's `--privileged` nodes run unchanged.
# The daemon keeps running after this script; its log and pid are in
# ${OPCONFORM_CACHE:-~/.cache/opconform}/dockerd/. `docker-up.sh stop` stops a daemon this
# script started (and nothing else).
# Usage: scripts/docker-up.sh [stop]
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"

CACHE="${OPCONFORM_CACHE:-${HOME}/.cache/opconform}"
RUNTIME="opconform-capdrop"

main() {
  if [[ "${1:-}" == "stop" ]]; then
    stop
    return
  fi
  if docker info >/dev/null 2>&1; then
    if needs_capdrop && ! docker info --format '{{.DefaultRuntime}}' 2>/dev/null | grep -qx "${RUNTIME}"; then
      echo "docker-up: a Docker engine runs, but without the ${RUNTIME} runtime this machine needs for privileged containers (kind's nodes); stop it and run make docker-up again" >&2
      return 1
    fi
    echo "docker-up: using the Docker engine that runs ($(docker info --format '{{.ServerVersion}}, default runtime {{.DefaultRuntime}}'))"
    return 0
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    echo "docker-up: installing Debian's docker.io"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  local dir="${CACHE}/dockerd" args=(--bridge=none --iptables=false --ip6tables=false --ip-forward=false)
  mkdir -p "${dir}"
  if needs_capdrop; then
    local wrapper="${CACHE}/bin/runc-capdrop"
    CGO_ENABLED=0 go build -o "${wrapper}" ./hack/runc-capdrop
    args+=(--add-runtime "${RUNTIME}=${wrapper}" --default-runtime "${RUNTIME}")
  fi
  # nothing from the project's containers is routed off this machine: they reach each other
  # and this machine (published ports go through docker-proxy on loopback), nothing else
  if [[ "$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)" == "1" ]]; then
    echo "docker-up: turning IPv4 forwarding off (net.ipv4.ip_forward=0), so that no container traffic leaves this machine"
    sysctl -qw net.ipv4.ip_forward=0
  fi
  echo "docker-up: starting dockerd ${args[*]} (log: ${dir}/dockerd.log)"
  # setsid: the daemon outlives this script and make
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=localhost,127.0.0.1 \
    setsid dockerd "${args[@]}" >"${dir}/dockerd.log" 2>&1 < /dev/null &
  echo $! > "${dir}/dockerd.pid"
  local _
  for _ in $(seq 1 150); do
    docker info >/dev/null 2>&1 && break
    sleep 0.2
  done
  if ! docker info >/dev/null 2>&1; then
    echo "docker-up: dockerd did not answer within 30 s; its log ends:" >&2
    tail -n 20 "${dir}/dockerd.log" >&2
    return 1
  fi
  echo "docker-up: Docker $(docker info --format '{{.ServerVersion}}') answers (default runtime $(docker info --format '{{.DefaultRuntime}}'))"
}

# stop ends the dockerd this script started, bounded, and waits for it.
stop() {
  local pidfile="${CACHE}/dockerd/dockerd.pid" pid _
  [[ -f "${pidfile}" ]] || { echo "docker-up: no dockerd started by docker-up to stop"; return 0; }
  pid="$(cat "${pidfile}")"
  rm -f "${pidfile}"
  if ! kill "${pid}" 2>/dev/null; then
    echo "docker-up: dockerd ${pid} had already stopped"
    return 0
  fi
  for _ in $(seq 1 150); do
    kill -0 "${pid}" 2>/dev/null || { echo "docker-up: stopped dockerd ${pid}"; return 0; }
    sleep 0.2
  done
  kill -9 "${pid}" 2>/dev/null || true
  echo "docker-up: dockerd ${pid} did not stop within 30 s; killed it"
}

# needs_capdrop: this machine's bounding set lacks CAP_SYS_RESOURCE, which runc gives
# privileged containers (decided in Go: opconform host, tier.HostFacts).
needs_capdrop() {
  local facts
  facts="$(go run ./cmd/opconform host)"
  [[ "${facts}" == *'"sysResource":false'* ]]
}

main "$@"

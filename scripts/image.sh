#!/usr/bin/env bash
# Builds the fake operator image (static binary, FROM scratch) and, with "check", runs it
# with --network host on a loopback port and checks that it serves the operator API.
# Usage: scripts/image.sh build|check [IMAGE]
set -o errexit -o nounset -o pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "${REPO_ROOT}"
# shellcheck source=scripts/lib/gobuild.sh
source scripts/lib/gobuild.sh

IMAGE="${2:-opconform/fakeoperator:dev}"
CHECK_DIR=""
CHECK_NAME=""

cleanup() {
  if [[ -n "${CHECK_NAME}" ]]; then docker rm -f "${CHECK_NAME}" >/dev/null 2>&1 || true; fi
  if [[ -n "${CHECK_DIR}" ]]; then rm -rf "${CHECK_DIR}"; fi
}
trap cleanup EXIT

build() {
  mkdir -p bin
  # linked again only when its inputs changed (go_inputs); the image build reuses its layer
  # when the binary is the same
  local bin=bin/fakeoperator-linux key
  key="$(CGO_ENABLED=0 GOOS=linux go_inputs ./cmd/fakeoperator "-trimpath -s -w")"
  if [[ ! -x "${bin}" || "$(cat "${bin}.inputs" 2>/dev/null)" != "${key}" ]]; then
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w" -o "${bin}.tmp.$$" ./cmd/fakeoperator
    mv -f "${bin}.tmp.$$" "${bin}"
    echo "${key}" >"${bin}.inputs"
  fi
  DOCKER_BUILDKIT=0 docker build --quiet -t "${IMAGE}" . >/dev/null 2>&1 || DOCKER_BUILDKIT=0 docker build -t "${IMAGE}" .
  echo "built ${IMAGE}"
}

check() {
  build
  local out port name
  CHECK_DIR="$(mktemp -d)"
  out="${CHECK_DIR}"
  chmod 0777 "${out}"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  CHECK_NAME="opconform-image-check-$$"
  name="${CHECK_NAME}"
  docker run -d --name "${name}" --network host -v "${out}:/out" "${IMAGE}" \
    --listen="127.0.0.1:${port}" --operator-version=3.250.0 --write-ca=/out/ca.pem >/dev/null
  local _
  for _ in $(seq 1 50); do
    [[ -s "${out}/ca.pem" ]] && break
    sleep 0.1
  done
  local body
  body="$(curl -fsS --max-time 10 --cacert "${out}/ca.pem" "https://127.0.0.1:${port}/apis/operator.metalbear.co/v1/mirrordoperators/operator")"
  if [[ "${body}" != *'"operator_version":"3.250.0"'* ]]; then
    echo "image check: unexpected answer: ${body}" >&2
    docker logs "${name}" >&2 || true
    return 1
  fi
  echo "image check: ${IMAGE} serves the operator API on 127.0.0.1:${port}"
}

case "${1:-}" in
  build) build ;;
  check) check ;;
  *) echo "usage: scripts/image.sh build|check [IMAGE]" >&2; exit 2 ;;
esac

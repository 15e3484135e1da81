#!/usr/bin/env bash
# Starts a PostgreSQL server of Debian's postgresql package for the results store's tests
# (and a team's store tried locally): a cluster of its own under
# ${OPCONFORM_POSTGRES_DIR:-/tmp/opconform-postgres} (outside a home directory, which the
# postgres user may not enter), listening on 127.0.0.1 only (port
# ${OPCONFORM_POSTGRES_PORT:-55432}), trusting local connections; installs the package when
# it is missing. Prints the server's admin URL (export OPCONFORM_TEST_POSTGRES=<it> for
# go test ./results). Idempotent. `postgres-up.sh stop` stops a server it started.
# PostgreSQL refuses to run as root: as root, the server runs as the postgres user.
# Usage: scripts/postgres-up.sh [stop]
set -o errexit -o nounset -o pipefail

DIR="${OPCONFORM_POSTGRES_DIR:-/tmp/opconform-postgres}"
PORT="${OPCONFORM_POSTGRES_PORT:-55432}"

main() {
  local bin
  bin="$(pg_bin)" || {
    echo "postgres-up: installing Debian's postgresql" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin="$(pg_bin)"
  }
  if [[ "${1:-}" == "stop" ]]; then
    if [[ -f "${DIR}/data/postmaster.pid" ]]; then
      as_owner "${bin}/pg_ctl" -D "${DIR}/data" -m fast -t 30 stop >/dev/null
      echo "postgres-up: stopped the server on 127.0.0.1:${PORT}" >&2
    else
      echo "postgres-up: no server started by postgres-up to stop" >&2
    fi
    return
  fi
  mkdir -p "${DIR}"
  [[ "$(id -u)" == "0" ]] && chown postgres: "${DIR}"
  if [[ ! -f "${DIR}/data/PG_VERSION" ]]; then
    as_owner "${bin}/initdb" -D "${DIR}/data" -U postgres --auth=trust --encoding=UTF8 --no-instructions >/dev/null
  fi
  if ! as_owner "${bin}/pg_ctl" -D "${DIR}/data" status >/dev/null 2>&1; then
    # loopback only, sockets in the data directory, bounded start
    as_owner "${bin}/pg_ctl" -D "${DIR}/data" -l "${DIR}/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p ${PORT} -k ${DIR}/data -c fsync=off" start >/dev/null \
      || { echo "postgres-up: the server did not start; its log ends:" >&2; tail -n 20 "${DIR}/server.log" >&2; return 1; }
    echo "postgres-up: PostgreSQL $("${bin}/postgres" --version | awk '{print $3}') answers on 127.0.0.1:${PORT} (log: ${DIR}/server.log)" >&2
  fi
  echo "postgres://postgres@127.0.0.1:${PORT}/postgres?sslmode=disable"
}

# pg_bin is the newest installed PostgreSQL's bin directory.
pg_bin() {
  local dirs=(/usr/lib/postgresql/*/bin) dir
  dir="$(printf '%s\n' "${dirs[@]}" | sort -V | tail -n 1)"
  [[ -x "${dir}/pg_ctl" ]] && echo "${dir}"
}

# as_owner runs a server command as the cluster's owner: postgres when this is root.
as_owner() {
  if [[ "$(id -u)" == "0" ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

main "$@"

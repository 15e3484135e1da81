#!/usr/bin/env bash
# Installs a released mirrord CLI for this OS/arch into ~/.cache/opconform/mirrord/<version>/
# and prints its path. The SHA-256 published beside the release asset is checked before the
# binary is used. Downloading needs internet, so it runs only with OPCONFORM_DOWNLOAD=1 (set
# in GitHub Actions); without it, it exits 3 saying so, and the cells skip.
# Usage: scripts/install-mirrord.sh VERSION
set -o errexit -o nounset -o pipefail

main() {
  local version="${1:?usage: install-mirrord.sh VERSION}"
  local cache="${XDG_CACHE_HOME:-${HOME}/.cache}/opconform/mirrord/${version}"
  local bin="${cache}/mirrord"
  if [[ -x "${bin}" ]]; then
    echo "${bin}"
    return 0
  fi
  if [[ "${OPCONFORM_DOWNLOAD:-}" != "1" ]]; then
    echo "mirrord ${version} is not installed and downloads are off: set OPCONFORM_DOWNLOAD=1 on a machine with internet" >&2
    return 3
  fi
  local asset
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) asset="mirrord_linux_x86_64" ;;
    Linux/aarch64 | Linux/arm64) asset="mirrord_linux_aarch64" ;;
    *) echo "no mirrord release asset for $(uname -s)/$(uname -m)" >&2; return 3 ;;
  esac
  local url="https://github.com/metalbear-co/mirrord/releases/download/${version}/${asset}"
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "${tmp}"' EXIT
  curl -fsSL --max-time 300 -o "${tmp}/${asset}" "${url}"
  curl -fsSL --max-time 60 -o "${tmp}/${asset}.shasum256" "${url}.shasum256"
  local want have
  want="$(awk '{print $1; exit}' "${tmp}/${asset}.shasum256")"
  have="$(sha256sum "${tmp}/${asset}" | awk '{print $1}')"
  if [[ -z "${want}" || "${want}" != "${have}" ]]; then
    echo "mirrord ${version}: SHA-256 mismatch (published ${want:-none}, downloaded ${have})" >&2
    return 1
  fi
  mkdir -p "${cache}"
  install -m 0755 "${tmp}/${asset}" "${bin}"
  echo "${bin}"
}

main "$@"

#!/usr/bin/env bash
# Installs a released mirrord CLI for this OS/arch into
# ${OPCONFORM_CACHE:-~/.cache/opconform}/mirrord/<version>/mirrord and prints its path.
#
# It installs what mirrord's release workflow publishes for each platform: a zip holding the
# binary `mirrord` (mirrord_linux_x86_64.zip, mirrord_linux_aarch64.zip,
# mirrord_mac_universal.zip) and beside it a `.shasum256` file, the output of
# `shasum -a 256 <asset>.zip` — the checksum of the zip, which is checked before anything is
# unpacked. A tampered or truncated zip is refused and leaves nothing in the cache.
#
# Releases come from MIRRORD_RELEASES_URL (default: mirrord's GitHub releases download URL;
# tests point it at a local server laid out the same way: <url>/<version>/<asset>). Reaching
# the internet needs OPCONFORM_DOWNLOAD=1 (set in GitHub Actions); without it, and without an
# explicit MIRRORD_RELEASES_URL, it exits 3 saying so, and the cells skip.
# Usage: scripts/install-mirrord.sh VERSION
set -o errexit -o nounset -o pipefail

DEFAULT_RELEASES_URL="https://github.com/metalbear-co/mirrord/releases/download"
# TMP holds the download until it is checked; a global, so the EXIT trap can name it.
TMP=""
cleanup() { [[ -z "${TMP}" ]] || rm -rf "${TMP}"; }
trap cleanup EXIT

fail() { echo "install-mirrord: $*" >&2; return 1; }

main() {
  local version="${1:?usage: install-mirrord.sh VERSION}"
  [[ "${version}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "VERSION ${version}: want a release version such as 3.250.0"
  local cache="${OPCONFORM_CACHE:-${HOME}/.cache/opconform}/mirrord/${version}"
  local bin="${cache}/mirrord"
  if [[ -x "${bin}" ]]; then
    echo "${bin}"
    return 0
  fi
  if [[ "${OPCONFORM_DOWNLOAD:-}" != "1" && -z "${MIRRORD_RELEASES_URL:-}" ]]; then
    echo "mirrord ${version} is not installed and downloads are off: set OPCONFORM_DOWNLOAD=1 on a machine with internet, or MIRRORD_RELEASES_URL to a mirror" >&2
    return 3
  fi
  local asset
  case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) asset="mirrord_linux_x86_64" ;;
    Linux/aarch64 | Linux/arm64) asset="mirrord_linux_aarch64" ;;
    Darwin/*) asset="mirrord_mac_universal" ;;
    *) echo "install-mirrord: no mirrord release asset for $(uname -s)/$(uname -m)" >&2; return 3 ;;
  esac
  command -v unzip >/dev/null 2>&1 || fail "unzip is needed to unpack ${asset}.zip (Debian: apt-get install unzip)"
  local url="${MIRRORD_RELEASES_URL:-${DEFAULT_RELEASES_URL}}/${version}/${asset}"
  TMP="$(mktemp -d)"
  fetch "${url}.zip" "${TMP}/${asset}.zip" 300
  fetch "${url}.shasum256" "${TMP}/${asset}.shasum256" 60
  verify "${version}" "${TMP}" "${asset}.zip"
  unzip -q -o "${TMP}/${asset}.zip" mirrord -d "${TMP}/unpacked" 2>/dev/null \
    || fail "mirrord ${version}: ${asset}.zip holds no file named mirrord"
  mkdir -p "${cache}"
  # into the cache by rename, so that a concurrent or interrupted install leaves no half file
  install -m 0755 "${TMP}/unpacked/mirrord" "${bin}.partial.$$"
  mv -f "${bin}.partial.$$" "${bin}"
  echo "install-mirrord: installed mirrord ${version} from ${url}.zip (SHA-256 checked)" >&2
  echo "${bin}"
}

# fetch downloads url to file, with an error that names the URL and the HTTP status.
fetch() {
  local url="$1" file="$2" max="$3" code
  code="$(curl -sSL --max-time "${max}" -o "${file}" -w '%{http_code}' "${url}")" \
    || fail "downloading ${url} failed (curl exit $?)"
  [[ "${code}" == "200" ]] || fail "downloading ${url}: HTTP ${code}$([[ "${code}" == "404" ]] && echo ' (no such release asset)')"
}

# verify checks the zip against the published `shasum -a 256` line: "<sha256>  <file name>".
verify() {
  local version="$1" dir="$2" zip="$3" want name have
  read -r want name < "${dir}/${zip%.zip}.shasum256" || true
  [[ "${want}" =~ ^[0-9a-f]{64}$ ]] || fail "mirrord ${version}: ${zip%.zip}.shasum256 is not a shasum line"
  [[ "${name#\*}" == "${zip}" ]] || fail "mirrord ${version}: ${zip%.zip}.shasum256 names ${name:-no file}, not ${zip}"
  have="$(sha256sum "${dir}/${zip}" | awk '{print $1}')"
  [[ "${want}" == "${have}" ]] \
    || fail "mirrord ${version}: SHA-256 mismatch for ${zip}: published ${want}, downloaded ${have}; refusing to install it"
}

main "$@"

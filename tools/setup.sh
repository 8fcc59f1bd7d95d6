#!/usr/bin/env bash
# One-command set-up for a fresh Debian 12 machine, run as root from the checkout:
#   bash tools/setup.sh demo   install what is missing, build, run the main job (the demo)
#   bash tools/setup.sh test   install what is missing, build with warnings as errors, run every test
# Environment: BUILD_DIR (default build), OPSYNC_FIXTURES (default ../shared/fixtures beside the checkout).
set -euo pipefail

mode="${1:-}"
case "$mode" in
  demo|test) ;;
  *) echo "usage: bash tools/setup.sh demo|test" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build_dir="${BUILD_DIR:-build}"

# The package list lives in tools/packages.txt (one per line), which the suite's package check
# (tools/check_packages.py) reads too.
mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' tools/packages.txt)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: packages are missing and installing them needs root (run as root or with sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# nanopb's C runtime for the Cortex-M build (firmware_bridge/stm32f405): Debian ships it only as
# an x86-64 library, so take the sources from Debian's own source package of the installed
# generator, once, here (the build never downloads). Unpacked under /var/cache/opsync/src,
# where CMake looks by default (OPSYNC_NANOPB_SOURCE_DIR); nothing of it enters the repo.
# Without it the build skips the firmware images (and says so); everything else is unaffected.
fetch_nanopb_sources() {
  local cache=/var/cache/opsync/src list=/etc/apt/sources.list.d/opsync-src.sources version upstream
  version="$(dpkg-query -W -f='${source:Version}' nanopb 2>/dev/null)" || version=""
  upstream="${version%%-*}"
  upstream="${upstream#*:}"
  if [ -z "$version" ]; then
    echo "== nanopb sources: the nanopb package is not installed; STM32 firmware skipped"
    return 0
  fi
  [ -f "$cache/nanopb-$upstream/pb_decode.c" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "== nanopb sources: fetching them needs root; STM32 firmware skipped"
    return 0
  fi
  echo "== nanopb $version sources (Debian source package) -> $cache/nanopb-$upstream"
  if [ ! -f "$list" ]; then
    printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" "Suites: bookworm" "Components: main" \
      "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" > "$list"
  fi
  mkdir -p "$cache"
  # apt checks the files against the signed index (refreshed once if it lacks this version);
  # the orig tarball holds pb_*.c as upstream released them (Debian patches none of them).
  local get=(apt-get source --download-only -qq -o APT::Sandbox::User=root "nanopb=$version")
  if ! (cd "$cache" && "${get[@]}" >/dev/null 2>&1); then
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$cache" && "${get[@]}" >/dev/null 2>&1) || true
  fi
  local orig
  for orig in "$cache/nanopb_${upstream}".orig.tar.*; do
    [ -f "$orig" ] && tar -xf "$orig" -C "$cache" && [ -f "$cache/nanopb-$upstream/pb_decode.c" ] && return 0
  done
  echo "== nanopb sources: download failed; STM32 firmware skipped (the rest of the build is unaffected)"
  return 0
}
fetch_nanopb_sources

# One build for both modes: the same folder and the same flags (Release, warnings as errors), so
# `demo` then `test` (or the reverse) builds the tree once.
echo "== configure (Release, warnings as errors) in $build_dir"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOPSYNC_WERROR=ON >/dev/null
echo "== build"
cmake --build "$build_dir" -j2

if [ "$mode" = test ]; then
  echo "== test"
  exec ctest --test-dir "$build_dir" -j2 --output-on-failure --timeout 600
fi
exec bash tools/demo.sh "$build_dir"

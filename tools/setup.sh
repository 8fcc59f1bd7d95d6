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

packages=(
  build-essential cmake ninja-build pkg-config tzdata sqlite3 python3 python3-h5py
  libboost-dev libsqlite3-dev libfftw3-dev libfmt-dev libspdlog-dev
  libprotobuf-dev protobuf-compiler libgtest-dev libgmock-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  mdbtools-dev libzip-dev libhdf5-dev hdf5-tools libplplot-dev plplot-driver-cairo
  nanopb libnanopb-dev gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
  clang libclang-rt-14-dev
)

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

if [ "$mode" = test ]; then
  echo "== configure (Release, warnings as errors)"
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DOPSYNC_WERROR=ON
  echo "== build"
  cmake --build "$build_dir" -j2
  echo "== test"
  ctest --test-dir "$build_dir" -j2 --output-on-failure --timeout 600
  exit 0
fi

echo "== configure and build (Release)"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j2
exec bash tools/demo.sh "$build_dir"

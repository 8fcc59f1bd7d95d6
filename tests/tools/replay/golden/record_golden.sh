#!/usr/bin/env bash
# Records the golden session sim-faults (opsyncd against `opsync sim`: three minutes of a fast
# first charge at 100 x speed with a link drop, a stall, garbage bytes and a bad CRC) and writes
# its capture log and expected records next to this script, if the replay equals the original.
# A changed golden file must be explained in its commit (tests/tools/replay/golden/README.md).
# Usage: tests/tools/replay/golden/record_golden.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build_dir="${1:-build}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
opsync="$build_dir/tools/opsync/opsync"
opsyncd="$build_dir/daemon/opsyncd"
# A fixed folder, so that the paths recorded in the log do not change from one recording to the next.
work="$root/out/golden-sim-faults"
rm -rf "$work"
mkdir -p "$work"
sim_pid=
trap '[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true' EXIT

"$opsync" sim --speed 100 --lead-s 10 --rest-before-s 30 --c-rate 1 --out "$work" --quiet --session golden-sim \
  --scan-period-s 40 --scan-duration-s 20 --frames-per-scan 3 --max-scans 4 \
  --fault bridge:bad_crc@45 --fault macnet:drop@60 --fault rga:garbage:7@75 --fault rga:stall:25@100 &
sim_pid=$!
for _ in $(seq 100); do [ -f "$work/station.toml" ] && break; sleep 0.1; done
[ -f "$work/station.toml" ] || { echo "error: the simulator did not start" >&2; exit 1; }
# 180 simulated seconds at 100 x: 1.8 s of wall time.
"$opsyncd" --config "$work/station.toml" --duration-s 1.8
kill "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true
"$opsync" replay --db "$work/station.db" golden-sim --out-db "$work/replay.db" --quiet --check \
  --write-golden "$here/sim-faults"

#!/usr/bin/env bash
# Import real cycler and mass-spectrometer files (the shared fixtures) into sessions of a
# fresh station database, then print what they hold. Usage: tools/import_demo.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${1:-build}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
opsync="$build_dir/tools/opsync/opsync"
fixtures="${OPSYNC_FIXTURES:-$root/../shared/fixtures}"
out="$root/out/import-demo"

if [ ! -d "$fixtures/cycler" ]; then
  echo "error: the shared fixtures are not at $fixtures; set OPSYNC_FIXTURES to their folder" >&2
  exit 1
fi
rm -rf "$out"
mkdir -p "$out"
db="$out/station.db"

# The EC-MS experiment: the Zilien file holds the mass-spectrometer channels on its own clock
# (start_time_unix, UTC); the BioLogic .mpt of the same run stores naive local time (Copenhagen,
# UTC+1 in January) from a clock that read 0.275872 s behind Zilien's (Zilien's pot_01 offset
# 4.877258 s vs the .mpt's "Acquisition started on"), so it is imported with that clock offset.
echo "== import the EC-MS run: mass spectrometer (Zilien .tsv) and potentiostat (BioLogic .mpt) on one clock"
"$opsync" import ms "$fixtures/ms/zilien_ecms.tsv" --db "$db" --session ecms --source dems
"$opsync" import cycler "$fixtures/ms/zilien_ecms_01_C01.mpt" --db "$db" --session ecms --source potentiostat \
  --tz Europe/Copenhagen --clock-offset-s -0.275872
echo
echo "== import a Maccor cycler export (LG M50 cell, 51 h) as session 'maccor'"
"$opsync" import cycler "$fixtures/cycler/maccor_export.txt" --db "$db" --session maccor --source cycler
echo
echo "== opsync sessions"
"$opsync" sessions --db "$db"
echo
echo "== opsync info ecms"
"$opsync" info --db "$db" ecms
echo
echo "== opsync export ecms -> $out/export"
"$opsync" export --db "$db" ecms --format csv --out "$out/export"

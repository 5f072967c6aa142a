#!/usr/bin/env bash
# run.sh - every benchmark; figures go to stdout (copy them to bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
export READING_ROOM_PLUGIN=${READING_ROOM_PLUGIN:-$PWD/$build/libOrthancReadingRoom.so}
export RR_BENCH_FILL=${RR_BENCH_FILL:-$PWD/$build/rr_bench_fill}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(/usr/sbin/Orthanc --version | head -1)"
node bench/ingest.mjs
node bench/worklist.mjs
node bench/access.mjs

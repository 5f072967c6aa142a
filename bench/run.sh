#!/usr/bin/env bash
# run.sh - every benchmark; figures go to stdout (copy them to bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
export READING_ROOM_PLUGIN=${READING_ROOM_PLUGIN:-$PWD/$build/libOrthancReadingRoom.so}
export RR_BENCH_FILL=${RR_BENCH_FILL:-$PWD/$build/rr_bench_fill}
RR_BENCH_REPORT_PDF=${RR_BENCH_REPORT_PDF:-$PWD/$build/rr_bench_report_pdf}

# needs WHO PACKAGE...: installs the Debian packages WHO (a benchmark) needs
# when missing (as root), before anything is measured; as another user it
# says so and returns 1 (that benchmark is then skipped).
needs() {
  local who=$1 missing=() p
  shift
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench: $who needs ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]}); it is skipped" >&2
    return 1
  fi
  echo "bench: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# png.mjs compares with the original design's Python rendering: Debian's
# pydicom, numpy, Pillow, and GDCM (pydicom's decoder for JPEG Lossless).
png=1
needs png.mjs python3-pydicom python3-numpy python3-pil python3-gdcm || png=0
# ingest_nodes.mjs runs two Orthanc nodes on one PostgreSQL (Debian's
# orthanc-postgresql index, a throwaway cluster of PostgreSQL's server).
nodes=1
needs ingest_nodes.mjs orthanc-postgresql postgresql || nodes=0

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(/usr/sbin/Orthanc --version | head -1)"
node bench/ingest.mjs
# two Orthanc nodes on one PostgreSQL against one node, with and without the plugin (about 3 minutes)
[ "$nodes" -eq 0 ] || node bench/ingest_nodes.mjs
node bench/worklist.mjs
node bench/access.mjs
[ "$png" -eq 0 ] || node bench/png.mjs
node bench/ai.mjs
# the report PDF (Cairo + Pango, in process: no Orthanc): 3 pages, 4 key images
"$RR_BENCH_REPORT_PDF" 30
# from signing a report to its PDF, SR and KOS in the archive, through a real Orthanc
node bench/report.mjs
# 50 users for 10 minutes (LOAD_SECONDS to change it; node bench/load.mjs --short to try it)
node bench/load.mjs
# this viewer against OHIF v3 in headless chromium (installs orthanc-dicomweb and fetches @ohif/app when missing):
# the 2D viewer, then MPR and the 3D four-up (each about 10 minutes with the default 5 runs)
node bench/viewer.mjs
VIEWER_PART=volume node bench/viewer.mjs

#!/usr/bin/env bash
# run.sh - every benchmark; figures go to stdout (copy them to bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
export READING_ROOM_PLUGIN=${READING_ROOM_PLUGIN:-$PWD/$build/libOrthancReadingRoom.so}
export RR_BENCH_FILL=${RR_BENCH_FILL:-$PWD/$build/rr_bench_fill}
RR_BENCH_REPORT_PDF=${RR_BENCH_REPORT_PDF:-$PWD/$build/rr_bench_report_pdf}

# png.mjs compares with the original design's Python rendering: Debian's
# pydicom, numpy, Pillow, and GDCM (pydicom's decoder for JPEG Lossless).
# Installed here, before anything is measured, when missing.
png=1
py_missing=()
for p in python3-pydicom python3-numpy python3-pil python3-gdcm; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || py_missing+=("$p")
done
if [ ${#py_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench: png.mjs needs ${py_missing[*]} (run as root, or: sudo apt-get install ${py_missing[*]}); it is skipped" >&2
    png=0
  else
    echo "bench: installing ${py_missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${py_missing[@]}" >/dev/null
  fi
fi

# ingest_nodes.mjs runs two Orthanc nodes on one PostgreSQL (Debian's
# orthanc-postgresql index, a throwaway cluster of PostgreSQL's server):
# installed here when missing, else that benchmark is skipped.
nodes=1
pg_missing=()
for p in orthanc-postgresql postgresql; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || pg_missing+=("$p")
done
if [ ${#pg_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bench: ingest_nodes.mjs needs ${pg_missing[*]} (run as root, or: sudo apt-get install ${pg_missing[*]}); it is skipped" >&2
    nodes=0
  else
    echo "bench: installing ${pg_missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${pg_missing[@]}" >/dev/null
  fi
fi

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

#!/usr/bin/env bash
# install-deps.sh - install what building, running and testing need, on
# Debian 12 (bookworm), as root. Installs only what is missing; safe to rerun.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  orthanc orthanc-dev orthanc-gdcm
  libjson-c-dev libsqlite3-dev libcurl4-openssl-dev libpng-dev libjwt-dev libmongoc-dev libssl-dev libargon2-dev openssl
  check dcmtk dicom3tools sqlite3 chromium
  # make test also builds with clang (warnings are errors there too), and the
  # libFuzzer targets (libFuzzer and the sanitizers' runtimes)
  clang libclang-rt-14-dev
  # test references for rendering where DCMTK cannot do a case (segmented palettes, YBR), and the
  # character-set oracle (pydicom decodes the standard's charset_files, which it ships)
  python3-pydicom python3-numpy
  # clients that answer a Basic challenge (basic-challenge tests), the immutable flag and
  # tmpfs mounts of the store-fault tests
  python3-httplib2 curl e2fsprogs mount
  # report PDFs: Cairo + Pango (shaping, right to left, font fallback) with fonts for every script,
  # and pdftotext/pdftoppm to read them back in tests
  libcairo2-dev libpango1.0-dev fonts-noto-core fonts-noto-cjk fonts-dejavu-core poppler-utils
  # the PostgreSQL store backend (libpq), the throwaway test server (Tests/lib/pg-cluster.sh) and
  # Orthanc's own PostgreSQL index for the multi-node tests
  libpq-dev postgresql orthanc-postgresql
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  # Debian starts the packaged Orthanc service on install where it can: the
  # Reading Room runs its own Orthanc, so keep the system one off its ports.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet orthanc 2>/dev/null; then
    systemctl stop orthanc || true
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "install-deps: Node.js $node_major is too old for the web app's tool chain (Vite needs 20.19 or newer)" >&2
  exit 1
fi

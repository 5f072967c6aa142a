#!/usr/bin/env bash
# run.sh - start Debian's Orthanc with the Reading Room plugin and the
# embedded store, using orthanc.json.example (data under ./data).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
if [ ! -f "$build/libOrthancReadingRoom.so" ]; then
  echo "run: $build/libOrthancReadingRoom.so is missing: run 'make build' first" >&2
  exit 1
fi
if [ "$build" != "build" ]; then
  echo "run: orthanc.json.example loads build/libOrthancReadingRoom.so; copy it and edit \"Plugins\" for $build" >&2
fi
for port in 8042 4242; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    echo "run: port $port is in use (is the system Orthanc running? 'systemctl stop orthanc')" >&2
    exit 1
  fi
done
mkdir -p data/storage
# The first start creates the administrator "admin": give it a generated
# password (kept in data/admin-password, readable by root only) and say it.
if [ ! -f data/storage/reading-room.db ] && [ -z "${READING_ROOM_ADMIN_PASSWORD:-}" ]; then
  umask 077
  openssl rand -base64 18 | tr -d '/+=\n' | head -c 20 > data/admin-password
  export READING_ROOM_ADMIN_PASSWORD="$(cat data/admin-password)"
fi
if [ -f data/admin-password ]; then
  login="user admin, password $(cat data/admin-password)   (kept in data/admin-password; change it after logging in)"
else
  login="user admin (or another user an administrator created)"
fi
cat <<MSG

  Orthanc Reading Room
  --------------------
  Web app   http://localhost:8042/reading-room/
  Log in    $login
  REST API  http://localhost:8042/api/dicom/studies
  DICOM     AE title READINGROOM, port 4242, e.g.:
            storescu -aec READINGROOM localhost 4242 path/to/*.dcm
  Data      $(pwd)/data    (stop with Ctrl-C)

MSG
# Two glibc malloc arenas instead of up to 8 per core: under 50 users Orthanc's
# memory then stays flat (bench/README.md, "Load"); the same line belongs in a
# production systemd unit (README, "Install on an Orthanc server").
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# Nagle's algorithm off on DICOM connections (DCMTK leaves it on): otherwise each
# C-STORE response can wait ~40 ms for a delayed ACK (README, same section).
export TCP_NODELAY="${TCP_NODELAY:-1}"
exec /usr/sbin/Orthanc orthanc.json.example

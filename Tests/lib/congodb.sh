#!/usr/bin/env bash
# congodb.sh - the CongoDB test server (a MongoDB-wire-compatible server in
# node, from npm; no real MongoDB can be installed here: see README,
# "MongoDB store").
#   Tests/lib/congodb.sh install        install it into the cache folder
#                                       (${RR_CONGODB_CACHE:-~/.cache/reading-room/congodb})
#   Tests/lib/congodb.sh start DIR      install when missing, start one on a
#                                       free loopback port (pid and log in
#                                       DIR), print its mongodb:// URI
#   Tests/lib/congodb.sh stop DIR       stop it
# The package's own dependency tree no longer resolves, so its dependencies
# are installed by name and the package itself is unpacked beside them.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${RR_CONGODB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reading-room/congodb}
PKG=@push.rocks/smartmongo@2.2.0
DEPS=(bson@^6.10.0 mingo@^7.2.0 @push.rocks/smartfs@^1.3.1 @push.rocks/smartpath@^5.0.11
      @push.rocks/smartpromise@^4.0.3 @push.rocks/smartrx@^3.0.0)
ENTRY=node_modules/@push.rocks/smartmongo/dist_ts/congodb/index.js

install() {
  [ -f "$CACHE/$ENTRY" ] && [ -f "$CACHE/.installed-2.2.0" ] && return 0
  command -v npm >/dev/null || { echo "congodb: npm is not installed (Debian package npm)" >&2; exit 2; }
  mkdir -p "$CACHE"
  (
    cd "$CACHE"
    [ -f package.json ] || echo '{"name":"rr-congodb","private":true,"type":"module"}' > package.json
    npm install --no-audit --no-fund --silent "${DEPS[@]}" >&2
    rm -rf pack && mkdir pack
    (cd pack && npm pack --silent "$PKG" >/dev/null)
    rm -rf node_modules/@push.rocks/smartmongo && mkdir -p node_modules/@push.rocks/smartmongo
    tar -xzf pack/*.tgz -C node_modules/@push.rocks/smartmongo --strip-components=1
    rm -rf pack
    touch .installed-2.2.0
  ) || { echo "congodb: installing $PKG failed" >&2; exit 2; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir=$1 port i
  install
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  port=$(free_port)
  node "$HERE/congodb-server.mjs" "$CACHE" "$port" >"$dir/server.log" 2>&1 &
  echo $! > "$dir/pid"
  for i in $(seq 1 100); do
    if grep -q '^ready ' "$dir/server.log" 2>/dev/null; then
      echo "mongodb://127.0.0.1:$port/?serverSelectionTimeoutMS=5000"
      return 0
    fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/server.log" >&2
  echo "congodb: the server did not start" >&2
  stop "$dir"
  exit 1
}

stop() {
  local dir=$1 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:?usage: congodb.sh start DIR}" ;;
  stop) stop "${2:?usage: congodb.sh stop DIR}" ;;
  *) echo "usage: congodb.sh install | start DIR | stop DIR" >&2; exit 2 ;;
esac

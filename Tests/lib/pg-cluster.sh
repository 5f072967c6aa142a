#!/usr/bin/env bash
# pg-cluster.sh - a throwaway PostgreSQL cluster for the tests.
#   Tests/lib/pg-cluster.sh start DIR   initdb in DIR (trust authentication,
#                                       loopback only, a free port, its unix
#                                       socket inside DIR), start it, create
#                                       the database "readingroom" and print
#                                       a libpq conninfo on stdout
#                                       (a DIR that has a cluster: start it
#                                       again on its port, same conninfo)
#   Tests/lib/pg-cluster.sh stop DIR    stop it (DIR is left for the caller)
# initdb refuses to run as root: as root the cluster runs as the user
# postgres (runuser), which must be able to enter DIR.
set -euo pipefail

BIN=${PG_BIN:-}
if [ -z "$BIN" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && BIN=$d; done
fi
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "pg-cluster: PostgreSQL server binaries not found (install the Debian package postgresql)" >&2
  exit 2
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Start the server of an existing cluster again on its port (after stop).
restart() {
  local dir=$1 port
  port=$(cat "$dir/port")
  if as_owner "$BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "host=127.0.0.1 port=$port user=postgres dbname=readingroom"
    return
  fi
  as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "host=127.0.0.1 port=$port user=postgres dbname=readingroom"
}

start() {
  local dir=$1 port data sock
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/data/PG_VERSION" ] && [ -f "$dir/port" ]; then
    restart "$dir"
    return
  fi
  data=$dir/data
  sock=$dir/sock
  mkdir -p "$sock"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir" "$sock"
    chmod 0755 "$dir"
    # the parent folders must be traversable by postgres
    local p=$dir
    while [ "$p" != / ]; do p=$(dirname "$p"); [ -x "$p" ] || chmod o+x "$p"; done
  fi
  as_owner "$BIN/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  echo "$port" >"$dir/port"
  as_owner "$BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $sock -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  as_owner "$BIN/psql" -h "$sock" -p "$port" -U postgres -d postgres -qAtc "CREATE DATABASE readingroom" >/dev/null
  echo "host=127.0.0.1 port=$port user=postgres dbname=readingroom"
}

stop() {
  local dir=$1
  [ -d "$dir/data" ] || return 0
  as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start "${2:?usage: pg-cluster.sh start DIR}" ;;
  stop) stop "${2:?usage: pg-cluster.sh stop DIR}" ;;
  *) echo "usage: pg-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac

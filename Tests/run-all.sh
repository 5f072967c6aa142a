#!/usr/bin/env bash
# run-all.sh - every test suite of the project, one after the other, then
# one summary line: "total: N passed, N failed, N skipped".
#   Tests/run-all.sh [build-dir] [asan-build-dir] [release-build-dir] [clang-build-dir] [fuzz-build-dir]
# (the last three are optional: their unit tests, or the fuzz targets' short
# runs, run when given)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ASAN_BUILD=${2:-build-asan}
RELEASE_BUILD=${3:-}
CLANG_BUILD=${4:-}
FUZZ_BUILD=${5:-}
LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/rr-tests-XXXXXX")
export READING_ROOM_PLUGIN=${READING_ROOM_PLUGIN:-$PWD/$BUILD/libOrthancReadingRoom.so}
export READING_ROOM_TEST_DATA=${READING_ROOM_TEST_DATA:-$(cd .. && pwd)/shared/dicom}

passed=0
failed=0
skipped=0 # suites (or a backend of one) that could not run here: shown, never counted as passed
broken=()
t_mark=$SECONDS # each suite's line says how long it took (make test must stay well inside CI's limit)

# add PASSED FAILED SUITE-NAME EXIT-CODE
add() {
  passed=$((passed + $1))
  failed=$((failed + $2))
  if [ "$4" -ne 0 ] && [ "$2" -eq 0 ]; then
    failed=$((failed + 1)) # the suite itself failed (crash, build error): count it
  fi
  [ "$4" -ne 0 ] && broken+=("$3")
  printf '== %-22s %5d passed, %d failed (exit %d, %d s)\n' "$3" "$1" "$2" "$4" $((SECONDS - t_mark))
  t_mark=$SECONDS
}

# Check prints "NN%: Checks: T, Failures: F, Errors: E" per test program.
# The programs run RR_UNIT_JOBS at a time (default 4): most of their time is
# spent waiting on the PostgreSQL and CongoDB servers, and each test has its
# own directory, schema and database (Tests/unit/store_fixture.c).
check_suite() {
  local name=$1 dir=$2 log="$LOGDIR/$1.log" rc t=0 f=0
  echo "== $name: ctest -j ${RR_UNIT_JOBS:-4} in $dir"
  (cd "$dir" && CK_FORK=no ctest -j "${RR_UNIT_JOBS:-4}" --output-on-failure -V) >"$log" 2>&1
  rc=$?
  while read -r c fl er; do
    t=$((t + c)); f=$((f + fl + er))
  done < <(sed -n 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' "$log")
  grep -E "^[0-9]+/[0-9]+ Test|tests passed|Failures: [1-9]|Errors: [1-9]|ERROR: |runtime error" "$log" | grep -v "^Reading Room"
  # a store backend the build has but this run could not use (store_fixture.c)
  local s
  s=$(grep -cE "store backend [a-z]+: (SKIPPED|no [a-z_]+ concern, skipped)" "$log")
  [ "${s:-0}" -gt 0 ] && grep -E "store backend [a-z]+: (SKIPPED|no [a-z_]+ concern, skipped)" "$log" | sed 's/^[0-9]*: //' | sort | uniq -c
  skipped=$((skipped + ${s:-0}))
  add $((t - f)) "$f" "$name" "$rc"
}

# tap_failures LOG: each failing test of a node --test TAP log with its
# error (the YAML block, at most 25 lines; not the parents that failed only
# because a subtest did), so that CI's printed output says what failed
tap_failures() {
  awk '
    function flush() { if (n && !sub_only) for (i = 1; i <= n && i <= 25; i++) print "    " buf[i]; n = 0; sub_only = 0; inblock = 0 }
    /^ *not ok / { flush(); n = 1; buf[1] = $0; sub(/^ */, "", buf[1]); want = 1; next }
    want && /^ *---$/ { inblock = 1; next }
    want && inblock && /^ *\.\.\.$/ { flush(); want = 0; next }
    want && inblock {
      if ($0 ~ /failureType: .subtestsFailed./) sub_only = 1
      if ($0 !~ /duration_ms:|^ *type: |^ *$/) { line = $0; sub(/^ */, "", line); buf[++n] = line }
      next
    }
    END { flush() }
  ' "$1"
}

node_suite() {
  local name=$1; shift
  local log="$LOGDIR/$name.log" rc p f s
  echo "== $name: $*"
  "$@" 2>&1 | tee "$log" | grep --line-buffered -E "^# (tests|pass|fail)|^not ok"
  rc=${PIPESTATUS[0]}
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1); f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  s=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$log" | tail -1)
  [ "${s:-0}" -gt 0 ] && grep -E "^ *ok .* # SKIP" "$log"
  skipped=$((skipped + ${s:-0}))
  [ "${f:-0}" -gt 0 ] && tap_failures "$log"
  add "${p:-0}" "${f:-0}" "$name" "$rc"
}

# The browser files in two lanes side by side, each one file at a time: the
# files that mostly wait or draw 2D images with the CPU (idle time-outs,
# forms, PDFs, single images, SR, RT, SEG overlays, priors:
# BROWSER_WAITING_LANE) beside the ones that render volumes with software
# WebGL or load whole series (every other file); the two lanes take about
# as long. One summary line for both; each lane's TAP output in its own log.
BROWSER_WAITING_LANE="logoff auth explorer worklist status system-backup report-templates report-writing physician-portal ai ai-images viewer-tags viewer-objects viewer-sr viewer-rt viewer-seg viewer-priors"
browser_suite() {
  local name=$1 log="$LOGDIR/$1.log" rc1 rc2 p=0 f=0 n file waiting=() rendering=()
  for file in Tests/browser/*.test.mjs; do
    n=$(basename "$file" .test.mjs)
    case " $BROWSER_WAITING_LANE " in
      *" $n "*) waiting+=("$file") ;;
      *) rendering+=("$file") ;;
    esac
  done
  echo "== $name: node --test --test-concurrency=1 in two lanes (${#waiting[@]} waiting, ${#rendering[@]} rendering files)"
  node --test --test-concurrency=1 "${waiting[@]}" >"$LOGDIR/$name-waiting.log" 2>&1 &
  local lane=$!
  node --test --test-concurrency=1 "${rendering[@]}" >"$LOGDIR/$name-rendering.log" 2>&1
  rc2=$?
  wait "$lane"
  rc1=$?
  cat "$LOGDIR/$name-waiting.log" "$LOGDIR/$name-rendering.log" >"$log"
  for n in waiting rendering; do
    grep -E "^# (tests|pass|fail)|^not ok" "$LOGDIR/$name-$n.log" | sed "s/^/[$n] /"
    p=$((p + $(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$LOGDIR/$name-$n.log" | tail -1 | grep . || echo 0)))
    f=$((f + $(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$LOGDIR/$name-$n.log" | tail -1 | grep . || echo 0)))
    tap_failures "$LOGDIR/$name-$n.log" | sed "s/^/[$n] /"
  done
  add "$p" "$f" "$name" $((rc1 != 0 ? rc1 : rc2))
}

# Each libFuzzer target of Tests/fuzz runs briefly from its seed corpus
# (ctest in <fuzz-build>/Tests/fuzz, two targets at a time: each is one
# process on one core for RR_FUZZ_SECONDS): one test per target, passed
# when nothing crashed; prints each target's executions and coverage.
fuzz_suite() {
  local name=$1 dir=$2/Tests/fuzz log="$LOGDIR/$1.log" rc p f
  echo "== $name: ctest -j 2 in $dir"
  (cd "$dir" && ctest -j 2 --output-on-failure -V) >"$log" 2>&1
  rc=$?
  # one line per target (the two running side by side interleave their output; ctest -V prefixes it with "N: ")
  awk '
    match($0, /^[0-9]+: /) { n = substr($0, 1, RLENGTH - 2); rest = substr($0, RLENGTH + 1)
      if (rest ~ /DONE +cov: /) { split(rest, w, /cov: /); split(w[2], c, " "); cov[n] = c[1] }
      else if (rest ~ /^stat::number_of_executed_units: /) { split(rest, w, ": "); runs[n] = w[2] }
      else if (rest ~ /ERROR: |SUMMARY: /) print "  " rest
      next }
    /Test +#[0-9]+: fuzz_/ { match($0, /#[0-9]+/); n = substr($0, RSTART + 1, RLENGTH - 1)
      sub(/^ */, ""); printf "%s (%s executions, coverage %s)\n", $0, runs[n] == "" ? "?" : runs[n], cov[n] == "" ? "?" : cov[n] }
  ' "$log"
  p=$(grep -cE "Test +#[0-9]+: fuzz_.* Passed" "$log"); f=$(grep -cE "Test +#[0-9]+: fuzz_.*(Failed|Timeout|Exception|Not Run)" "$log")
  add "${p:-0}" "${f:-0}" "$name" "$rc"
}

vitest_suite() {
  local name=$1 log="$LOGDIR/$1.log" rc p f
  echo "== $name: vitest in WebViewer/"
  (cd WebViewer && NO_COLOR=1 FORCE_COLOR=0 npx vitest run) 2>&1 | sed "s/\x1b\[[0-9;]*m//g" >"$log"
  rc=${PIPESTATUS[0]}
  grep -E "Test Files|Tests |FAIL" "$log"
  p=$(sed -n 's/.*Tests .* \([0-9][0-9]*\) passed.*/\1/p' "$log" | tail -1)
  f=$(sed -n 's/.*Tests .* \([0-9][0-9]*\) failed.*/\1/p' "$log" | tail -1)
  add "${p:-0}" "${f:-0}" "$name" "$rc"
}

if [ ! -d ../shared/dicom ] && [ ! -d "$READING_ROOM_TEST_DATA" ]; then
  echo "run-all: test data not found at $READING_ROOM_TEST_DATA (set READING_ROOM_TEST_DATA)" >&2
fi

(cd Tests && npm ci --no-audit --no-fund >"$LOGDIR/npm-tests.log" 2>&1) || { echo "npm ci in Tests/ failed"; cat "$LOGDIR/npm-tests.log"; }

# One throwaway PostgreSQL server for the PostgreSQL store backend's tests (both unit builds and the
# integration suite), stopped and removed at exit. RR_TEST_PG_CONNINFO given by the caller wins; a
# machine without PostgreSQL runs those tests as SKIPPED (shown in the summary).
PG_DIR=""
if [ -z "${RR_TEST_PG_CONNINFO:-}" ]; then
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rr-pg-XXXXXX")
  if RR_TEST_PG_CONNINFO=$(Tests/lib/pg-cluster.sh start "$PG_DIR" 2>"$LOGDIR/pg-cluster.log"); then
    export RR_TEST_PG_CONNINFO
    echo "== postgresql: test server $RR_TEST_PG_CONNINFO"
  else
    echo "== postgresql: no test server ($(tail -1 "$LOGDIR/pg-cluster.log")): its tests are SKIPPED"
    unset RR_TEST_PG_CONNINFO
  fi
fi
# One CongoDB server (MongoDB wire protocol, from npm: Tests/lib/congodb.sh) for the MongoDB store
# backend's unit tests (builds with -DENABLE_MONGODB=ON). READING_ROOM_TEST_MONGODB_URI (a real
# MongoDB) wins over it; without either those tests are SKIPPED, and so are, on CongoDB, the tests
# it cannot support (unique indexes, transactions): never counted as passed.
MONGO_DIR=""
if [ -z "${READING_ROOM_TEST_MONGODB_URI:-}" ] && [ -z "${RR_TEST_MONGODB_URI:-}" ]; then
  MONGO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rr-congodb-XXXXXX")
  if RR_TEST_MONGODB_URI=$(Tests/lib/congodb.sh start "$MONGO_DIR" 2>"$LOGDIR/congodb.log"); then
    export RR_TEST_MONGODB_URI
    echo "== mongodb: CongoDB test server $RR_TEST_MONGODB_URI"
  else
    echo "== mongodb: no test server ($(tail -1 "$LOGDIR/congodb.log")): its tests are SKIPPED"
    unset RR_TEST_MONGODB_URI
  fi
elif [ -n "${READING_ROOM_TEST_MONGODB_URI:-}" ]; then
  echo "== mongodb: the MongoDB server of READING_ROOM_TEST_MONGODB_URI"
fi
stop_pg() {
  if [ -n "$PG_DIR" ]; then
    Tests/lib/pg-cluster.sh stop "$PG_DIR" || true
    rm -rf "$PG_DIR"
  fi
  if [ -n "$MONGO_DIR" ]; then
    Tests/lib/congodb.sh stop "$MONGO_DIR" || true
    rm -rf "$MONGO_DIR"
  fi
}
trap stop_pg EXIT
t_mark=$SECONDS

check_suite unit "$BUILD"
check_suite unit-asan-ubsan "$ASAN_BUILD"
[ -n "$RELEASE_BUILD" ] && check_suite unit-release "$RELEASE_BUILD"
[ -n "$CLANG_BUILD" ] && check_suite unit-clang "$CLANG_BUILD"
[ -n "$FUZZ_BUILD" ] && fuzz_suite fuzz "$FUZZ_BUILD"
vitest_suite webapp-unit
# integration files wait on Orthanc much more than they compute: three at a time
# (246 -> 180 s, the CPU still idle 40 % of the time)
# (each starts its own Orthanc on free ports in its own folder); the browser
# files in two lanes (browser_suite)
node_suite integration node --test --test-concurrency="${RR_INTEGRATION_CONCURRENCY:-3}" Tests/integration/
browser_suite browser

echo "logs: $LOGDIR"
[ ${#broken[@]} -gt 0 ] && echo "failing suites: ${broken[*]}"
[ "$skipped" -gt 0 ] && echo "skipped: $skipped (see the SKIPPED lines above; not counted as passed)"
echo "total: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/bin/sh
# check_layers.sh - imports point down only: fail when a file of Plugin/
# includes a header of a higher layer, or when modules of one layer include
# each other in a cycle.
#
#   check_layers.sh [PLUGIN_DIR]   check a tree (default: this repository's Plugin/)
#   check_layers.sh --self-test    prove the check fails on small trees that break the rules
#
# Layers, lowest first (README.md "Source layout", ../shared/ARCHITECTURE.md):
#   0 foundations  util store web config
#   1 services     ingest image audit dicom
#   2 domain       ai auth report backup
#   3 api          api
#   4 entry        plugin (plugin.c)
# A module is a directory of Plugin/; Plugin/config.{c,h} is the module
# "config", a foundation (it depends on util only and web, auth and api read
# its rr_config); Plugin/plugin.c is "plugin". A file of any other module
# is an error, so a new module must be given its layer here.
#
# Includes are resolved as the compiler does with -I Plugin: "x.h" against
# the including file's directory, then against Plugin/ ("../api/x.h" is
# normalised); <x.h> against Plugin/ only. Includes that name no file of
# the tree (system and library headers) are not checked. Output: one line
# per problem; exit status 0 (clean), 1 (problems), 2 (usage).
set -u

LAYERS='util:0 store:0 web:0 config:0 ingest:1 image:1 audit:1 dicom:1 storage:1 ai:2 auth:2 report:2 backup:2 api:3 plugin:4'

check_tree() {
  root=$1
  if [ ! -d "$root" ]; then
    echo "check_layers: no directory $root" >&2
    return 2
  fi
  root=$(cd "$root" && pwd -P) || return 2
  (
    cd "$root" || exit 2
    # first the files, then the include lines ("file:line:text")
    find . -type f \( -name '*.c' -o -name '*.h' \) | sed 's|^\./||' | sort
    echo '--'
    find . -type f \( -name '*.c' -o -name '*.h' \) | sed 's|^\./||' | sort |
      while IFS= read -r f; do
        grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<][^">]+[">]' "$f" | sed "s|^|$f:|"
      done
  ) | awk -v layers="$LAYERS" '
    function module(path,   i) {
      i = index(path, "/")
      if (i > 0) return substr(path, 1, i - 1)
      if (path == "config.c" || path == "config.h") return "config"
      if (path == "plugin.c") return "plugin"
      return ""
    }
    # normalise a/b/../c/./d.h; "" when it climbs out of the tree
    function normalise(path,   n, parts, out, depth, i, s) {
      n = split(path, parts, "/")
      depth = 0
      for (i = 1; i <= n; i++) {
        if (parts[i] == "" || parts[i] == ".") continue
        if (parts[i] == "..") { if (depth == 0) return ""; depth--; continue }
        out[++depth] = parts[i]
      }
      s = ""
      for (i = 1; i <= depth; i++) s = s (i > 1 ? "/" : "") out[i]
      return s
    }
    function dirname(path,   i, d) {
      d = ""
      for (i = length(path); i > 0; i--) if (substr(path, i, 1) == "/") { d = substr(path, 1, i - 1); break }
      return d
    }
    # depth-first search for a cycle among same-layer modules
    function visit(m, trail,   k, t) {
      colour[m] = 1
      for (k = 1; k <= nout[m]; k++) {
        t = out_edge[m, k]
        if (colour[t] == 1) { cycle = trail " -> " t; return 1 }
        if (colour[t] == 0 && visit(t, trail " -> " t)) return 1
      }
      colour[m] = 2
      return 0
    }
    BEGIN {
      n = split(layers, pairs, " ")
      for (i = 1; i <= n; i++) { split(pairs[i], kv, ":"); rank[kv[1]] = kv[2]; modules[i] = kv[1] }
      nmodules = n
      lname[0] = "foundations"; lname[1] = "services"; lname[2] = "domain"; lname[3] = "api"; lname[4] = "entry"
      phase = 0; problems = 0; checked = 0
    }
    phase == 0 && $0 == "--" { phase = 1; next }
    phase == 0 {
      exists[$0] = 1; nfiles++
      m = module($0)
      if (m == "" || !(m in rank)) { print $0 ": module \"" (m == "" ? $0 : m) "\" has no layer (add it to check_layers.sh and README.md)"; problems++ }
      next
    }
    {
      # file:line:#include "x" or <x>
      file = $0; sub(/:.*/, "", file)
      rest = substr($0, length(file) + 2)
      line = rest; sub(/:.*/, "", line)
      text = substr(rest, length(line) + 2)
      angle = text ~ /include[[:space:]]*</
      inc = text
      sub(/^[^"<]*["<]/, "", inc); sub(/[">].*$/, "", inc)
      target = ""
      if (!angle) {
        d = dirname(file)
        t = normalise((d == "" ? "" : d "/") inc)
        if (t != "" && (t in exists)) target = t
      }
      if (target == "") {
        t = normalise(inc)
        if (t != "" && (t in exists)) target = t
      }
      if (target == "") next
      checked++
      from = module(file); to = module(target)
      if (!(from in rank) || !(to in rank) || from == to) next
      if (rank[to] > rank[from]) {
        printf "%s:%s: includes %s (%s, %s layer) from %s (%s layer): a lower layer never includes a higher one\n", file, line, target, to, lname[rank[to]], from, lname[rank[from]]
        problems++
      } else if (rank[to] == rank[from] && !((from, to) in edge)) {
        edge[from, to] = file ":" line
        out_edge[from, ++nout[from]] = to
      }
    }
    END {
      for (i = 1; i <= nmodules; i++) colour[modules[i]] = 0
      for (i = 1; i <= nmodules; i++) {
        m = modules[i]
        if (colour[m] == 0 && visit(m, m)) {
          printf "cycle between modules of one layer: %s (", cycle
          # name one include of each step
          k = split(cycle, steps, " -> ")
          for (j = 1; j < k; j++) printf "%s%s", (j > 1 ? ", " : ""), edge[steps[j], steps[j + 1]]
          print ")"
          problems++
          break
        }
      }
      if (problems > 0) { print problems " layer problem(s)"; exit 1 }
      print "layers: " nfiles " files, " checked " includes inside the tree, imports point down"
    }'
}

# Build a tree under $1 from "path|content" lines on stdin.
make_tree() {
  while IFS='|' read -r path content; do
    [ -n "$path" ] || continue
    mkdir -p "$1/$(dirname "$path")"
    printf '%s\n' "$content" >>"$1/$path"
  done
}

# Run the check on a fixture; $2 = expected status, $3 = text the output must contain.
expect() {
  out=$(check_tree "$tmp/$1" 2>&1)
  status=$?
  if [ "$status" -ne "$2" ]; then
    echo "self-test $1: exit $status, expected $2:"
    echo "$out"
    failures=$((failures + 1))
  elif [ -n "$3" ] && ! printf '%s\n' "$out" | grep -q -F -- "$3"; then
    echo "self-test $1: output lacks '$3':"
    echo "$out"
    failures=$((failures + 1))
  else
    echo "self-test $1: ok"
  fi
}

self_test() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/rr-layers-XXXXXX") || exit 2
  trap 'rm -rf "$tmp"' EXIT
  failures=0
  base='util/str.h|/* str */
util/str.c|#include "str.h"
config.h|#include <stdbool.h>
config.c|#include "config.h"
config.c|#include "util/str.h"
web/web.h|#include "config.h"
dicom/value.h|#include <stddef.h>
dicom/value.c|#include "dicom/value.h"
dicom/value.c|#include "util/str.h"
image/render.c|#include "dicom/value.h"
ai/select.c|#include "dicom/value.h"
ai/select.c|#include <json-c/json.h>
api/api.h|#include "ai/select.h"
ai/select.h|#include "store/records.h"
store/records.h|/* records */
api/api.c|#include "api.h"
plugin.c|#include "api/api.h"'
  for t in clean upward relative angle cycle unknown; do
    printf '%s\n' "$base" | make_tree "$tmp/$t"
  done
  echo 'dicom/geometry.c|#include "api/api.h"' | make_tree "$tmp/upward"
  echo 'dicom/geometry.c|#include "../ai/select.h"' | make_tree "$tmp/relative"
  echo 'image/render.c|#include <ai/select.h>' | make_tree "$tmp/angle"
  echo 'dicom/value.c|#include "image/render.h"' | make_tree "$tmp/cycle"
  echo 'image/render.h|/* render */' | make_tree "$tmp/cycle"
  echo 'report2/x.c|#include "util/str.h"' | make_tree "$tmp/unknown"

  expect clean 0 "imports point down"
  expect upward 1 "dicom/geometry.c:1: includes api/api.h (api, api layer) from dicom (services layer)"
  expect relative 1 "dicom/geometry.c:1: includes ai/select.h (ai, domain layer) from dicom"
  expect angle 1 "image/render.c:2: includes ai/select.h (ai, domain layer) from image"
  expect cycle 1 "cycle between modules of one layer"
  expect unknown 1 'module "report2" has no layer'
  if [ "$failures" -ne 0 ]; then
    echo "check_layers self-test: $failures failure(s)"
    exit 1
  fi
  echo "check_layers self-test: every broken tree fails, the clean one passes"
}

case "${1:-}" in
--self-test) self_test ;;
-h | --help) sed -n '2,25p' "$0" ;;
*)
  check_tree "${1:-$(dirname "$0")/../../Plugin}"
  exit $?
  ;;
esac

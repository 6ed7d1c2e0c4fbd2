#!/usr/bin/env bash
#
# bench/gremlin.sh - gremlin jobs beside the equivalent hand-written SQL.
#
#   ./bench/gremlin.sh [--rounds N] [--vertices N] [--edges N] [--explain]
#                      [--out FILE] [--keep]
#
# Builds hugetask in Release into build-bench-gremlin/, starts a private
# PostgreSQL 15 in a temporary directory, then bench/gremlin/bench.py starts
# hugetask-api and one hugetask-worker and measures: loading 100 000
# vertices and 200 000 edges from one gremlin job, g.V().hasLabel(x).count()
# and g.V().has('name', x).out().out().values('name'), each beside the same
# question asked in SQL in the same run.  Prints a table and writes the
# "Gremlin" section of docs/PERFORMANCE.md (other sections are kept).
# PostgreSQL and the daemons are stopped on exit.  HT_SKIP_BUILD=1 reuses
# the build.  Not part of the test command.
set -euo pipefail

HT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$HT_ROOT/deploy/lib.sh"

keep=0
args=()
out=$HT_ROOT/docs/PERFORMANCE.md
while [ "$#" -gt 0 ]; do
    case $1 in
        --rounds|--vertices|--edges) args+=("$1" "$2"); shift ;;
        --explain) args+=(--explain) ;;
        --out) out=$2; shift ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) ht_die "unknown option '$1' (see --help)" ;;
    esac
    shift
done

ht_install_deps python3
build=$HT_ROOT/build-bench-gremlin
if [ -z "${HT_SKIP_BUILD:-}" ]; then
    ht_build "$build" -DCMAKE_BUILD_TYPE=Release -DHT_TESTS=OFF || ht_die "build failed"
fi
for b in api-server/hugetask-api worker/hugetask-worker; do
    [ -x "$build/$b" ] || ht_die "$build/$b is missing"
done

tmp=$(mktemp -d /tmp/hugetask-bench-gremlin.XXXXXX)
chmod 755 "$tmp"
pg_data=$tmp/pg
driver_pid=""
cleanup() {
    local rc=$?
    trap '' INT TERM
    if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
        kill -TERM "$driver_pid" 2>/dev/null || true
        wait "$driver_pid" 2>/dev/null || true
    fi
    ht_pg_stop "$pg_data" || rc=1
    if [ "$keep" -eq 1 ] || [ "$rc" -ne 0 ]; then
        rm -rf "$pg_data"
        ht_log "logs kept in $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=0
for _ in 1 2 3 4 5; do
    port=$(ht_free_port 32000 34000) || break
    if ht_pg_start "$pg_data" "$port"; then
        started=1
        break
    fi
done
[ "$started" -eq 1 ] || ht_die "could not start PostgreSQL"
ht_pg_createdb "$port" ht

python3 "$HT_ROOT/bench/gremlin/bench.py" "${args[@]}" \
    --root "$HT_ROOT" --build "$build" --tmp "$tmp" --pg-port "$port" \
    --psql "$HT_PG_BIN/psql" --out "$out" &
driver_pid=$!
rc=0
wait "$driver_pid" || rc=$?
driver_pid=""
[ "$rc" -eq 0 ] || ht_die "bench failed (exit $rc)"

#!/usr/bin/env bash
#
# bench/run.sh - hugetask beside the queues users would pick instead.
#
#   ./bench/run.sh            full run (5 rounds, issue-sized scenarios)
#   ./bench/run.sh --quick    fewer rounds, smaller sizes, under 5 minutes
#
# Options (after the mode):
#   --rounds N        override the number of rounds
#   --only LIST       only these scenarios: submit,read,drain,start,cancel,scale
#   --out FILE        results file (default docs/PERFORMANCE.md)
#   --keep            keep the temporary directory (logs, raw numbers)
#
# Environment: HT_SKIP_BUILD=1 uses the binaries already in the build
# directory; HT_BENCH_BUILD_DIR=DIR builds into (or reads from) DIR instead
# of build-bench/.
#
# Installs what is missing (Debian packages: the build deps, PostgreSQL 15
# whose package carries pgbench on Debian 12, wrk, python3; npm modules from
# bench/node/package-lock.json with `npm ci`), builds hugetask in Release into
# build-bench/, starts a private PostgreSQL 15 in a temporary directory (one
# cluster, one set of settings for every system, synchronous_commit on),
# creates one database per system, runs bench/bench.py, prints the tables and
# regenerates the results file.  PostgreSQL and everything the bench started
# are stopped on exit, Ctrl-C included.  Not part of the test command.
set -euo pipefail

HT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$HT_ROOT/deploy/lib.sh"

mode=full
keep=0
out=$HT_ROOT/docs/PERFORMANCE.md
extra=()
while [ "$#" -gt 0 ]; do
    case $1 in
        --quick) mode=quick ;;
        --full) mode=full ;;
        --keep) keep=1 ;;
        --rounds) extra+=(--rounds "$2"); shift ;;
        --only) extra+=(--only "$2"); shift ;;
        --out) out=$2; shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) ht_die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
[ "$mode" = quick ] && extra+=(--quick)

bench_log() { printf '[bench] %s\n' "$*" >&2; }

# ---- tools
ht_install_deps wrk python3
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    ht_die "Node.js 20 and npm are needed for the graphile-worker and pg-boss baselines"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || ht_die "Node.js >= 20 needed, found $(node --version)"

node_dir=$HT_ROOT/bench/node
lock_sum=$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$node_dir/node_modules/.bench-lock-sha256" 2>/dev/null || true)" != "$lock_sum" ]; then
    bench_log "installing the baselines with npm ci"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error) ||
        ht_die "npm ci failed in $node_dir"
    printf '%s\n' "$lock_sum" >"$node_dir/node_modules/.bench-lock-sha256"
fi

build=${HT_BENCH_BUILD_DIR:-$HT_ROOT/build-bench}
if [ -z "${HT_SKIP_BUILD:-}" ]; then
    ht_build "$build" -DCMAKE_BUILD_TYPE=Release -DHT_TESTS=OFF || ht_die "build failed"
fi
for b in api-server/hugetask-api worker/hugetask-worker; do
    [ -x "$build/$b" ] || ht_die "$build/$b is missing"
done

# ---- PostgreSQL
tmp=$(mktemp -d /tmp/hugetask-bench.XXXXXX)
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
        bench_log "logs and raw results kept in $tmp"
        # the cluster's files belong to postgres; the rest is small
        rm -rf "$pg_data"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(ht_free_port 30000 32000) || ht_die "no free port for PostgreSQL"
ht_pg_start "$pg_data" "$port" || ht_die "could not start PostgreSQL"
psql=("$HT_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
# A little more room than initdb's defaults, the same for every system:
# shared_buffers holds the 1M-row table, max_wal_size keeps the bulk fills
# from checkpointing every few seconds.  synchronous_commit and fsync stay on
# (deploy/lib.sh writes them).
"${psql[@]}" -c "ALTER SYSTEM SET shared_buffers = '1GB'" \
             -c "ALTER SYSTEM SET max_wal_size = '8GB'" \
             -c "ALTER SYSTEM SET synchronous_commit = 'on'" >/dev/null
ht_pg_stop "$pg_data"
ht_pg_start "$pg_data" "$port" || ht_die "could not restart PostgreSQL"
for db in ht pgb gw boss; do
    ht_pg_createdb "$port" "$db"
done

# ---- the scenarios
mkdir -p "$(dirname "$out")"
bench_log "running the $mode bench (PostgreSQL on port $port, logs in $tmp)"
python3 "$HT_ROOT/bench/bench.py" "${extra[@]}" \
    --root "$HT_ROOT" --build "$build" --tmp "$tmp" --pg-port "$port" \
    --pgbench "$HT_PG_BIN/pgbench" --psql "$HT_PG_BIN/psql" \
    --out "$out" --json "$build/bench-results.json" &
driver_pid=$!
rc=0
wait "$driver_pid" || rc=$?
driver_pid=""
[ "$rc" -eq 0 ] || ht_die "bench failed (exit $rc)"
bench_log "results: $out (raw: $build/bench-results.json)"

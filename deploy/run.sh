#!/usr/bin/env bash
#
# deploy/run.sh - build and run one hugetask stack in the foreground.
#
#   HUGETASK_PORT=8080 HUGETASK_WORKERS=4 ./deploy/run.sh
#
# Installs missing Debian packages, builds into build/, and (when DATABASE_URL
# is unset) runs a private PostgreSQL 15 cluster in var/pg-$HUGETASK_PORT.
# Then it applies the migrations and starts hugetask-api and hugetask-worker,
# logging to var/logs-$HUGETASK_PORT/.  Every other port is derived from
# HUGETASK_PORT, so stacks with different ports run side by side:
#
#   HTTP  127.0.0.1:P     PostgreSQL  127.0.0.1:P+10000     nng PUB  P+20000
#   worker /metrics and /health  127.0.0.1:P+30000
#
# Ctrl-C or SIGTERM stops the api and the worker (SIGTERM, SIGKILL after
# 15 s), then PostgreSQL.  If either daemon dies on its own, everything is
# stopped and the script exits non-zero.  HUGETASK_* variables pass through
# untouched: the daemons read them themselves.  HT_SKIP_BUILD=1 skips the
# dependency and build steps (binaries must already be in the build dir).
set -euo pipefail

HT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$HT_ROOT/deploy/lib.sh"

port=${HUGETASK_PORT:-8080}
[[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 35535 ] ||
    ht_die "HUGETASK_PORT must be a number from 1 to 35535 (got '$port'), because PostgreSQL, nng and the worker's metrics use it +10000, +20000 and +30000"
pg_port=$((port + 10000))
pub_port=$((port + 20000))
metrics_port=$((port + 30000))
workers=${HUGETASK_WORKERS:-4}
graph=${HUGETASK_GRAPHS:-hugegraph}
graph=${graph%%,*}
build=${HT_BUILD_DIR:-$HT_ROOT/build}
api_bin=$build/api-server/hugetask-api
worker_bin=$build/worker/hugetask-worker
var=$HT_ROOT/var
logs=$var/logs-$port
pg_data=""
api_pid=""
worker_pid=""
tail_pid=""
stopping=0

# A second stack on the same port would share (and at its exit stop) the
# first one's PostgreSQL: refuse before touching anything, the build
# included.  The private cluster's port may be taken only by that cluster
# itself (left running by a run that was killed).
ports=("$port" "$pub_port" "$metrics_port")
if [ -z "${DATABASE_URL:-}" ]; then
    own_pid=$(head -n 1 "$var/pg-$port/postmaster.pid" 2>/dev/null || true)
    if ! { [ -n "$own_pid" ] && kill -0 "$own_pid" 2>/dev/null; }; then
        ports+=("$pg_port")
    fi
fi
for p in "${ports[@]}"; do
    ht_port_free "$p" ||
        ht_die "port $p is in use: is a stack with HUGETASK_PORT=$port already running? Stop it first, or pick another HUGETASK_PORT"
done

if [ -z "${HT_SKIP_BUILD:-}" ]; then
    ht_install_deps
    ht_build "$build" || ht_die "build failed"
fi
[ -x "$api_bin" ] || ht_die "$api_bin is missing"
[ -x "$worker_bin" ] || ht_die "$worker_bin is missing"

mkdir -p "$logs" || ht_die "could not create $logs"
api_log=$logs/api.log
worker_log=$logs/worker.log
for f in "$api_log" "$worker_log"; do
    printf -- '--- run.sh pid %s started %s ---\n' "$$" "$(date -u +%FT%TZ)" >>"$f"
done

# Sends SIGTERM to the daemons, waits up to 15 s for them, then kills what
# is left, whole process groups (a worker supervisor's children included).
stop_daemons() {
    local pid left
    for pid in "$api_pid" "$worker_pid"; do
        [ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 1 150); do
        left=""
        for pid in "$api_pid" "$worker_pid"; do
            [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && left="$left $pid"
        done
        [ -n "$left" ] || break
        sleep 0.1
    done
    if [ -n "$left" ]; then
        ht_log "pid(s)$left did not stop within 15 s: killing them"
    fi
    for pid in "$api_pid" "$worker_pid"; do
        [ -n "$pid" ] || continue
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    api_pid=""
    worker_pid=""
}

cleanup() {
    local rc=$?
    trap '' INT TERM
    stop_daemons
    if [ -n "$pg_data" ]; then
        ht_pg_stop "$pg_data" || rc=1
        pg_data=""
    fi
    if [ -n "$tail_pid" ]; then
        kill "$tail_pid" 2>/dev/null || true
        wait "$tail_pid" 2>/dev/null || true
        tail_pid=""
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'stopping=1' INT TERM

if [ -n "${DATABASE_URL:-}" ]; then
    url=$DATABASE_URL
else
    pg_data=$var/pg-$port
    ht_pg_start "$pg_data" "$pg_port" || ht_die "could not start PostgreSQL"
    ht_pg_createdb "$pg_port" hugetask
    url=$(ht_pg_url "$pg_port" hugetask)
fi
# What we print never shows a password.
shown_url=$(printf '%s' "$url" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:****@#')

ht_log "applying migrations to $shown_url"
"$api_bin" --migrate --database-url "$url" >>"$api_log" 2>&1 ||
    { tail -n 30 "$api_log" >&2; ht_die "migration failed (log: $api_log)"; }

# Job control puts each daemon in its own process group: Ctrl-C reaches only
# this script, which then stops the daemons in order.
set -m
# On a terminal, show this run's log lines as they come.
if [ -t 2 ]; then
    tail -q -n 0 -F --pid=$$ "$api_log" "$worker_log" >&2 2>/dev/null &
    tail_pid=$!
fi
"$api_bin" --listen "127.0.0.1:$port" --database-url "$url" \
    --pub "tcp://127.0.0.1:$pub_port" >>"$api_log" 2>&1 </dev/null &
api_pid=$!
"$worker_bin" --workers "$workers" --database-url "$url" \
    --subscribe "tcp://127.0.0.1:$pub_port" \
    --metrics-listen "127.0.0.1:$metrics_port" >>"$worker_log" 2>&1 </dev/null &
worker_pid=$!
set +m
ht_log "hugetask-api pid $api_pid, hugetask-worker pid $worker_pid (logs in $logs)"

alive() {
    kill -0 "$api_pid" 2>/dev/null || { ht_log "hugetask-api exited unexpectedly (log: $api_log)"; return 1; }
    kill -0 "$worker_pid" 2>/dev/null || { ht_log "hugetask-worker exited unexpectedly (log: $worker_log)"; return 1; }
}

base=http://127.0.0.1:$port
ready=0
for _ in $(seq 1 600); do
    [ "$stopping" -eq 0 ] || exit 0
    alive || exit 1
    if curl -sf -o /dev/null --max-time 2 "$base/versions"; then
        ready=1
        break
    fi
    sleep 0.1
done
[ "$ready" -eq 1 ] || ht_die "hugetask-api did not answer $base/versions within 60 s"

cat >&2 <<EOF
[hugetask] ready: $base (graph $graph, $workers workers, database $shown_url)
  curl -s $base/versions
  curl -s -X POST -H 'Content-Type: application/json' \\
       -d '{"gremlin":"hugegraph.traversal().V()","bindings":{},"language":"gremlin-groovy","aliases":{}}' \\
       $base/graphs/$graph/jobs/gremlin
  curl -s $base/graphs/$graph/tasks/1
  curl -s '$base/graphs/$graph/tasks?status=success&limit=10'
  curl -s -X PUT '$base/graphs/$graph/tasks/1?action=cancel'
  curl -s -X DELETE $base/graphs/$graph/tasks/1
  curl -s $base/metrics                          # the API's Prometheus metrics
  curl -s http://127.0.0.1:$metrics_port/metrics    # the worker daemon's
[hugetask] Ctrl-C stops it.
EOF

# wait returns when a daemon exits or when a trapped signal arrives.
while [ "$stopping" -eq 0 ]; do
    wait -n "$api_pid" "$worker_pid" 2>/dev/null || true
    [ "$stopping" -eq 0 ] || break
    alive || exit 1
done
ht_log "stopping"
exit 0

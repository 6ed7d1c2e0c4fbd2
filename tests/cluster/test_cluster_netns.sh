#!/usr/bin/env bash
#
# tests/cluster/test_cluster_netns.sh - many hosts on one machine (issue 7).
#
#   test_cluster_netns.sh HUGETASK_API_BIN HUGETASK_WORKER_BIN
#
# Builds a small cluster of network namespaces joined by veth pairs to a
# bridge that lives in a namespace of its own (nothing is added to the root
# namespace):
#
#   <id>-br  bridge br0, 10.231.N.1: the clients (curl) run here
#   <id>-pg  PostgreSQL 15, 10.231.N.10
#   <id>-a1  hugetask-api, 10.231.N.21 (HTTP :8080, nng PUB :28080)
#   <id>-a2  hugetask-api, 10.231.N.22
#   <id>-w1  hugetask-worker --server-id w1, 10.231.N.31, subscribed to both APIs
#   <id>-w2  hugetask-worker --server-id w2, 10.231.N.32
#
# The subnet is picked per run (10.231.<pid % 250 + 1>.0/24), but as no
# address is added to the root namespace it cannot clash with the machine's
# networks, nor with a concurrent run (each has its own bridge namespace).
# Ports are the defaults: each host is a namespace of its own.
#
# It proves, reading every row back from PostgreSQL:
#   1. jobs submitted to either API run on either worker host (two waves
#      that cannot fit on one host, then a burst), and each API answers for
#      the tasks the other one took;
#   2. cutting w1 off (its switch port down) while it runs long jobs gets
#      them rescued (retries 1, attempt 2) and finished by w2;
#   3. healing w1 while its processes still hold the stale attempts (blocked
#      in a heartbeat, or about to write) changes nothing: the rows w2
#      finished stay byte for byte, no row change is recorded, and w1 logs
#      its attempt as fenced (task.lost/abandoned or task.finish_fenced);
#      afterwards w1 runs new jobs again;
#   4. every task has exactly one final write (a trigger of its own records
#      every row change; task_events, when the schema has it, must agree)
#      and exactly one task.finished log line, from the process its
#      task_server names; the daemons stop cleanly with no sanitizer report.
#
# Everything it makes (namespaces, veths, bridge, processes, PostgreSQL,
# temp dir) is removed on any exit, including failures, Ctrl-C, SIGTERM and
# SIGHUP.  A run killed with SIGKILL (e.g. a ctest timeout) leaves them
# behind; the next run removes those of runs whose pid is gone.  Needs root
# (ip netns); without it, it exits 77 (ctest: skipped).
#
#   HT_TEST_TIMEOUT_MULT  scales every wait (tests/run.sh: 1, and 3 under ASan)
#   HT_TEST_KEEP=1        keep the temp dir (logs, PostgreSQL data)
#   HT_PG_BIN             PostgreSQL binaries (/usr/lib/postgresql/15/bin)
set -uo pipefail
export PATH=$PATH:/usr/sbin:/sbin

API_BIN=${1:?usage: $0 HUGETASK_API_BIN HUGETASK_WORKER_BIN}
WORKER_BIN=${2:?usage: $0 HUGETASK_API_BIN HUGETASK_WORKER_BIN}
PG_BIN=${HT_PG_BIN:-/usr/lib/postgresql/15/bin}
MULT=${HT_TEST_TIMEOUT_MULT:-1}
[[ "$MULT" =~ ^[1-9][0-9]*$ ]] || MULT=1

# Worker timings: short, so a lost host is rescued within seconds.  The long
# jobs sleep well past a lease.
LEASE_MS=2000
HEARTBEAT_MS=250
POLL_MS=200
LONG_MS=6000
QUICK_MS=400
WAVE_MS=1500
WORKERS=2          # processes per worker host
HTTP_PORT=8080
PUB_PORT=28080
PG_PORT=5432

ID=htc$$
NET=10.231.$(( $$ % 250 + 1 ))
NS_BR=$ID-br
HOSTS=(pg a1 a2 w1 w2)
declare -A ADDR=([br]=$NET.1 [pg]=$NET.10 [a1]=$NET.21 [a2]=$NET.22
                 [w1]=$NET.31 [w2]=$NET.32)
DB_URL="postgresql://postgres@${ADDR[pg]}:$PG_PORT/postgres"
COMPLETED="('success', 'cancelled', 'failed')"

TMP=""
declare -A PID_OF  # a1 a2 w1 w2 -> pid of each daemon we started
MADE_NS=()
FAILED=0

say() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- cleanup

# Stops one daemon: SIGTERM, then SIGKILL after the grace period.
stop_pid() {
    local pid=$1 grace=$2 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for (( i = 0; i < grace * 10; i++ )); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "pid $pid still running ${grace}s after SIGTERM: SIGKILL"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# stop_daemons GRACE_SECONDS
stop_daemons() {
    local k
    # Workers first (they drain), then the APIs.
    for k in w1 w2 a1 a2; do
        [ -n "${PID_OF[$k]:-}" ] && stop_pid "${PID_OF[$k]}" "$1"
        unset "PID_OF[$k]"
    done
}

pg_stop() {
    [ -n "$TMP" ] && [ -f "$TMP/pg/PG_VERSION" ] || return 0
    if runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$TMP/pg" status >/dev/null 2>&1; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$TMP/pg" -m immediate -w -t 30 stop \
            >/dev/null 2>&1 || say "pg_ctl stop failed"
    fi
}

# Removes a namespace: whatever still runs in it is ours; kill it first.
ns_remove() {
    local ns=$1 pids
    ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$ns" || return 0
    pids=$(ip netns pids "$ns" 2>/dev/null)
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null
        sleep 0.2
    fi
    ip netns del "$ns" 2>/dev/null || say "could not delete namespace $ns"
}

cleanup() {
    local rc=$? ns
    trap - EXIT INT TERM HUP
    trap '' PIPE
    [ "$FAILED" -eq 1 ] && rc=1
    # After a failure or an interrupt, no long drain: a host cut off cannot
    # finish its jobs anyway.
    stop_daemons 3
    pg_stop
    for ns in "${MADE_NS[@]}"; do
        ns_remove "$ns"
    done
    if [ -n "$TMP" ]; then
        if [ -n "${HT_TEST_KEEP:-}" ]; then
            say "kept $TMP"
        else
            rm -rf "$TMP"
        fi
    fi
    if [ "$rc" -eq 0 ]; then
        say "PASS"
    elif [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]; then
        say "interrupted (exit $rc); everything it made is removed"
    elif [ "$rc" -ne 77 ]; then
        say "FAILED (exit $rc)"
    fi
    exit "$rc"
}

# What earlier runs left when killed before their trap could run (SIGKILL,
# e.g. a ctest timeout): their PostgreSQL, temp dir and namespaces (with
# whatever still runs in them).  Only runs whose pid is gone.
reap_stale() {
    local ns owner dir
    for dir in "${TMPDIR:-/tmp}"/ht-cluster.*; do
        [ -f "$dir/owner" ] || continue
        owner=$(cat "$dir/owner" 2>/dev/null)
        [[ "$owner" =~ ^[0-9]+$ ]] || continue
        [ "$owner" = "$$" ] && continue
        kill -0 "$owner" 2>/dev/null && continue
        say "removing $dir left by dead run $owner"
        if [ -f "$dir/pg/PG_VERSION" ]; then
            runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/pg" -m immediate -w -t 30 \
                stop >/dev/null 2>&1
        fi
        rm -rf "$dir"
    done
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^htc[0-9]+-(br|pg|a1|a2|w1|w2)$'); do
        owner=${ns#htc}
        owner=${owner%%-*}
        [ "$owner" = "$$" ] && continue
        kill -0 "$owner" 2>/dev/null && continue
        say "removing namespace $ns left by dead run $owner"
        ns_remove "$ns"
    done
}

# ---------------------------------------------------------------- failure

tail_logs() {
    local f
    [ -n "$TMP" ] || return 0
    for f in "$TMP"/api1.log "$TMP"/api2.log "$TMP"/w1.log "$TMP"/w2.log "$TMP"/pg.log; do
        [ -f "$f" ] || continue
        printf '\n----- last 40 lines of %s -----\n' "${f##*/}" >&2
        tail -n 40 "$f" >&2
    done
    printf '\n' >&2
}

# fail WHAT EXPECTED FOUND
fail() {
    printf '\nFAIL: %s\n  expected: %s\n  found:    %s\n' "$1" "$2" "$3" >&2
    tail_logs
    FAILED=1
    exit 1
}

# die MESSAGE: a setup step failed (no expectation to state).
die() {
    printf '\nFAIL: %s\n' "$*" >&2
    tail_logs
    FAILED=1
    exit 1
}

# ---------------------------------------------------------------- helpers

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

sql() {
    "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "${PSQL_CONN[@]}" -c "$1" 2>&1
}

# sql_ok SQL: runs it or fails the test.
SQL_OUT=""
sql_ok() {
    SQL_OUT=$(sql "$1") || die "SQL failed: $1
$SQL_OUT"
}

# wait_for DESCRIPTION SECONDS COMMAND...: polls until COMMAND succeeds;
# SECONDS is multiplied by HT_TEST_TIMEOUT_MULT.  Returns 1 on timeout.
wait_for() {
    local what=$1 secs=$(( $2 * MULT )) end
    shift 2
    end=$(( $(date +%s) + secs ))
    while ! "$@" >/dev/null 2>&1; do
        if [ "$(date +%s)" -ge "$end" ]; then
            say "timed out after ${secs}s waiting for: $what"
            return 1
        fi
        sleep 0.2
    done
    return 0
}

sql_true() { [ "$(sql "$1")" = t ]; }

# statuses ID_LIST: "id=status@server ..." for failure messages.
statuses() {
    sql "SELECT string_agg(id || '=' || status || '@' || coalesce(server, '-') ||
        ' retries=' || retries || ' attempt=' || attempt, ', ' ORDER BY id)
        FROM tasks WHERE id IN ($1)"
}

# http NS METHOD URL [BODY]: sets HTTP_CODE and HTTP_BODY.
HTTP_CODE="" HTTP_BODY=""
http() {
    local ns=$1 method=$2 url=$3 body=${4:-} out
    local args=(-sS -m $(( 10 * MULT )) -X "$method" -w '\n%{http_code}')
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
    out=$(in_ns "$ns" curl "${args[@]}" "$url" 2>&1)
    HTTP_CODE=${out##*$'\n'}
    HTTP_BODY=${out%$'\n'*}
}

# submit HOST SCRIPT: POSTs a Gremlin job to that API; sets SUBMITTED_ID.
SUBMITTED_ID=""
submit() {
    local host=$1 script=$2 url
    url="http://${ADDR[$host]}:$HTTP_PORT/graphs/hugegraph/jobs/gremlin"
    http "$NS_BR" POST "$url" "{\"gremlin\":\"$script\",\"language\":\"gremlin-groovy\"}"
    [ "$HTTP_CODE" = 201 ] ||
        fail "POST $url ($script)" "201 {\"task_id\":N}" "$HTTP_CODE $HTTP_BODY"
    SUBMITTED_ID=$(sed -n 's/^{"task_id":\([0-9][0-9]*\)}$/\1/p' <<<"$HTTP_BODY")
    [ -n "$SUBMITTED_ID" ] ||
        fail "POST $url ($script)" "a body {\"task_id\":N}" "$HTTP_BODY"
}

# log_has FILE ERE: the daemon log has a matching line.
log_has() { grep -Eq -- "$2" "$1"; }

# Every task id in $1 (comma list) logged one of the events of $3 (ERE
# alternation) in log $2.
all_logged() {
    local ids=$1 file=$2 evts=$3 id
    for id in ${ids//,/ }; do
        log_has "$file" "evt=($evts) (.* )?task=$id( |$)" || return 1
    done
    return 0
}

api_ready() {
    http "$NS_BR" GET "http://${ADDR[$1]}:$HTTP_PORT/versions"
    [ "$HTTP_CODE" = 200 ]
}

workers_ready() {
    [ "$(grep -c 'evt=worker.started' "$TMP/$1.log" 2>/dev/null)" -ge "$WORKERS" ]
}

# start_daemon KEY NS LOGFILE BIN ARGS...
start_daemon() {
    local key=$1 ns=$2 log=$3
    shift 3
    ip netns exec "$ns" "$@" >"$log" 2>&1 &
    PID_OF[$key]=$!
}

# ---------------------------------------------------------------- setup

if [ "$(id -u)" -ne 0 ]; then
    say "SKIP: needs root for ip netns (running as uid $(id -u))"
    exit 77
fi
for tool in ip curl runuser "$PG_BIN/initdb" "$PG_BIN/pg_ctl" "$PG_BIN/psql"; do
    command -v "$tool" >/dev/null 2>&1 || { say "FAIL: $tool not found"; exit 1; }
done
[ -x "$API_BIN" ] || { say "FAIL: $API_BIN is not executable"; exit 1; }
[ -x "$WORKER_BIN" ] || { say "FAIL: $WORKER_BIN is not executable"; exit 1; }
id postgres >/dev/null 2>&1 || { say "FAIL: no postgres user"; exit 1; }

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

T_START=$(date +%s)
reap_stale

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ht-cluster.XXXXXX") || die "mktemp failed"
chmod 755 "$TMP"
echo "$$" >"$TMP/owner"
# PostgreSQL (as postgres) must reach its data directory.
d=$TMP
while [ "$d" != / ] && [ -n "$d" ]; do
    runuser -u postgres -- test -x "$d" || die "postgres cannot reach $d"
    d=$(dirname "$d")
done
say "run $ID: subnet $NET.0/24, temp dir $TMP"

# The bridge, in a namespace of its own; the clients use its address.
ip netns add "$NS_BR" || die "ip netns add $NS_BR failed"
MADE_NS+=("$NS_BR")
ip -n "$NS_BR" link set lo up &&
    ip -n "$NS_BR" link add br0 type bridge &&
    ip -n "$NS_BR" addr add "${ADDR[br]}/24" dev br0 &&
    ip -n "$NS_BR" link set br0 up || die "could not make the bridge in $NS_BR"

# One namespace per host; its eth0 is a veth whose peer p-<host> is a port
# of br0.  Both ends are created directly in their namespaces.
for h in "${HOSTS[@]}"; do
    ns=$ID-$h
    ip netns add "$ns" || die "ip netns add $ns failed"
    MADE_NS+=("$ns")
    ip -n "$ns" link set lo up &&
        ip -n "$NS_BR" link add "p-$h" type veth peer name eth0 netns "$ns" &&
        ip -n "$NS_BR" link set "p-$h" master br0 &&
        ip -n "$NS_BR" link set "p-$h" up &&
        ip -n "$ns" addr add "${ADDR[$h]}/24" dev eth0 &&
        ip -n "$ns" link set eth0 up || die "could not wire host $h ($ns)"
done

# PostgreSQL on host pg: listens on its own address only, trusts the
# cluster subnet; its unix socket directory is in our temp dir, unless that
# path is too long for a socket (107 bytes): then TCP only.
SOCKDIR=$TMP/sock
[ "${#SOCKDIR}" -le 85 ] || SOCKDIR=""
mkdir -p "$TMP/pg" "$TMP/sock" && touch "$TMP/pg.log" &&
    chown postgres:postgres "$TMP/pg" "$TMP/sock" "$TMP/pg.log" &&
    chmod 700 "$TMP/pg" || die "could not prepare $TMP/pg"
runuser -u postgres -- "$PG_BIN/initdb" -D "$TMP/pg" -A trust -U postgres \
    --encoding=UTF8 --locale=C --no-instructions >>"$TMP/pg.log" 2>&1 ||
    die "initdb failed"
printf 'host all all %s.0/24 trust\n' "$NET" >>"$TMP/pg/pg_hba.conf"
cat >>"$TMP/pg/postgresql.conf" <<EOF
listen_addresses = '${ADDR[pg]}'
port = $PG_PORT
unix_socket_directories = '$SOCKDIR'
max_connections = 100
logging_collector = off
log_line_prefix = '%m [%p] %h '
EOF
in_ns "$ID-pg" runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg.log" \
    -w -t $(( 60 * MULT )) start >/dev/null || die "PostgreSQL did not start"
# psql from here: through the private socket, else over TCP from inside
# the pg namespace.
if [ -n "$SOCKDIR" ]; then
    PSQL_CONN=(-h "$SOCKDIR" -p "$PG_PORT" -U postgres -d postgres)
else
    PSQL_CONN=(-h "${ADDR[pg]}" -p "$PG_PORT" -U postgres -d postgres)
    sql() {
        ip netns exec "$ID-pg" "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
            "${PSQL_CONN[@]}" -c "$1" 2>&1
    }
fi
sql_ok "SELECT 1"

# Reachability across the bridge: a worker host connects to PostgreSQL.
in_ns "$ID-w1" "$PG_BIN/psql" -X -q -A -t -d "$DB_URL" -c "SELECT 1" >/dev/null 2>&1 ||
    die "host w1 cannot reach PostgreSQL at ${ADDR[pg]}:$PG_PORT"

# Migrate once, from an API host.
in_ns "$ID-a1" "$API_BIN" --migrate --database-url "$DB_URL" >"$TMP/migrate.log" 2>&1 ||
    { cat "$TMP/migrate.log" >&2; die "hugetask-api --migrate failed"; }
sql_ok "SELECT count(*) FROM schema_migrations"
say "migrated: $SQL_OUT migrations applied"

# Every change of a task row, for the exactly-once checks.  A fenced write
# matches no row, so it leaves nothing here.
sql_ok "CREATE TABLE cluster_audit (seq bigserial PRIMARY KEY, id bigint,
    old_status text, new_status text, old_attempt int, new_attempt int,
    old_server text, new_server text, new_retries int,
    at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE FUNCTION cluster_audit_fn() RETURNS trigger LANGUAGE plpgsql AS \$\$
  BEGIN
    INSERT INTO cluster_audit (id, old_status, new_status, old_attempt,
        new_attempt, old_server, new_server, new_retries)
    VALUES (NEW.id, OLD.status, NEW.status, OLD.attempt, NEW.attempt,
        OLD.server, NEW.server, NEW.retries);
    RETURN NEW;
  END \$\$;
  CREATE TRIGGER cluster_audit AFTER UPDATE ON tasks FOR EACH ROW
    EXECUTE FUNCTION cluster_audit_fn();"

SUBSCRIBE="tcp://${ADDR[a1]}:$PUB_PORT,tcp://${ADDR[a2]}:$PUB_PORT"
for h in a1 a2; do
    start_daemon "$h" "$ID-$h" "$TMP/api${h#a}.log" "$API_BIN" \
        --database-url "$DB_URL" --listen "${ADDR[$h]}:$HTTP_PORT" \
        --pub "tcp://${ADDR[$h]}:$PUB_PORT" --threads 16
done
for h in w1 w2; do
    start_daemon "$h" "$ID-$h" "$TMP/$h.log" "$WORKER_BIN" \
        --database-url "$DB_URL" --subscribe "$SUBSCRIBE" --server-id "$h" \
        --workers "$WORKERS" --lease-ms "$LEASE_MS" --heartbeat-ms "$HEARTBEAT_MS" \
        --poll-ms "$POLL_MS" --drain-ms 2000 --cancel-grace-ms 1000
done
for h in a1 a2; do
    wait_for "API $h answering GET /versions" 30 api_ready "$h" ||
        fail "API $h at ${ADDR[$h]}:$HTTP_PORT" "200 from GET /versions" \
             "${HTTP_CODE:-no answer} ${HTTP_BODY:-}"
done
for h in w1 w2; do
    wait_for "$WORKERS worker processes on $h" 30 workers_ready "$h" ||
        fail "worker host $h" "$WORKERS 'evt=worker.started' lines in its log" \
             "$(grep -c 'evt=worker.started' "$TMP/$h.log") lines"
done
say "cluster up in $(( $(date +%s) - T_START ))s: PostgreSQL, 2 APIs, 2 worker hosts x $WORKERS processes"

# ------------------------------------------- 1. either API, either worker

# Two waves of 2 x WORKERS jobs, each long enough that all of a wave run at
# once, one per worker process, so each host runs exactly WORKERS of it.
# Wave A has WORKERS + 1 jobs from a1, wave B as many from a2: they cannot
# all fit on one host, so each API's jobs run on both hosts (pigeonhole; a
# plain burst can fall into lockstep, each host taking one API's jobs).
# Then a burst of quick jobs through both APIs.
declare -A VIA        # task id -> the API host it was submitted to
declare -A WANT       # task id -> expected task_result
P1_IDS=()
WAVE=$(( 2 * WORKERS ))
n=0
for major in a1 a2; do
    minor=a2
    [ "$major" = a2 ] && minor=a1
    ids=()
    for (( i = 1; i <= WAVE; i++ )); do
        n=$(( n + 1 ))
        h=$major
        [ "$i" -gt $(( WORKERS + 1 )) ] && h=$minor
        submit "$h" "Thread.sleep($WAVE_MS); 'p1-$n'"
        VIA[$SUBMITTED_ID]=$h
        WANT[$SUBMITTED_ID]="\"p1-$n\""
        ids+=("$SUBMITTED_ID")
        P1_IDS+=("$SUBMITTED_ID")
    done
    list=$(IFS=,; echo "${ids[*]}")
    wait_for "wave $list (mostly via $major) running at once" 30 \
        sql_true "SELECT count(*) = $WAVE FROM tasks WHERE id IN ($list) AND status = 'running'" ||
        fail "wave $list (mostly via $major)" "all $WAVE running at once, one per worker process" \
             "$(statuses "$list")"
    sql_ok "SELECT count(*) FILTER (WHERE server LIKE 'w1:%') || ' ' ||
        count(*) FILTER (WHERE server LIKE 'w2:%') || ' ' || count(DISTINCT server)
        FROM tasks WHERE id IN ($list)"
    [ "$SQL_OUT" = "$WORKERS $WORKERS $WAVE" ] ||
        fail "wave $list running" "$WORKERS on w1, $WORKERS on w2, $WAVE distinct processes" \
             "w1 w2 distinct = $SQL_OUT ($(statuses "$list"))"
    wait_for "wave $list to complete" 30 \
        sql_true "SELECT count(*) = $WAVE FROM tasks WHERE id IN ($list) AND status IN $COMPLETED" ||
        fail "wave $list" "all $WAVE completed" "$(statuses "$list")"
done
WAVE_IDS=$(IFS=,; echo "${P1_IDS[*]}")
N_BURST=16
for (( i = 1; i <= N_BURST; i++ )); do
    n=$(( n + 1 ))
    h=a$(( (i % 2) + 1 ))
    submit "$h" "Thread.sleep($QUICK_MS); 'p1-$n'"
    VIA[$SUBMITTED_ID]=$h
    WANT[$SUBMITTED_ID]="\"p1-$n\""
    P1_IDS+=("$SUBMITTED_ID")
done
N1=${#P1_IDS[@]}
P1_LIST=$(IFS=,; echo "${P1_IDS[*]}")
wait_for "the $N1 phase-1 tasks to complete" 60 \
    sql_true "SELECT count(*) = $N1 FROM tasks WHERE id IN ($P1_LIST) AND status IN $COMPLETED" ||
    fail "phase-1 tasks $P1_LIST" "all $N1 completed" "$(statuses "$P1_LIST")"
sql_ok "SELECT id || ' ' || status || ' ' || coalesce(server, '-') || ' ' ||
    coalesce(result, '-') FROM tasks WHERE id IN ($P1_LIST) ORDER BY id"
P1_ROWS=$SQL_OUT
declare -A PAIRS
while read -r id st server result; do
    [ "$st" = success ] && [ "$result" = "${WANT[$id]}" ] ||
        fail "phase-1 task $id (submitted to ${VIA[$id]})" \
             "status success, result ${WANT[$id]}" "status $st, result $result"
    host=${server%%:*}
    [ "$host" = w1 ] || [ "$host" = w2 ] ||
        fail "phase-1 task $id task_server" "w1:<pid> or w2:<pid>" "$server"
    PAIRS[${VIA[$id]}-$host]=$(( ${PAIRS[${VIA[$id]}-$host]:-0} + 1 ))
    if [[ ",$WAVE_IDS," == *",$id,"* ]]; then
        PAIRS[wave-${VIA[$id]}-$host]=1
    fi
done <<<"$P1_ROWS"
[ "$(wc -l <<<"$P1_ROWS")" -eq "$N1" ] ||
    fail "phase-1 rows" "$N1 rows" "$(wc -l <<<"$P1_ROWS") rows"
for pair in a1-w1 a1-w2 a2-w1 a2-w2; do
    [ "${PAIRS[wave-$pair]:-0}" -gt 0 ] ||
        fail "the waves' spread (API submitted to - worker host that ran it)" \
             "at least one task for each of a1-w1 a1-w2 a2-w1 a2-w2" \
             "$(for q in a1-w1 a1-w2 a2-w1 a2-w2; do printf '%s=%s ' "$q" "${PAIRS[wave-$q]:-0}"; done)"
done
# Each API answers for the tasks submitted to the other one.
for id in "${P1_IDS[@]}"; do
    other=a1
    [ "${VIA[$id]}" = a1 ] && other=a2
    http "$NS_BR" GET "http://${ADDR[$other]}:$HTTP_PORT/graphs/hugegraph/tasks/$id"
    [ "$HTTP_CODE" = 200 ] && grep -q '"task_status":"success"' <<<"$HTTP_BODY" &&
        grep -Eq '"task_server":"w[12]:[0-9]+"' <<<"$HTTP_BODY" ||
        fail "GET task $id (submitted to ${VIA[$id]}) from API $other" \
             "200 with task_status success and task_server w1:/w2:<pid>" \
             "$HTTP_CODE $HTTP_BODY"
done
say "phase 1 ok: $N1 tasks; a1-w1=${PAIRS[a1-w1]} a1-w2=${PAIRS[a1-w2]} a2-w1=${PAIRS[a2-w1]} a2-w2=${PAIRS[a2-w2]}"

# ------------------------------------------- 2. cut w1 off while it runs

# One long job per worker process, so each host holds $WORKERS of them.  Each
# adds a vertex in its own transaction, committed with its success.
N2=$(( 2 * WORKERS ))
P2_IDS=()
declare -A TAG
for (( i = 1; i <= N2; i++ )); do
    h=a$(( (i % 2) + 1 ))
    submit "$h" "Thread.sleep($LONG_MS); graph.addVertex(T.label, 'cut', 'tag', 'c$i'); 'c$i'"
    VIA[$SUBMITTED_ID]=$h
    TAG[$SUBMITTED_ID]=c$i
    P2_IDS+=("$SUBMITTED_ID")
done
P2_LIST=$(IFS=,; echo "${P2_IDS[*]}")
wait_for "all $N2 long tasks running" 30 \
    sql_true "SELECT count(*) = $N2 FROM tasks WHERE id IN ($P2_LIST) AND status = 'running'" ||
    fail "long tasks $P2_LIST" "all $N2 running (one per worker process)" "$(statuses "$P2_LIST")"
sql_ok "SELECT string_agg(id::text, ',' ORDER BY id) FROM tasks
    WHERE id IN ($P2_LIST) AND status = 'running' AND server LIKE 'w1:%'"
CUT_LIST=$SQL_OUT
sql_ok "SELECT string_agg(id || '=' || status || '@' || coalesce(server, '-'), ' ' ORDER BY id)
    FROM tasks WHERE id IN ($P2_LIST)"
[ -n "$CUT_LIST" ] ||
    fail "long tasks before the cut" "some running on w1" "$SQL_OUT"
say "long tasks: $SQL_OUT; cutting w1 off (switch port p-w1 down) while it runs $CUT_LIST"
T_CUT=$(date +%s)
ip -n "$NS_BR" link set p-w1 down || die "could not take p-w1 down"

wait_for "w1's tasks ($CUT_LIST) rescued and finished by w2" $(( (2 * LONG_MS + 4 * LEASE_MS) / 1000 + 40 )) \
    sql_true "SELECT count(*) = $N2 FROM tasks WHERE id IN ($P2_LIST) AND status IN $COMPLETED" ||
    fail "long tasks $P2_LIST after cutting w1 off" "all completed (w1's rescued by w2)" \
         "$(statuses "$P2_LIST")"
sql_ok "SELECT id || ' ' || status || ' ' || coalesce(server, '-') || ' ' || retries || ' ' ||
    attempt || ' ' || coalesce(result, '-') FROM tasks WHERE id IN ($P2_LIST) ORDER BY id"
P2_ROWS=$SQL_OUT
while read -r id st server retries attempt result; do
    if [[ ",$CUT_LIST," == *",$id,"* ]]; then
        want_retries=1 want_attempt=2
    else
        want_retries=0 want_attempt=1
    fi
    [ "$st" = success ] && [ "${server%%:*}" = w2 ] && [ "$retries" = "$want_retries" ] &&
        [ "$attempt" = "$want_attempt" ] && [ "$result" = "\"${TAG[$id]}\"" ] ||
        fail "long task $id after the cut (w1 held: $CUT_LIST)" \
             "success by w2:<pid>, retries $want_retries, attempt $want_attempt, result \"${TAG[$id]}\"" \
             "$st by $server, retries $retries, attempt $attempt, result $result"
done <<<"$P2_ROWS"
# The history of each rescued task, from the trigger (status changes only).
for id in ${CUT_LIST//,/ }; do
    sql_ok "SELECT string_agg(old_status || '>' || new_status || '@' || new_attempt || ':' ||
        coalesce(split_part(new_server, ':', 1), '-'), ' ' ORDER BY seq)
        FROM cluster_audit WHERE id = $id AND old_status <> new_status"
    want="queued>running@1:w1 running>queued@1:- queued>running@2:w2 running>success@2:w2"
    [ "$SQL_OUT" = "$want" ] ||
        fail "status history of rescued task $id" "$want" "$SQL_OUT"
done
say "phase 2 ok: $CUT_LIST rescued (retries 1) and finished by w2, $(( $(date +%s) - T_CUT ))s after the cut"

# ------------------------------------------- 3. heal w1: stale writes fenced

# w1's attempts must still be in flight (running, or about to write): no
# outcome logged yet.
STALE_EVTS='task\.finished|task\.finish_fenced|task\.finish_failed|task\.abandoned|task\.lost'
for id in ${CUT_LIST//,/ }; do
    if line=$(grep -E "evt=($STALE_EVTS) (.* )?task=$id( |$)" "$TMP/w1.log"); then
        fail "w1's attempt at task $id before the heal" \
             "still in flight (no outcome in w1's log while cut off)" "$line"
    fi
done
SNAP_SQL="SELECT id, status, result, progress, retries, attempt, server,
    created_at, started_at, updated_at, lease_until, cancel_requested
    FROM tasks WHERE id IN ($P2_LIST) ORDER BY id"
sql_ok "$SNAP_SQL"
SNAPSHOT=$SQL_OUT
sql_ok "SELECT coalesce(max(seq), 0) FROM cluster_audit"
AUDIT_MARK=$SQL_OUT
sql_ok "SELECT string_agg(properties->>'tag', ',' ORDER BY properties->>'tag')
    FROM vertices WHERE label = 'cut'"
VERTS=$SQL_OUT

say "healing w1 (p-w1 up) after $(( $(date +%s) - T_CUT ))s cut off"
T_HEAL=$(date +%s)
ip -n "$NS_BR" link set p-w1 up || die "could not bring p-w1 up"
# w1's processes sit in a heartbeat statement (libpq waits for the reply)
# while TCP retransmits it.  Having lost its own carrier, w1 retransmits at
# a capped interval (seen: resumed within 1 s of the heal after a 72 s cut);
# a loss further away would back off up to 120 s between tries.
FENCED_EVTS='task\.abandoned|task\.finish_fenced'
wait_for "w1 logging its stale attempts at $CUT_LIST as fenced" $(( (T_HEAL - T_CUT) / MULT + 150 )) \
    all_logged "$CUT_LIST" "$TMP/w1.log" "$FENCED_EVTS" ||
    fail "w1's log after the heal" \
         "evt=task.abandoned or evt=task.finish_fenced for each of $CUT_LIST" \
         "$(grep -E "task=(${CUT_LIST//,/|})( |$)" "$TMP/w1.log" | tail -n 10)"
say "w1 after the heal ($(( $(date +%s) - T_HEAL ))s):"
grep -E "evt=($STALE_EVTS|task\.heartbeat_failed) (.* )?task=(${CUT_LIST//,/|})( |$)" "$TMP/w1.log" |
    sed 's/^/    /' >&2
# Give any further stale write its chance: a few heartbeats and polls.
sleep $(( (8 * HEARTBEAT_MS + 4 * POLL_MS) / 1000 + 1 ))
sql_ok "$SNAP_SQL"
[ "$SQL_OUT" = "$SNAPSHOT" ] ||
    fail "rows of the long tasks after w1 healed" "unchanged since w2 finished:
$SNAPSHOT" "$SQL_OUT"
sql_ok "SELECT coalesce(string_agg(seq || ':' || id || ':' || old_status || '>' || new_status
    || '@' || new_attempt || ':' || coalesce(new_server, '-'), ' '), '')
    FROM cluster_audit WHERE seq > $AUDIT_MARK AND id IN ($P2_LIST)"
[ -z "$SQL_OUT" ] ||
    fail "row changes to the long tasks after w1 healed" "none" "$SQL_OUT"
sql_ok "SELECT string_agg(properties->>'tag', ',' ORDER BY properties->>'tag')
    FROM vertices WHERE label = 'cut'"
[ "$SQL_OUT" = "$VERTS" ] && [ "$(tr ',' '\n' <<<"$VERTS" | sort -u | wc -l)" -eq "$N2" ] &&
    [ "$(tr ',' '\n' <<<"$VERTS" | wc -l)" -eq "$N2" ] ||
    fail "the long jobs' vertices (one per successful task)" \
         "$N2 distinct tags, as before the heal ($VERTS)" "$SQL_OUT"
for id in ${CUT_LIST//,/ }; do
    if line=$(grep -E "evt=task\.finished (.* )?task=$id( |$)" "$TMP/w1.log"); then
        fail "w1's log for rescued task $id" "no task.finished from w1" "$line"
    fi
done
say "phase 3 ok: rows, history and vertices unchanged after the heal"

# w1 is back: new jobs run on both hosts again.
N3=$(( 4 * WORKERS ))
P3_IDS=()
for (( i = 1; i <= N3; i++ )); do
    h=a$(( (i % 2) + 1 ))
    submit "$h" "Thread.sleep($QUICK_MS); 'p3-$i'"
    P3_IDS+=("$SUBMITTED_ID")
done
P3_LIST=$(IFS=,; echo "${P3_IDS[*]}")
wait_for "the $N3 post-heal tasks to complete" 60 \
    sql_true "SELECT count(*) = $N3 FROM tasks WHERE id IN ($P3_LIST) AND status IN $COMPLETED" ||
    fail "post-heal tasks $P3_LIST" "all $N3 completed" "$(statuses "$P3_LIST")"
sql_ok "SELECT count(*) FILTER (WHERE status <> 'success') || ' ' ||
    count(*) FILTER (WHERE server LIKE 'w1:%') || ' ' ||
    count(*) FILTER (WHERE server LIKE 'w2:%') FROM tasks WHERE id IN ($P3_LIST)"
read -r bad on_w1 on_w2 <<<"$SQL_OUT"
[ "$bad" = 0 ] && [ "$on_w1" -gt 0 ] ||
    fail "post-heal tasks $P3_LIST" "all success, some run by the healed w1" \
         "$bad not success, $on_w1 on w1, $on_w2 on w2"
say "w1 serves again: post-heal tasks w1=$on_w1 w2=$on_w2"

# ------------------------------------------- 4. exactly one final write

sql_ok "SELECT count(*) FROM tasks"
TOTAL=$SQL_OUT
[ "$TOTAL" -eq $(( N1 + N2 + N3 )) ] ||
    fail "tasks in the database" "$(( N1 + N2 + N3 ))" "$TOTAL"
sql_ok "SELECT coalesce(string_agg(t.id || ':' || coalesce(a.n, 0), ' '), '') FROM tasks t
    LEFT JOIN (SELECT id, count(*) AS n FROM cluster_audit
               WHERE new_status IN $COMPLETED AND old_status NOT IN $COMPLETED
               GROUP BY id) a ON a.id = t.id
    WHERE coalesce(a.n, 0) <> 1"
[ -z "$SQL_OUT" ] ||
    fail "final writes per task (trigger)" "exactly 1 for each task" "id:count $SQL_OUT"
sql_ok "SELECT coalesce(string_agg(seq || ':' || id || ':' || old_status || '>' || new_status, ' '), '')
    FROM cluster_audit WHERE old_status IN $COMPLETED"
[ -z "$SQL_OUT" ] ||
    fail "changes to completed rows (trigger)" "none" "$SQL_OUT"
# The product's own history (sql/0006 task_events), when this tree has it:
# it must agree.
sql_ok "SELECT to_regclass('task_events') IS NOT NULL"
if [ "$SQL_OUT" = t ]; then
    sql_ok "SELECT coalesce(string_agg(t.id || ':' || coalesce(e.n, 0), ' '), '') FROM tasks t
        LEFT JOIN (SELECT task_id, count(*) AS n FROM task_events
                   WHERE graph = 'hugegraph' AND to_status IN $COMPLETED
                   GROUP BY task_id) e ON e.task_id = t.id
        WHERE coalesce(e.n, 0) <> 1"
    [ -z "$SQL_OUT" ] ||
        fail "final events per task in task_events" "exactly 1 for each task" "id:count $SQL_OUT"
    for id in ${CUT_LIST//,/ }; do
        sql_ok "SELECT string_agg(coalesce(from_status, '') || '>' || to_status || '@' || attempt
            || ':' || coalesce(split_part(server, ':', 1), '-'), ' ' ORDER BY at)
            FROM task_events WHERE graph = 'hugegraph' AND task_id = $id"
        want=">queued@0:- queued>running@1:w1 running>queued@1:- queued>running@2:w2 running>success@2:w2"
        [ "$SQL_OUT" = "$want" ] ||
            fail "task_events history of rescued task $id" "$want" "$SQL_OUT"
    done
    say "task_events agrees: one final event per task, the rescued tasks' histories as expected"
fi
# One task.finished line per task, from the process task_server names.
for h in w1 w2; do
    sed -n "s/.* pid=\([0-9]*\) evt=task\.finished .*task=\([0-9][0-9]*\).*/$h:\1 \2/p" "$TMP/$h.log"
done | sort >"$TMP/finished.log"
sql_ok "SELECT server || ' ' || id FROM tasks ORDER BY 1"
sort <<<"$SQL_OUT" >"$TMP/servers.txt"
if ! cmp -s "$TMP/finished.log" "$TMP/servers.txt"; then
    fail "task.finished log lines (host:pid task) vs task_server of each row" \
         "exactly one line per task, from its task_server" \
         "$(diff "$TMP/servers.txt" "$TMP/finished.log" | head -n 20)"
fi
say "phase 4 ok: $TOTAL tasks, each with one final write and one task.finished line"

# ------------------------------------------- stop, then sanitizer reports

stop_daemons $(( 15 * MULT ))
if grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
        "$TMP"/api1.log "$TMP"/api2.log "$TMP"/w1.log "$TMP"/w2.log >/dev/null 2>&1; then
    fail "daemon logs" "no sanitizer report" \
         "$(grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$TMP"/*.log | tr '\n' ' ')"
fi
say "all checks passed in $(( $(date +%s) - T_START ))s"
exit 0

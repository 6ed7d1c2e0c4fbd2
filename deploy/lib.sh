# shellcheck shell=bash
#
# deploy/lib.sh - shell helpers shared by deploy/run.sh and tests/run.sh.
#
# Sourced, never run.  It installs the Debian packages hugetask needs, builds
# the tree with CMake, and starts or stops a private PostgreSQL 15 cluster.
# Every function is safe to call twice: a machine that already has the
# packages does no apt work at all, and a cluster that is already running is
# reused.  Nothing here knows about the daemons' own settings; they read
# HUGETASK_* from the environment themselves.
#
# A cluster lives in DATADIR; its log is DATADIR.log and its unix socket
# directory DATADIR.run, both beside it, so clusters on different ports never
# share a file.  When we are root the cluster runs as the `postgres` user
# (initdb refuses root); otherwise it runs as the caller.

HT_ROOT=${HT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
HT_PG_BIN=${HT_PG_BIN:-/usr/lib/postgresql/15/bin}

# docker-compose validates deploy/docker-compose.yml; python3 (with yaml)
# runs tests/deploy, which needs no Docker engine.
# iproute2 (ip netns, veth, bridge) builds the cluster in tests/cluster.
HT_DEPS=(build-essential cmake pkg-config libcivetweb-dev libnng-dev
         libmsgpack-dev libjansson-dev libcmocka-dev libpq-dev libcrypt-dev
         postgresql-15 postgresql-client-15 curl clang libclang-rt-14-dev
         docker-compose python3 python3-yaml iproute2)

# The Debian packages whose shared libraries the shipped binaries
# (hugetask-api, hugetask-worker, hugetask) link directly: the runtime
# image installs exactly these (deploy/docker/Dockerfile), and
# tests/deploy checks with ldd and dpkg -S that nothing is missing (and
# that nothing listed is unused).  libc6 (libc, libm, the loader) and
# libcrypt1 are already in debian:12-slim; they are listed anyway, so the
# list is the whole truth and the check has no exceptions.  What these
# packages need in turn (libssl3, libkrb5-3, ...) comes with them as their
# own dependencies.
HT_RUNTIME_DEPS=(libc6 libcivetweb1 libcrypt1 libjansson4 libmsgpackc2 libnng1
                 libpq5)

ht_log() { printf '[hugetask] %s\n' "$*" >&2; }
ht_die() { ht_log "error: $*"; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
ht_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        ht_die "need root to run: $*"
    fi
}

# Runs a command as the user that owns our PostgreSQL clusters.
ht_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# ht_install_deps [EXTRA_PACKAGE...]
# Installs whichever of HT_DEPS (and the extra packages) is missing.  apt-get
# update runs at most once per shell, and only when something is missing.
ht_install_deps() {
    local missing=() p
    for p in "${HT_DEPS[@]}" "$@"; do
        if ! dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null |
                grep -q '^ii'; then
            missing+=("$p")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    ht_log "installing missing packages: ${missing[*]}"
    if [ -z "${HT_APT_UPDATED:-}" ]; then
        ht_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
            ht_die "apt-get update failed"
        HT_APT_UPDATED=1
    fi
    ht_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        ht_die "apt-get install failed: ${missing[*]}"
}

# ht_runtime_packages: prints HT_RUNTIME_DEPS, one package a line.
ht_runtime_packages() {
    printf '%s\n' "${HT_RUNTIME_DEPS[@]}"
}

# ht_build DIR [CMAKE_ARG...]
# Configures and builds the repository into DIR.  A lock inside DIR makes two
# scripts building the same directory at once take turns.
ht_build() {
    local dir=$1 rc=0
    shift
    mkdir -p "$dir" || ht_die "could not create build directory $dir"
    (
        flock 9 || exit 1
        cmake -S "$HT_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
            cmake --build "$dir" -j "${HT_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
    ) 9>"$dir/.ht-build.lock" || rc=$?
    [ "$rc" -eq 0 ] || ht_log "build in $dir failed (exit $rc)"
    return "$rc"
}

# ht_build_target DIR TARGET [CMAKE_ARG...]: configures DIR and builds one
# target (the fuzz build needs only its own).
ht_build_target() {
    local dir=$1 target=$2 rc=0
    shift 2
    mkdir -p "$dir" || ht_die "could not create build directory $dir"
    (
        flock 9 || exit 1
        cmake -S "$HT_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
            cmake --build "$dir" --target "$target" \
                -j "${HT_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
    ) 9>"$dir/.ht-build.lock" || rc=$?
    [ "$rc" -eq 0 ] || ht_log "build of $target in $dir failed (exit $rc)"
    return "$rc"
}

# Makes every directory from / down to $1 traversable by the cluster's user.
# A checkout in a private home or a mktemp -d directory is not, by default;
# granting search (x) only lets postgres reach its own data directory.
ht_pg_reach() {
    local d=$1 path=""
    [ "$(id -u)" -eq 0 ] || return 0
    local IFS=/
    local part
    for part in $d; do
        [ -n "$part" ] || continue
        path="$path/$part"
        if ! runuser -u postgres -- test -x "$path"; then
            ht_log "granting search permission on $path to postgres"
            chmod o+x "$path" || ht_die "could not chmod o+x $path"
        fi
    done
}

# ht_pg_start DATADIR PORT
# Starts the cluster in DATADIR on 127.0.0.1:PORT, creating it on first use.
ht_pg_start() {
    local data port parent log run conf locale
    [ "$#" -eq 2 ] || ht_die "usage: ht_pg_start DATADIR PORT"
    port=$2
    [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
        ht_die "bad PostgreSQL port '$port'"
    [ -x "$HT_PG_BIN/pg_ctl" ] || ht_die "PostgreSQL 15 not found in $HT_PG_BIN"
    mkdir -p "$1" || ht_die "could not create $1"
    data=$(cd "$1" && pwd)
    parent=$(dirname "$data")
    log="$data.log"
    run="$data.run"
    mkdir -p "$run" || ht_die "could not create $run"
    touch "$log" || ht_die "could not create $log"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$data" "$run" "$log" ||
            ht_die "could not give $data to postgres"
    fi
    chmod 700 "$data"
    ht_pg_reach "$parent"

    if [ ! -f "$data/PG_VERSION" ]; then
        if [ -n "$(ls -A "$data")" ]; then
            ht_die "$data is neither empty nor a PostgreSQL cluster"
        fi
        locale=C
        if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
            locale=C.UTF-8
        fi
        ht_log "creating PostgreSQL cluster in $data"
        ht_as_pg "$HT_PG_BIN/initdb" -D "$data" -A trust -U postgres \
            --encoding=UTF8 --locale="$locale" --no-instructions \
            >>"$log" 2>&1 ||
            { tail -n 20 "$log" >&2; ht_die "initdb failed (log: $log)"; }
        printf "\ninclude_if_exists = 'hugetask.conf'\n" |
            ht_as_pg tee -a "$data/postgresql.conf" >/dev/null ||
            ht_die "could not edit $data/postgresql.conf"
    fi

    # Rewritten on every start, so a cluster always follows this file.  A
    # unix socket path is limited to 107 bytes; past that, TCP only.
    local sockdir=$run
    [ "${#run}" -le 90 ] || sockdir=""
    conf="listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
max_connections = 300
synchronous_commit = on
fsync = on
logging_collector = off
log_line_prefix = '%m [%p] %d '
"
    printf '%s' "$conf" | ht_as_pg tee "$data/hugetask.conf" >/dev/null ||
        ht_die "could not write $data/hugetask.conf"

    if ht_as_pg "$HT_PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        ht_log "PostgreSQL already running in $data"
        return 0
    fi
    ht_as_pg "$HT_PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start \
        >/dev/null ||
        { tail -n 20 "$log" >&2; ht_log "PostgreSQL failed to start (log: $log)"; return 1; }
    ht_log "PostgreSQL running on 127.0.0.1:$port (data $data)"
}

# ht_pg_stop DATADIR
# Stops the cluster (fast: rolls back open transactions).  No-op if stopped.
ht_pg_stop() {
    local data=$1
    [ -f "$data/PG_VERSION" ] || return 0
    if ht_as_pg "$HT_PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        ht_as_pg "$HT_PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop \
            >/dev/null || { ht_log "could not stop PostgreSQL in $data"; return 1; }
        ht_log "PostgreSQL in $data stopped"
    fi
}

# ht_pg_url PORT [DBNAME]
ht_pg_url() {
    printf 'postgresql://postgres@127.0.0.1:%s/%s\n' "$1" "${2:-postgres}"
}

# ht_pg_createdb PORT DBNAME
# Creates the database unless it exists.  DBNAME must be a plain identifier.
ht_pg_createdb() {
    local port=$1 db=$2 have
    [[ "$db" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || ht_die "bad database name '$db'"
    have=$("$HT_PG_BIN/psql" -X -q -t -A -h 127.0.0.1 -p "$port" -U postgres \
        -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'") ||
        ht_die "could not query PostgreSQL on port $port"
    [ "$have" = 1 ] && return 0
    "$HT_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE DATABASE $db" >/dev/null ||
        ht_die "could not create database $db"
    ht_log "created database $db"
}

# ht_port_free PORT: true when nothing accepts connections on 127.0.0.1:PORT.
ht_port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ht_free_port [LOW HIGH]: prints a port nobody listens on, from a range
# below Linux's ephemeral ports so outgoing connections do not take it.
ht_free_port() {
    local low=${1:-20000} high=${2:-29999} p
    for _ in $(seq 1 200); do
        p=$((low + (RANDOM * 32768 + RANDOM) % (high - low + 1)))
        if ht_port_free "$p"; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    ht_log "no free port found in $low-$high"
    return 1
}

#!/bin/bash
#
# hugetask-healthcheck - the containers' health check (deploy/docker).
#
#   hugetask-healthcheck api               GET /health on $HUGETASK_LISTEN
#   hugetask-healthcheck worker            GET /health on $HUGETASK_METRICS_LISTEN
#   hugetask-healthcheck HOST:PORT [PATH]  GET PATH (default /health)
#
# Exits 0 when the answer's status is 200, 1 otherwise (connection refused,
# another status, no answer within HT_HEALTH_TIMEOUT seconds, default 5).
# The address comes from the same environment variable the daemon reads, so
# the check follows the configuration; a wildcard host (0.0.0.0, [::], none)
# is checked on the loopback address.  Plain bash (/dev/tcp): the runtime
# image needs no curl.
set -u

die() {
    printf 'hugetask-healthcheck: %s\n' "$*" >&2
    exit 1
}

path=/health
case "${1:-}" in
api)
    addr=${HUGETASK_LISTEN:-127.0.0.1:8080}
    ;;
worker)
    addr=${HUGETASK_METRICS_LISTEN:-}
    [ -n "$addr" ] || die "HUGETASK_METRICS_LISTEN is not set: the worker serves no /health"
    ;;
*:*)
    addr=$1
    path=${2:-/health}
    ;;
*)
    die "usage: hugetask-healthcheck api|worker|HOST:PORT [PATH]"
    ;;
esac

port=${addr##*:}
host=${addr%:*}
case "$host" in
"" | 0.0.0.0 | "*") host=127.0.0.1 ;;
"[::]") host=::1 ;;
\[*\]) host=${host#[}; host=${host%]} ;;
esac
[[ "$port" =~ ^[0-9]+$ ]] || die "bad address '$addr' (expected HOST:PORT)"
timeout=${HT_HEALTH_TIMEOUT:-5}

# Opening /dev/tcp to a closed port fails at once; read -t bounds the wait
# for the answer (and Docker's own --timeout the whole check).
if ! { exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null; then
    die "nothing listens on $host:$port"
fi
printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' \
    "$path" "$host" "$port" >&3 || die "could not send the request to $host:$port"
status=""
IFS= read -r -t "$timeout" status <&3 || true
exec 3<&-
status=${status%$'\r'}
if [[ "$status" =~ ^HTTP/[0-9.]+\ 200([^0-9]|$) ]]; then
    exit 0
fi
die "GET http://$host:$port$path answered '${status:-nothing}'"

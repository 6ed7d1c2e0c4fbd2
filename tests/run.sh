#!/usr/bin/env bash
#
# tests/run.sh - build twice and run every test against a throwaway PostgreSQL.
#
# Builds build/ (normal) and build-asan/ (AddressSanitizer + UBSan), starts
# one PostgreSQL 15 cluster in a fresh temporary directory on a free port,
# exports HT_TEST_PGURL for the integration tests (each makes its own
# database in it), runs ctest in both build trees, and stops PostgreSQL on
# any exit.  Prints both ctest summaries; exits non-zero if either failed.
#
#   HT_TEST_KEEP=1       keep the temporary directory (cluster and its log)
#   HT_CTEST_ARGS="..."  extra ctest arguments, e.g. "-L unit" or "-R seed"
#   HT_CTEST_JOBS=N      ctest parallelism (default 1: the integration tests
#                        measure latencies on a 2-core machine)
#   HT_FUZZ_SECONDS=N    libFuzzer run over the Gremlin interpreter after
#                        ctest (build-fuzz/, clang; default 60, 0 skips)
#   HT_FUZZ_RUNS=N       its number of inputs (default 150000); the seed is
#                        fixed, so a run explores what the last one did
#   tests/lsan.supp      LeakSanitizer suppressions, used when it exists
set -euo pipefail

HT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deploy/lib.sh
. "$HT_ROOT/deploy/lib.sh"

ht_install_deps

t0=$(date +%s)
ht_build "$HT_ROOT/build" || ht_die "normal build failed"
ht_build "$HT_ROOT/build-asan" -DHT_SANITIZE=ON || ht_die "sanitizer build failed"
ht_log "builds took $(( $(date +%s) - t0 )) s"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hugetask-test.XXXXXX") ||
    ht_die "could not create a temporary directory"
chmod 755 "$tmp"
pg_data=$tmp/pg

cleanup() {
    local rc=$?
    ht_pg_stop "$pg_data" || true
    if [ -n "${HT_TEST_KEEP:-}" ]; then
        ht_log "kept $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Another process may take the port between the probe and the start: retry.
started=0
for _ in 1 2 3 4 5; do
    pg_port=$(ht_free_port) || break
    if ht_pg_start "$pg_data" "$pg_port"; then
        started=1
        break
    fi
done
[ "$started" -eq 1 ] || ht_die "could not start the test PostgreSQL"
export HT_TEST_PGURL
HT_TEST_PGURL=$(ht_pg_url "$pg_port" postgres)
ht_log "HT_TEST_PGURL=$HT_TEST_PGURL"

# run_ctest NAME DIR [ENV=VALUE...]: runs ctest, keeps its summary line.
summaries=()
failed=0
run_ctest() {
    local name=$1 dir=$2 rc=0 summary
    shift 2
    ht_log "running ctest in $dir"
    # shellcheck disable=SC2086
    (cd "$dir" && env "$@" ctest --output-on-failure --no-tests=error \
        -j "${HT_CTEST_JOBS:-1}" ${HT_CTEST_ARGS:-}) 2>&1 |
        tee "$dir/ctest.log" || rc=$?
    summary=$(grep -E 'tests passed|No tests were found' "$dir/ctest.log" | tail -n 1)
    [ -n "$summary" ] || summary="ctest did not finish (exit $rc)"
    summaries+=("$name: $summary")
    [ "$rc" -eq 0 ] || failed=1
}

# Leaks in a library we cannot fix are listed there, each with its reason.
lsan=""
[ -f "$HT_ROOT/tests/lsan.supp" ] && lsan="suppressions=$HT_ROOT/tests/lsan.supp"

t0=$(date +%s)
run_ctest build "$HT_ROOT/build" HT_TEST_TIMEOUT_MULT="${HT_TEST_TIMEOUT_MULT:-1}"
run_ctest build-asan "$HT_ROOT/build-asan" \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS="$lsan" \
    HT_TEST_TIMEOUT_MULT=3
ht_log "tests took $(( $(date +%s) - t0 )) s"

# The fuzz target (tests/fuzz): seeds are the corpus scripts; new inputs go
# to the temporary directory; a finding is saved there and fails the run.
fuzz_secs=${HT_FUZZ_SECONDS:-60}
if [ "$fuzz_secs" -gt 0 ]; then
    fuzz_dir=$HT_ROOT/build-fuzz
    mkdir -p "$tmp/fuzz"
    if CC=clang ht_build_target "$fuzz_dir" fuzz -DHT_FUZZ=ON -DHT_TESTS=OFF &&
        "$fuzz_dir/tests/fuzz/fuzz" -seed=1 -runs="${HT_FUZZ_RUNS:-150000}" \
            -max_total_time="$fuzz_secs" \
            -dict="$HT_ROOT/tests/fuzz/gremlin.dict" -artifact_prefix="$tmp/" \
            "$tmp/fuzz" "$HT_ROOT/tests/fuzz/seeds" >"$tmp/fuzz.log" 2>&1; then
        summaries+=("fuzz: clean for $fuzz_secs s ($(grep -c . "$tmp/fuzz.log") log lines)")
    else
        tail -n 40 "$tmp/fuzz.log" 2>/dev/null || true
        summaries+=("fuzz: FAILED (see above; inputs in $tmp, kept with HT_TEST_KEEP=1)")
        failed=1
    fi
fi

for s in "${summaries[@]}"; do
    printf '%s\n' "$s"
done
exit "$failed"

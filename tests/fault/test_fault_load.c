/*
 * tests/fault/test_fault_load.c - exactly-once accounting under random
 * kills (issue 4, case 9).
 *
 * Eight worker processes run ~2000 short jobs while the test SIGKILLs a
 * random one every few hundred milliseconds.  Each job adds one vertex
 * carrying its marker binding without committing it, so the vertex becomes
 * durable in the same transaction as the success status, or not at all.
 * Afterwards: every task has exactly one completed status (audit trigger:
 * entered once, never changed again), and each successful task's vertex
 * exists exactly once, no other task's at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fault/fault_util.h"

#define N_JOBS 2000

static int
teardown(void **state)
{
    return th_stack_free(*state);
}

/* Kills one random worker process; returns 1 if it killed one. */
static int
kill_random_worker(th_stack *s, unsigned *seed)
{
    pid_t pids[16];
    int n = fu_worker_pids(s, pids, 16);

    if (n <= 0)
        return 0;
    return th_pid_signal(pids[rand_r(seed) % (unsigned) n], SIGKILL) == 0;
}

static void
test_exactly_once_under_kills(void **state)
{
    static const char script[] =
        "graph.addVertex(T.label, 'fx', 'm', marker); sleep(2); marker";
    fu_spec spec = { .name = "fault_exactly_once", .workers = 8 };
    th_stack *s = fu_stack(&spec);
    unsigned seed = (unsigned) th_epoch_ms();
    int64_t id, v, succ, next_kill;
    int kills = 0;

    assert_non_null(s);
    *state = s;
    fprintf(stderr, "fault: seed %u\n", seed);
    next_kill = th_mono_ms() + 300;
    for (int i = 0; i < N_JOBS; i++) {
        assert_int_equal(fu_submit(s, script, i, &id), 201);
        if (th_mono_ms() >= next_kill) {
            kills += kill_random_worker(s, &seed);
            next_kill = th_mono_ms() + 150 + rand_r(&seed) % 300;
        }
    }
    /* Keep killing while work is left. */
    for (;;) {
        assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE"
                                " status = 'queued'"), 0);
        if (v < 50 || kills >= 40)
            break;
        kills += kill_random_worker(s, &seed);
        th_sleep_ms(150 + rand_r(&seed) % 300);
    }
    fprintf(stderr, "fault: %d worker processes killed\n", kills);
    assert_true(kills >= 5);
    assert_int_equal(fu_wait_all_done(s, 120), 0);

    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks"), 0);
    assert_int_equal(v, N_JOBS);
    assert_int_equal(fu_i64(s, &succ, "SELECT count(*) FROM tasks WHERE"
                            " status = 'success'"), 0);
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE"
                            " retries > 0"), 0);
    fprintf(stderr, "fault: %" PRId64 " of %d succeeded, %" PRId64
            " were retried\n", succ, N_JOBS, v);
    assert_true(v >= 1);
    /* Only a task killed max_retries + 1 times may fail, and then it says
     * why. */
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE"
                            " status <> 'success' AND (status <> 'failed'"
                            " OR result NOT LIKE 'WorkerLost: %%')"), 0);
    assert_int_equal(v, 0);
    /* One side effect per success, none for anything else. */
    assert_int_equal(fu_exec(s, "CREATE INDEX ON vertices ((properties->>'m'))"),
                     0);
    assert_int_equal(fu_i64(s, &v,
        "SELECT count(*) FROM tasks t WHERE (SELECT count(*) FROM vertices x"
        " WHERE x.label = 'fx' AND x.properties->>'m' ="
        " (t.input::json->'bindings'->>'marker')) <>"
        " CASE WHEN t.status = 'success' THEN 1 ELSE 0 END"), 0);
    assert_int_equal(v, 0);
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM vertices WHERE"
                            " label = 'fx'"), 0);
    assert_int_equal(v, succ);
    /* The result is the marker of the task's own binding. */
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE"
                            " status = 'success' AND result <>"
                            " (input::json->'bindings'->>'marker')"), 0);
    assert_int_equal(v, 0);
    {
        int64_t bad = -1;

        assert_int_equal(fu_audit_violations(s, &bad), 0);
        assert_int_equal(bad, 0);
    }
    assert_true(th_proc_alive(&s->worker));
    th_stack_passed(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_exactly_once_under_kills, teardown),
    };

    fu_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * tests/fault/test_fault_cancel.c - cancel races (issue 4, case 7).
 *
 * Cancels land on queued tasks, on tasks being claimed, and on tasks just
 * finishing.  The rule checked for every PUT: 202 exactly when the task
 * ends cancelled, 400 exactly when it had completed (or was cancelling)
 * first; and nothing is left running or cancelling.  Then a script that
 * swallows the interrupt is stopped after the grace period and still ends
 * cancelled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fault/fault_util.h"

#define N_BURST  200
#define N_FINISH 150

static int
teardown(void **state)
{
    return th_stack_free(*state);
}

/* Checks each (id, PUT status) pair against the final rows. */
static void
check_cancels(th_stack *s, const int64_t *ids, const int *put, int n,
              int *n_202)
{
    char st[32], res[64];

    *n_202 = 0;
    for (int i = 0; i < n; i++) {
        assert_int_equal(fu_str(s, st, sizeof st, "SELECT status FROM tasks"
                                " WHERE id = %" PRId64, ids[i]), 0);
        if (put[i] == 202) {
            (*n_202)++;
            if (strcmp(st, "cancelled") != 0)
                fail_msg("task %" PRId64 ": cancel answered 202 but it ended %s",
                         ids[i], st);
            assert_int_equal(fu_str(s, res, sizeof res, "SELECT result IS NULL"
                                    " FROM tasks WHERE id = %" PRId64, ids[i]), 0);
            assert_string_equal(res, "t");
        } else if (put[i] == 400) {
            if (strcmp(st, "success") != 0 && strcmp(st, "failed") != 0)
                fail_msg("task %" PRId64 ": cancel answered 400 but it ended %s",
                         ids[i], st);
        } else {
            fail_msg("task %" PRId64 ": cancel answered %d", ids[i], put[i]);
        }
    }
}

static void
test_cancel_races(void **state)
{
    static char *const worker_args[] = { "--heartbeat-ms", "100", NULL };
    fu_spec spec = { .name = "fault_cancel_races", .workers = 4,
                     .worker_args = worker_args };
    th_stack *s = fu_stack(&spec);
    int64_t *ids = calloc(N_BURST + N_FINISH, sizeof *ids);
    int *put = calloc(N_BURST + N_FINISH, sizeof *put);
    int n_202, n_202b;
    int64_t v;

    assert_non_null(s);
    assert_non_null(ids);
    assert_non_null(put);
    *state = s;
    /* 1: each cancelled right after its submission; some are claimed in
     * between, most are still queued. */
    for (int i = 0; i < N_BURST; i++) {
        assert_int_equal(fu_submit(s, "sleep(30); 1", -1, &ids[i]), 201);
        put[i] = fu_cancel(s, ids[i]);
    }
    /* 2: jobs of 0 to 96 ms cancelled while they finish: submit all, then
     * cancel in order, so the cancels sweep across done, finishing, running
     * and queued ones. */
    for (int i = N_BURST; i < N_BURST + N_FINISH; i++)
        assert_int_equal(fu_submit(s, "sleep(marker % 97); 2", i - N_BURST,
                                   &ids[i]), 201);
    th_sleep_ms(100);
    for (int i = N_BURST; i < N_BURST + N_FINISH; i++) {
        put[i] = fu_cancel(s, ids[i]);
        th_sleep_ms(i % 7);
    }
    assert_int_equal(fu_wait_all_done(s, 60), 0);
    check_cancels(s, ids, put, N_BURST, &n_202);
    check_cancels(s, ids + N_BURST, put + N_BURST, N_FINISH, &n_202b);
    fprintf(stderr, "fault: burst %d/%d cancelled; finishing %d/%d cancelled\n",
            n_202, N_BURST, n_202b, N_FINISH);
    /* Both outcomes happened in the second phase, or it raced nothing. */
    assert_true(n_202 > 0);
    assert_true(n_202b > 0 && n_202b < N_FINISH);
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE"
                            " status IN ('running', 'cancelling', 'queued')"), 0);
    assert_int_equal(v, 0);
    {
        int64_t bad = -1;

        assert_int_equal(fu_audit_violations(s, &bad), 0);
        assert_int_equal(bad, 0);
    }
    free(ids);
    free(put);
    th_stack_passed(s);
}

static void
test_cancel_ignored_then_stopped(void **state)
{
    static const char script[] =
        "while (true) { try { while (true) { } } catch (InterruptedException e)"
        " { } }";
    fu_spec spec = { .name = "fault_cancel_ignored", .workers = 1 };
    th_stack *s = fu_stack(&spec);
    int64_t id, t0, ms, v;
    pid_t pid;

    assert_non_null(s);
    *state = s;
    assert_int_equal(fu_submit(s, script, -1, &id), 201);
    pid = fu_running_pid(s, id, 1, 10);
    assert_true(pid > 0);
    th_sleep_ms(300);
    t0 = th_mono_ms();
    assert_int_equal(fu_cancel(s, id), 202);
    assert_int_equal(fu_wait(s, "the ignored cancel to end it", 15,
                             "SELECT status = 'cancelled' FROM tasks WHERE"
                             " id = %" PRId64, id), 0);
    ms = th_mono_ms() - t0;
    fprintf(stderr, "fault: cancelled %" PRId64 " ms after the PUT\n", ms);
    assert_true(ms >= atoi(FU_GRACE_MS) - 50);
    assert_true(ms < (int64_t) ((atoi(FU_GRACE_MS) + 2000) * th_timeout_mult()));
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE id = %"
                            PRId64 " AND result IS NULL AND retries = 0", id), 0);
    assert_int_equal(v, 1);
    /* The worker is free again: the next task runs. */
    assert_int_equal(fu_submit(s, "3", -1, &id), 201);
    assert_int_equal(fu_wait(s, "a task after the stopped one", 10,
                             "SELECT status = 'success' FROM tasks WHERE"
                             " id = %" PRId64, id), 0);
    th_stack_passed(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_cancel_races, teardown),
        cmocka_unit_test_teardown(test_cancel_ignored_then_stopped, teardown),
    };

    fu_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

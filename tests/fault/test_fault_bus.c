/*
 * tests/fault/test_fault_bus.c - lost nng messages (issue 4, case 4).
 *
 * PUB/SUB is only a hint.  Workers that started before any API, workers
 * whose API was restarted, and workers that never reach the API's PUB
 * socket at all must still run every task within the poll interval, and
 * still see cancels (the heartbeat reads the status back).
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

static int
teardown(void **state)
{
    return th_stack_free(*state);
}

/* Submits n trivial tasks one after the other; each must succeed within
 * the poll interval plus slack.  Returns the slowest in ms. */
static int64_t
run_one_by_one(th_stack *s, int n)
{
    int64_t worst = 0;

    for (int i = 0; i < n; i++) {
        int64_t id, t0 = th_mono_ms(), ms;

        assert_int_equal(fu_submit(s, "7 * 6", -1, &id), 201);
        assert_int_equal(fu_wait(s, "task done", 10, "SELECT status ="
                                 " 'success' FROM tasks WHERE id = %" PRId64,
                                 id), 0);
        ms = th_mono_ms() - t0;
        if (ms > worst)
            worst = ms;
    }
    /* poll 200 ms + claim + run + our 50 ms polling of the row */
    assert_true(worst < (int64_t) (atoi(FU_POLL_MS) + 600) * th_timeout_mult());
    return worst;
}

/* A sleeping task cancelled: must end cancelled within a few heartbeats. */
static void
cancel_without_hint(th_stack *s)
{
    int64_t id, t0, ms;

    assert_int_equal(fu_submit(s, "sleep(60000)", -1, &id), 201);
    assert_true(fu_running_pid(s, id, 1, 10) > 0);
    t0 = th_mono_ms();
    assert_int_equal(fu_cancel(s, id), 202);
    assert_int_equal(fu_wait(s, "cancel seen", 10, "SELECT status ="
                             " 'cancelled' FROM tasks WHERE id = %" PRId64,
                             id), 0);
    ms = th_mono_ms() - t0;
    fprintf(stderr, "fault: cancelled %" PRId64 " ms after the PUT\n", ms);
    assert_true(ms < (int64_t) (atoi(FU_HEARTBEAT_MS) * 3 + 500) *
                         th_timeout_mult());
}

static void
test_workers_before_any_api(void **state)
{
    fu_spec spec = { .name = "fault_bus_early", .workers = 2, .no_api = 1 };
    th_stack *s = fu_stack(&spec);
    int64_t id, worst;

    assert_non_null(s);
    *state = s;
    s->pub_port = th_free_port();
    assert_true(s->pub_port > 0);
    assert_int_equal(th_worker_start(s), 0);
    th_sleep_ms(500);
    /* Queued before the API's PUB socket exists: no hint can arrive. */
    assert_int_equal(th_api_start(s), 0);
    assert_int_equal(fu_submit(s, "1", -1, &id), 201);
    worst = run_one_by_one(s, 5);
    assert_int_equal(fu_wait(s, "first task done", 5, "SELECT status ="
                             " 'success' FROM tasks WHERE id = %" PRId64,
                             id), 0);
    fprintf(stderr, "fault: slowest %" PRId64 " ms\n", worst);
    cancel_without_hint(s);
    th_stack_passed(s);
}

static void
test_api_restarted_under_workers(void **state)
{
    fu_spec spec = { .name = "fault_bus_restart", .workers = 2 };
    th_stack *s = fu_stack(&spec);

    assert_non_null(s);
    *state = s;
    (void) run_one_by_one(s, 2);
    assert_int_equal(th_proc_stop(&s->api), 0);
    th_sleep_ms(300);
    assert_int_equal(th_api_start(s), 0);
    (void) run_one_by_one(s, 5);
    /* And killed, not stopped: the socket vanishes without a goodbye. */
    th_proc_kill9(&s->api);
    assert_int_equal(th_api_start(s), 0);
    (void) run_one_by_one(s, 5);
    cancel_without_hint(s);
    th_stack_passed(s);
}

static void
test_pub_never_reached(void **state)
{
    char sub[64];
    char *worker_args[] = { "--subscribe", sub, NULL };
    fu_spec spec = { .name = "fault_bus_unreached", .workers = 2,
                     .worker_args = worker_args };
    th_stack *s;
    int port = th_free_port();
    int64_t worst;

    assert_true(port > 0);
    snprintf(sub, sizeof sub, "tcp://127.0.0.1:%d", port);
    s = fu_stack(&spec);
    assert_non_null(s);
    *state = s;
    worst = run_one_by_one(s, 10);
    fprintf(stderr, "fault: slowest %" PRId64 " ms without any hint\n", worst);
    cancel_without_hint(s);
    th_stack_passed(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_workers_before_any_api, teardown),
        cmocka_unit_test_teardown(test_api_restarted_under_workers, teardown),
        cmocka_unit_test_teardown(test_pub_never_reached, teardown),
    };

    fu_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

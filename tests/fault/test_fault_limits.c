/*
 * tests/fault/test_fault_limits.c - jobs past their limits (issue 4, case
 * 10): memory (the job arena's cap, --job-mem-limit), wall clock
 * (--job-timeout-ms) and result size (--max-result-bytes).  Each fails its
 * task with a result that names the limit; the worker processes survive
 * (same pids before and after) and the next task runs.
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

static void
run_to_failure(th_stack *s, const char *script, const char *expect1,
               const char *expect2)
{
    char res[1024];
    int64_t id;

    assert_int_equal(fu_submit(s, script, -1, &id), 201);
    assert_int_equal(fu_wait(s, "task failed", 20, "SELECT status = 'failed'"
                             " FROM tasks WHERE id = %" PRId64, id), 0);
    assert_int_equal(fu_str(s, res, sizeof res, "SELECT result FROM tasks"
                            " WHERE id = %" PRId64, id), 0);
    fprintf(stderr, "fault: %s -> %s\n", script, res);
    if (strstr(res, expect1) == NULL || strstr(res, expect2) == NULL)
        fail_msg("result '%s' does not name '%s' and '%s'", res, expect1,
                 expect2);
}

static void
test_limits_fail_the_task_not_the_worker(void **state)
{
    static char *const worker_args[] = {
        "--job-mem-limit", "8000000", "--job-timeout-ms", "1000",
        "--max-result-bytes", "1000", NULL,
    };
    fu_spec spec = { .name = "fault_limits", .workers = 1,
                     .worker_args = worker_args };
    th_stack *s = fu_stack(&spec);
    pid_t before[4], after[4];
    int64_t id;

    assert_non_null(s);
    *state = s;
    assert_int_equal(fu_submit(s, "1", -1, &id), 201);
    assert_int_equal(fu_wait(s, "warm-up task", 10, "SELECT status = 'success'"
                             " FROM tasks WHERE id = %" PRId64, id), 0);
    assert_int_equal(fu_worker_pids(s, before, 4), 1);

    run_to_failure(s, "def s = 'x'; while (true) { s = s + s }",
                   "LimitExceedException", "memory");
    run_to_failure(s, "while (true) { }", "TimeoutException", "1000 ms");
    run_to_failure(s, "def s = 'x'; for (i in 1..11) { s = s + s }; s",
                   "LimitExceedException", "1000 bytes");

    assert_int_equal(fu_worker_pids(s, after, 4), 1);
    assert_int_equal(after[0], before[0]);
    assert_int_equal(fu_submit(s, "2", -1, &id), 201);
    assert_int_equal(fu_wait(s, "task after the limits", 10, "SELECT status ="
                             " 'success' FROM tasks WHERE id = %" PRId64, id), 0);
    th_stack_passed(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_limits_fail_the_task_not_the_worker,
                                  teardown),
    };

    fu_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

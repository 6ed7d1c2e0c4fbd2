/*
 * tests/fault/test_fault_worker.c - worker processes and supervisors that
 * die or freeze mid-job, and rows a dead fleet left behind (issue 4, cases
 * 1, 2, 3 and 11).
 *
 * Every test SIGKILLs or SIGSTOPs real processes and then reads the task
 * rows: retries, attempts, the final status and result, and (through the
 * audit trigger of fault_util) that no completed row ever changed again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tests/fault/fault_util.h"

static int
teardown(void **state)
{
    return th_stack_free(*state);
}

static void
assert_audit_clean(th_stack *s)
{
    int64_t bad = -1;

    assert_int_equal(fu_audit_violations(s, &bad), 0);
    assert_int_equal(bad, 0);
}

/* Case 1: a worker process SIGKILLed mid-job is replaced; the task comes
 * back after its lease with task_retries + 1 and then succeeds. */
static void
test_killed_worker_task_retried_to_success(void **state)
{
    fu_spec spec = { .name = "fault_kill_worker", .workers = 2 };
    th_stack *s = fu_stack(&spec);
    pid_t victim, before[8], after[8];
    int64_t id, v;
    int n;
    char res[256];

    assert_non_null(s);
    *state = s;
    assert_int_equal(fu_submit(s, "sleep(1500); 'done'", -1, &id), 201);
    victim = fu_running_pid(s, id, 1, 10);
    assert_true(victim > 0);
    n = fu_worker_pids(s, before, 8);
    assert_int_equal(n, 2);
    assert_int_equal(th_pid_signal(victim, SIGKILL), 0);

    assert_int_equal(fu_wait(s, "task re-run to success", 20,
                             "SELECT status = 'success' FROM tasks WHERE"
                             " id = %" PRId64, id), 0);
    assert_int_equal(fu_i64(s, &v, "SELECT retries FROM tasks WHERE id = %"
                            PRId64, id), 0);
    assert_int_equal(v, 1);
    assert_int_equal(fu_i64(s, &v, "SELECT attempt FROM tasks WHERE id = %"
                            PRId64, id), 0);
    assert_int_equal(v, 2);
    assert_int_equal(fu_str(s, res, sizeof res, "SELECT result FROM tasks"
                            " WHERE id = %" PRId64, id), 0);
    assert_string_equal(res, "\"done\"");
    /* The supervisor replaced the dead process: two workers again, and the
     * victim is not one of them. */
    th_sleep_ms(300);
    n = fu_worker_pids(s, after, 8);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++)
        assert_int_not_equal(after[i], victim);
    assert_false(th_pid_alive(victim));
    assert_true(th_proc_alive(&s->worker));
    assert_audit_clean(s);
    th_stack_passed(s);
}

/* Case 1: killed on every attempt, the task ends failed after max_retries
 * re-queues, with a result naming the reason. */
static void
test_killed_every_attempt_fails_after_max_retries(void **state)
{
    static char *const api_args[] = { "--max-retries", "2", NULL };
    fu_spec spec = { .name = "fault_max_retries", .workers = 2,
                     .api_args = api_args };
    th_stack *s = fu_stack(&spec);
    int64_t id, v;
    char res[512];

    assert_non_null(s);
    *state = s;
    assert_int_equal(fu_submit(s, "sleep(60000)", -1, &id), 201);
    for (int attempt = 1; attempt <= 3; attempt++) {
        pid_t victim = fu_running_pid(s, id, attempt, 20);

        assert_true(victim > 0);
        assert_int_equal(th_pid_signal(victim, SIGKILL), 0);
    }
    assert_int_equal(fu_wait(s, "task failed after its retries", 20,
                             "SELECT status = 'failed' FROM tasks WHERE"
                             " id = %" PRId64, id), 0);
    assert_int_equal(fu_i64(s, &v, "SELECT retries FROM tasks WHERE id = %"
                            PRId64, id), 0);
    assert_int_equal(v, 2);   /* two re-runs, as the result says */
    assert_int_equal(fu_str(s, res, sizeof res, "SELECT result FROM tasks"
                            " WHERE id = %" PRId64, id), 0);
    assert_non_null(strstr(res, "WorkerLost: "));
    assert_non_null(strstr(res, "attempt 3"));
    assert_non_null(strstr(res, "retried 2 times"));
    /* Nothing else is left with a lease. */
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE"
                            " lease_until IS NOT NULL"), 0);
    assert_int_equal(v, 0);
    assert_audit_clean(s);
    th_stack_passed(s);
}

/* Case 2: SIGKILL on the supervisor alone: its worker processes go too
 * (no orphan keeps a lease alive), and the next daemon takes the tasks
 * over after the lease. */
static void
test_killed_daemon_leaves_no_orphans(void **state)
{
    fu_spec spec = { .name = "fault_kill_daemon", .workers = 3 };
    th_stack *s = fu_stack(&spec);
    pid_t kids[8], first, second;
    int64_t a, b, v;
    int n;

    assert_non_null(s);
    *state = s;
    assert_int_equal(fu_submit(s, "sleep(2000); 1", -1, &a), 201);
    assert_int_equal(fu_submit(s, "sleep(2000); 2", -1, &b), 201);
    first = fu_running_pid(s, a, 1, 10);
    second = fu_running_pid(s, b, 1, 10);
    assert_true(first > 0 && second > 0);
    n = fu_worker_pids(s, kids, 8);
    assert_int_equal(n, 3);

    th_proc_kill9_only(&s->worker);
    for (int i = 0; i < n; i++) {
        int64_t until = th_mono_ms() + (int64_t) (3000 * th_timeout_mult());

        while (th_pid_alive(kids[i]) && th_mono_ms() < until)
            th_sleep_ms(20);
        if (th_pid_alive(kids[i]))
            fail_msg("worker process %d outlived its supervisor", (int) kids[i]);
    }
    /* Both still say running: only the lease can tell they are gone. */
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE"
                            " status = 'running'"), 0);
    assert_int_equal(v, 2);

    assert_int_equal(th_worker_start(s), 0);
    assert_int_equal(fu_wait(s, "both tasks done by the new daemon", 20,
                             "SELECT count(*) = 2 FROM tasks WHERE"
                             " status = 'success' AND retries = 1"
                             " AND attempt = 2"), 0);
    /* Run by the new daemon's processes. */
    n = fu_worker_pids(s, kids, 8);
    assert_int_equal(n, 3);
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE"
                            " split_part(server, ':', -1)::int IN (%d, %d, %d)",
                            (int) kids[0], (int) kids[1], (int) kids[2]), 0);
    assert_int_equal(v, 2);
    assert_audit_clean(s);
    th_stack_passed(s);
}

/* Case 3: a worker frozen past its lease (SIGSTOP) while another runs the
 * task again; after SIGCONT the zombie's writes match no row. */
static void
test_zombie_worker_changes_nothing(void **state)
{
    static const char script[] =
        "for (i in 1..20) { gremlinJob.updateProgress(i); sleep(100) };"
        " graph.addVertex(T.label, 'zombie_mark', 'm', marker); 'ok'";
    fu_spec spec = { .name = "fault_zombie", .workers = 2 };
    th_stack *s = fu_stack(&spec);
    const char *const lost[] = { "evt=task.lost", NULL };
    const char *const fenced[] = { "evt=task.finish_fenced", NULL };
    const char *const done[] = { "evt=task.finished", "status=success", NULL };
    pid_t zombie, heir;
    int64_t id, v, resumed_seq;
    char res[64];

    assert_non_null(s);
    *state = s;
    assert_int_equal(fu_submit(s, script, 7, &id), 201);
    zombie = fu_running_pid(s, id, 1, 10);
    assert_true(zombie > 0);
    assert_int_equal(fu_wait(s, "some progress", 10,
                             "SELECT progress >= 3 FROM tasks WHERE id = %"
                             PRId64, id), 0);
    assert_int_equal(th_pid_signal(zombie, SIGSTOP), 0);

    /* The lease runs out; the other process takes attempt 2. */
    heir = fu_running_pid(s, id, 2, 15);
    assert_true(heir > 0);
    assert_int_not_equal(heir, zombie);
    assert_int_equal(fu_i64(s, &resumed_seq, "SELECT coalesce(max(seq), 0)"
                            " FROM fault_audit"), 0);
    assert_int_equal(th_pid_signal(zombie, SIGCONT), 0);

    assert_int_equal(fu_wait(s, "attempt 2 to succeed", 20,
                             "SELECT status = 'success' FROM tasks WHERE"
                             " id = %" PRId64, id), 0);
    /* Give the zombie time to try every write it has left. */
    th_sleep_ms(1000);
    /* After SIGCONT no change of the row came from attempt 1. */
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM fault_audit WHERE"
                            " seq > %" PRId64 " AND new_attempt <> 2",
                            resumed_seq), 0);
    assert_int_equal(v, 0);
    assert_int_equal(fu_i64(s, &v, "SELECT attempt * 1000 + retries * 100 +"
                            " progress FROM tasks WHERE id = %" PRId64, id), 0);
    assert_int_equal(v, 2120);
    assert_int_equal(fu_str(s, res, sizeof res, "SELECT result FROM tasks"
                            " WHERE id = %" PRId64, id), 0);
    assert_string_equal(res, "\"ok\"");
    /* One success, one vertex: the zombie's uncommitted write rolled back. */
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM vertices WHERE"
                            " label = 'zombie_mark'"), 0);
    assert_int_equal(v, 1);
    assert_int_equal(fu_log_count(s, done), 1);
    assert_true(fu_log_count(s, lost) + fu_log_count(s, fenced) >= 1);
    assert_true(th_pid_alive(zombie));
    assert_audit_clean(s);
    th_stack_passed(s);
}

/* Case 11: rows a dead fleet left (running with an expired lease, or with
 * none; cancelling; an unknown type; corrupt input) stop nothing from
 * starting and each ends re-queued-and-run or failed with a reason. */
static void
test_stale_rows_at_start(void **state)
{
    fu_spec spec = { .name = "fault_stale_rows", .workers = 2, .no_api = 1 };
    th_stack *s = fu_stack(&spec);
    static const char input[] =
        "{\"gremlin\":\"40 + 2\",\"bindings\":{},\"language\":"
        "\"gremlin-groovy\",\"aliases\":{\"hugegraph\":\"graph\"}}";
    char res[512];
    int64_t v, fresh;

    assert_non_null(s);
    *state = s;
    /* ids far above the sequence, so new submissions do not collide */
    assert_int_equal(fu_exec(s,
        "INSERT INTO tasks (graph, id, type, name, callable, status, input,"
        " attempt, retries, server, lease_until) VALUES"
        " ('hugegraph', 1001, 'gremlin', 'stale', 'c', 'running', '%s', 1, 0,"
        "  'deadhost:1', now() - interval '1 hour'),"
        " ('hugegraph', 1002, 'gremlin', 'no lease', 'c', 'running', '%s', 1,"
        "  0, 'deadhost:2', NULL),"
        " ('hugegraph', 1003, 'gremlin', 'out of retries', 'c', 'running',"
        "  '%s', 4, 3, 'deadhost:3', now() - interval '1 minute'),"
        " ('hugegraph', 1004, 'gremlin', 'was cancelling', 'c', 'cancelling',"
        "  '%s', 1, 0, 'deadhost:4', now() - interval '1 minute'),"
        " ('hugegraph', 1005, 'pagerank', 'unknown type', 'c', 'queued', '{}',"
        "  0, 0, NULL, NULL),"
        " ('hugegraph', 1006, 'gremlin', 'corrupt', 'c', 'queued', '{\"gre',"
        "  0, 0, NULL, NULL),"
        " ('hugegraph', 1007, 'gremlin', 'no input', 'c', 'queued', NULL,"
        "  0, 0, NULL, NULL),"
        " ('hugegraph', 1008, 'gremlin', 'no script', 'c', 'queued',"
        "  '{\"gremlin\": 5}', 0, 0, NULL, NULL)",
        input, input, input, input), 0);
    assert_int_equal(th_api_start(s), 0);
    assert_int_equal(th_worker_start(s), 0);
    assert_int_equal(fu_submit(s, "1 + 1", -1, &fresh), 201);

    assert_int_equal(fu_wait_all_done(s, 30), 0);
    assert_int_equal(fu_wait(s, "fresh task done", 5,
                             "SELECT status = 'success' FROM tasks WHERE"
                             " id = %" PRId64, fresh), 0);
    assert_int_equal(fu_str(s, res, sizeof res, "SELECT string_agg(id || '='"
                            " || status || '/' || retries, ' ' ORDER BY id)"
                            " FROM tasks WHERE id > 1000"), 0);
    assert_string_equal(res, "1001=success/1 1002=success/1 1003=failed/3"
                             " 1004=cancelled/0 1005=failed/0 1006=failed/0"
                             " 1007=failed/0 1008=failed/0");
    assert_int_equal(fu_str(s, res, sizeof res, "SELECT result FROM tasks"
                            " WHERE id = 1001"), 0);
    assert_string_equal(res, "42");
    assert_int_equal(fu_str(s, res, sizeof res, "SELECT result FROM tasks"
                            " WHERE id = 1003"), 0);
    assert_non_null(strstr(res, "WorkerLost: "));
    assert_int_equal(fu_str(s, res, sizeof res, "SELECT result FROM tasks"
                            " WHERE id = 1005"), 0);
    assert_string_equal(res, "IllegalArgumentException: unknown task type "
                             "'pagerank'");
    for (int id = 1006; id <= 1008; id++) {
        assert_int_equal(fu_str(s, res, sizeof res, "SELECT result FROM tasks"
                                " WHERE id = %d", id), 0);
        assert_non_null(strstr(res, "IllegalArgumentException: the task input"));
    }
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE"
                            " lease_until IS NOT NULL"), 0);
    assert_int_equal(v, 0);
    /* Nobody crashed on the way. */
    assert_true(th_proc_alive(&s->worker));
    th_stack_passed(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_killed_worker_task_retried_to_success,
                                  teardown),
        cmocka_unit_test_teardown(test_killed_every_attempt_fails_after_max_retries,
                                  teardown),
        cmocka_unit_test_teardown(test_killed_daemon_leaves_no_orphans, teardown),
        cmocka_unit_test_teardown(test_zombie_worker_changes_nothing, teardown),
        cmocka_unit_test_teardown(test_stale_rows_at_start, teardown),
    };

    fu_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

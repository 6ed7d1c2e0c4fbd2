/*
 * tests/fault/test_fault_pg.c - PostgreSQL restarted and crashed under load
 * (issue 4, case 5).
 *
 * The stack runs on a private cluster (th_pg) so the test may take it
 * away.  A submitter thread keeps posting jobs throughout; the test stops
 * the server, checks the API's 503 in HugeGraph's error shape while it is
 * down, starts it again, and later crashes it outright (SIGKILL, recovery
 * on start).  Afterwards every task that got a 201 has its row, nothing is
 * left queued, running or cancelling, and the daemons never died.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fault/fault_util.h"

#define MAX_SUBMITS 4000

typedef struct fixture {
    th_pg    *pg;
    th_stack *s;
} fixture;

typedef struct load {
    int              port;
    volatile int     stop;
    int              n;
    int64_t          ids[MAX_SUBMITS]; /* 201s */
    int              n_ok;
    int              n_503;
    int              n_other;
    int              n_transport;
} load;

static void *
submitter(void *arg)
{
    load *l = arg;

    while (!l->stop && l->n < MAX_SUBMITS) {
        int64_t id = 0;
        int st = fu_submit_port(l->port, "sleep(50); marker", l->n, &id);

        l->n++;
        if (st == 201)
            l->ids[l->n_ok++] = id;
        else if (st == 503)
            l->n_503++;
        else if (st < 0)
            l->n_transport++;
        else
            l->n_other++;
        th_sleep_ms(st == 201 ? 10 : 20);
    }
    return NULL;
}

static int
teardown(void **state)
{
    fixture *f = *state;
    int rc = 0;

    if (f == NULL)
        return 0;
    rc = th_stack_free(f->s);
    th_pg_free(f->pg);
    free(f);
    return rc;
}

/* GET of a task while the database is down: 503, BackendException. */
static void
assert_503_shape(th_stack *s)
{
    th_resp r;
    const char *exc;

    assert_int_equal(th_http(s, "GET", "/graphs/hugegraph/tasks/1", NULL, NULL,
                             &r), 0);
    assert_int_equal(r.status, 503);
    assert_non_null(r.json);
    exc = json_string_value(json_object_get(r.json, "exception"));
    assert_non_null(exc);
    assert_string_equal(exc, "class org.apache.hugegraph.backend.BackendException");
    assert_true(json_is_string(json_object_get(r.json, "message")));
    assert_true(json_is_string(json_object_get(r.json, "cause")));
    th_resp_fini(&r);
}

static int
api_ok(void *arg)
{
    th_stack *s = arg;
    th_resp r;
    int ok;

    if (th_http(s, "GET", "/graphs/hugegraph/tasks?limit=1", NULL, NULL, &r) != 0)
        return -1;
    ok = r.status == 200;
    th_resp_fini(&r);
    return ok;
}

static void
test_postgres_restart_under_load(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    fu_spec spec = { .name = "fault_pg_restart", .workers = 4 };
    load *l = calloc(1, sizeof *l);
    pthread_t th;
    int64_t v;
    char ids[64];

    assert_non_null(f);
    assert_non_null(l);
    *state = f;
    f->pg = th_pg_new();
    assert_non_null(f->pg);
    spec.pg_url = f->pg->url;
    f->s = fu_stack(&spec);
    assert_non_null(f->s);
    l->port = f->s->http_port;
    assert_int_equal(pthread_create(&th, NULL, submitter, l), 0);
    th_sleep_ms(1500);

    /* 1: a clean (fast) shutdown, down for a while. */
    assert_int_equal(th_pg_stop(f->pg), 0);
    th_sleep_ms(300);
    assert_503_shape(f->s);
    th_sleep_ms(1200);
    assert_int_equal(th_pg_start(f->pg), 0);
    assert_int_equal(th_wait_until("the api to answer 200 again", 15, 50,
                                   api_ok, f->s), 0);
    th_sleep_ms(1500);

    /* 2: a crash: the postmaster and its backends SIGKILLed; recovery. */
    th_pg_kill9(f->pg);
    th_sleep_ms(300);
    assert_503_shape(f->s);
    assert_int_equal(th_pg_start(f->pg), 0);
    assert_int_equal(th_wait_until("the api to answer 200 again", 15, 50,
                                   api_ok, f->s), 0);
    th_sleep_ms(1500);
    l->stop = 1;
    assert_int_equal(pthread_join(th, NULL), 0);
    fprintf(stderr, "fault: %d submissions: %d x 201, %d x 503, %d other,"
            " %d transport errors\n", l->n, l->n_ok, l->n_503, l->n_other,
            l->n_transport);
    assert_true(l->n_ok > 20);
    assert_true(l->n_503 > 0);
    assert_int_equal(l->n_other, 0);

    /* Workers reconnected and worked everything off. */
    assert_int_equal(fu_wait_all_done(f->s, 60), 0);
    for (int i = 0; i < l->n_ok; i++) {
        assert_int_equal(fu_str(f->s, ids, sizeof ids, "SELECT status FROM"
                                " tasks WHERE id = %" PRId64, l->ids[i]), 0);
        if (strcmp(ids, "success") != 0)
            fail_msg("task %" PRId64 " (a 201) ended %s", l->ids[i], ids);
    }
    assert_int_equal(fu_i64(f->s, &v, "SELECT count(*) FROM tasks WHERE"
                            " lease_until IS NOT NULL"), 0);
    assert_int_equal(v, 0);
    assert_true(th_proc_alive(&f->s->api));
    assert_true(th_proc_alive(&f->s->worker));
    {
        int64_t bad = -1;

        assert_int_equal(fu_audit_violations(f->s, &bad), 0);
        assert_int_equal(bad, 0);
    }
    free(l);
    th_stack_passed(f->s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_postgres_restart_under_load, teardown),
    };

    fu_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

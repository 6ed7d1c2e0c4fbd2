/*
 * tests/fault/test_fault_stop.c - the API killed mid-request, and both
 * daemons stopped gracefully (issue 4, cases 6 and 8).
 *
 * Case 6: eight client threads submit as fast as they can while the test
 * SIGKILLs the API.  A task either exists with its 201 sent or not at all:
 * every 201 has its row, and every row is whole (type, name, callable,
 * input with the submitted marker) and then runs.
 * Case 8: SIGTERM on the worker daemon lets short jobs finish inside the
 * drain period and hands long ones back to queued without a retry;
 * SIGTERM on the API still answers a request that was in flight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/fault/fault_util.h"

#define N_CLIENTS 8
#define MAX_PER   2000

static int
teardown(void **state)
{
    return th_stack_free(*state);
}

typedef struct client {
    int          port;
    int          base;      /* markers base + 0, 1, ... */
    int          sent;
    int          n_ok;
    int64_t      ids[MAX_PER];
    volatile int *stop;
} client;

static void *
client_run(void *arg)
{
    client *c = arg;

    while (!*c->stop && c->sent < MAX_PER) {
        int64_t id;
        int st = fu_submit_port(c->port, "marker", c->base + c->sent, &id);

        c->sent++;
        if (st == 201)
            c->ids[c->n_ok++] = id;
        else if (st < 0)
            break; /* the api is gone */
    }
    return NULL;
}

static void
test_api_killed_mid_request(void **state)
{
    fu_spec spec = { .name = "fault_api_kill", .workers = 2 };
    th_stack *s = fu_stack(&spec);
    static client cl[N_CLIENTS];
    pthread_t th[N_CLIENTS];
    volatile int stop = 0;
    int64_t v, rows;
    int ok = 0, sent = 0;

    assert_non_null(s);
    *state = s;
    for (int i = 0; i < N_CLIENTS; i++) {
        memset(&cl[i], 0, sizeof cl[i]);
        cl[i].port = s->http_port;
        cl[i].base = i * 100000;
        cl[i].stop = &stop;
        assert_int_equal(pthread_create(&th[i], NULL, client_run, &cl[i]), 0);
    }
    th_sleep_ms(800);
    th_proc_kill9(&s->api);
    th_sleep_ms(200);
    stop = 1;
    for (int i = 0; i < N_CLIENTS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        ok += cl[i].n_ok;
        sent += cl[i].sent;
    }
    fprintf(stderr, "fault: %d submissions, %d answered 201\n", sent, ok);
    assert_true(ok > 50);

    /* Every 201 has its row. */
    for (int i = 0; i < N_CLIENTS; i++)
        for (int j = 0; j < cl[i].n_ok; j++) {
            assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE"
                                    " id = %" PRId64, cl[i].ids[j]), 0);
            if (v != 1)
                fail_msg("task %" PRId64 " got a 201 but has no row",
                         cl[i].ids[j]);
        }
    /* Every row is whole, and one per marker. */
    assert_int_equal(fu_i64(s, &rows, "SELECT count(*) FROM tasks"), 0);
    assert_true(rows >= ok && rows <= sent);
    assert_int_equal(fu_i64(s, &v,
        "SELECT count(*) FROM tasks WHERE type = 'gremlin' AND name = 'marker'"
        " AND callable = 'org.apache.hugegraph.job.GremlinJob'"
        " AND input::json->>'gremlin' = 'marker'"
        " AND (input::json->'bindings'->>'marker') IS NOT NULL"), 0);
    assert_int_equal(v, rows);
    assert_int_equal(fu_i64(s, &v, "SELECT count(DISTINCT input::json->"
                            "'bindings'->>'marker') FROM tasks"), 0);
    assert_int_equal(v, rows);
    /* And they all run once an API is back (the workers never stopped). */
    assert_int_equal(th_api_start(s), 0);
    assert_int_equal(fu_wait(s, "every row run", 60, "SELECT count(*) = 0 FROM"
                             " tasks WHERE status <> 'success'"), 0);
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE result"
                            " <> (input::json->'bindings'->>'marker')"), 0);
    assert_int_equal(v, 0);
    th_stack_passed(s);
}

static void
test_worker_sigterm_drains_then_hands_back(void **state)
{
    static char *const worker_args[] = { "--drain-ms", "2500", NULL };
    fu_spec spec = { .name = "fault_worker_drain", .workers = 4,
                     .worker_args = worker_args };
    th_stack *s = fu_stack(&spec);
    int64_t shortt[2], longt[2], queued[3], v, t0, ms;
    char buf[64];

    assert_non_null(s);
    *state = s;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(fu_submit(s, "sleep(1200); 'short'", -1, &shortt[i]),
                         201);
        assert_int_equal(fu_submit(s, "sleep(60000); 'long'", -1, &longt[i]),
                         201);
    }
    for (int i = 0; i < 2; i++) {
        assert_true(fu_running_pid(s, shortt[i], 1, 10) > 0);
        assert_true(fu_running_pid(s, longt[i], 1, 10) > 0);
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(fu_submit(s, "'later'", -1, &queued[i]), 201);
    t0 = th_mono_ms();
    assert_int_equal(th_proc_stop(&s->worker), 0);
    ms = th_mono_ms() - t0;
    fprintf(stderr, "fault: worker daemon stopped in %" PRId64 " ms: %s\n", ms,
            th_proc_status_str(&s->worker, buf, sizeof buf));
    assert_true(ms >= 2400);
    assert_true(ms < (int64_t) (2500 + 2000) * th_timeout_mult());

    for (int i = 0; i < 2; i++) {
        assert_int_equal(fu_str(s, buf, sizeof buf, "SELECT status || '/' ||"
                                " retries || '/' || attempt FROM tasks WHERE"
                                " id = %" PRId64, shortt[i]), 0);
        assert_string_equal(buf, "success/0/1");
        assert_int_equal(fu_str(s, buf, sizeof buf, "SELECT status || '/' ||"
                                " retries || '/' || attempt || '/' ||"
                                " (server IS NULL) || '/' ||"
                                " (lease_until IS NULL) FROM tasks WHERE"
                                " id = %" PRId64, longt[i]), 0);
        assert_string_equal(buf, "queued/0/1/true/true");
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fu_str(s, buf, sizeof buf, "SELECT status || '/' ||"
                                " attempt FROM tasks WHERE id = %" PRId64,
                                queued[i]), 0);
        assert_string_equal(buf, "queued/0");
    }
    /* The handed-back tasks run on the next daemon, still without a retry
     * counted (cancel the long ones there so the test ends). */
    assert_int_equal(th_worker_start(s), 0);
    assert_int_equal(fu_wait(s, "the queued ones run", 10, "SELECT count(*) = 3"
                             " FROM tasks WHERE result = '\"later\"'"), 0);
    for (int i = 0; i < 2; i++) {
        assert_true(fu_running_pid(s, longt[i], 2, 10) > 0);
        assert_int_equal(fu_cancel(s, longt[i]), 202);
    }
    assert_int_equal(fu_wait_all_done(s, 10), 0);
    assert_int_equal(fu_i64(s, &v, "SELECT count(*) FROM tasks WHERE"
                            " retries <> 0"), 0);
    assert_int_equal(v, 0);
    th_stack_passed(s);
}

/* Sends the headers and half the body of a submission; returns the fd. */
static int
start_slow_post(int port, const char *body, size_t half)
{
    struct sockaddr_in sa;
    char head[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int n;

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t) port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
    n = snprintf(head, sizeof head,
                 "POST /graphs/hugegraph/jobs/gremlin HTTP/1.1\r\n"
                 "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 "Connection: close\r\nContent-Length: %zu\r\n\r\n",
                 strlen(body));
    assert_int_equal(write(fd, head, (size_t) n), n);
    assert_int_equal(write(fd, body, half), (ssize_t) half);
    return fd;
}

static void
test_api_sigterm_finishes_in_flight(void **state)
{
    static const char body[] = "{\"gremlin\":\"'in flight'\"}";
    fu_spec spec = { .name = "fault_api_drain", .workers = 1 };
    th_stack *s = fu_stack(&spec);
    size_t half = sizeof body / 2, len = strlen(body);
    char reply[4096];
    size_t got = 0;
    int fd;

    assert_non_null(s);
    *state = s;
    fd = start_slow_post(s->http_port, body, half);
    th_sleep_ms(200);
    assert_int_equal(th_pid_signal(s->api.pid, SIGTERM), 0);
    th_sleep_ms(300);
    assert_true(th_proc_alive(&s->api));
    assert_int_equal(write(fd, body + half, len - half), (ssize_t) (len - half));
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t n;

        assert_true(poll(&p, 1, (int) (10000 * th_timeout_mult())) == 1);
        n = read(fd, reply + got, sizeof reply - 1 - got);
        assert_true(n >= 0);
        if (n == 0)
            break;
        got += (size_t) n;
    }
    reply[got] = '\0';
    close(fd);
    if (strncmp(reply, "HTTP/1.1 201", 12) != 0)
        fail_msg("in-flight request answered: %s", reply);
    assert_non_null(strstr(reply, "{\"task_id\":1}"));
    assert_int_equal(th_proc_wait(&s->api, 10), 0);
    assert_true(WIFEXITED(s->api.status) && WEXITSTATUS(s->api.status) == 0);
    th_stack_passed(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_api_killed_mid_request, teardown),
        cmocka_unit_test_teardown(test_worker_sigterm_drains_then_hands_back,
                                  teardown),
        cmocka_unit_test_teardown(test_api_sigterm_finishes_in_flight, teardown),
    };

    fu_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * tests/integration/test_ops_worker.c - the worker daemon's operations
 * side (issue 7): /metrics and /health of the supervisor, the task_events
 * history, and retention.
 *
 * Real PostgreSQL, real hugetask-api and hugetask-worker (tests/harness),
 * real sockets.  Every test makes its own stack, so the counters it reads
 * start at zero and exact values can be asserted.  Worker processes are
 * SIGKILLed for real to move the processes-alive gauge and to make a task
 * retry; old rows for retention are made by setting updated_at back with
 * SQL.  Waits are bounded by generous deadlines (scaled by
 * HT_TEST_TIMEOUT_MULT); nothing asserts speed.
 *
 * Needs HT_TEST_PGURL (tests/run.sh sets it); without it every test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/harness/harness.h"

#define SERVER "ops-test"
#define LBL    "{server=\"" SERVER "\"}"

/* ---- the stack ----------------------------------------------------- */

typedef struct ops {
    th_stack *s;
    int       mport;          /* the supervisor's metrics port */
    char      listen[64];
    char     *wargs[40];
} ops;

static char *const api_args[] = { "--graphs", "hugegraph,other", NULL };

/* A started stack whose worker serves "hugegraph" with short leases and
 * metrics on a free port, plus extra (NULL-terminated) worker arguments. */
static ops *
ops_start(const char *name, int workers, char *const *extra)
{
    static char *const fixed[] = {
        "--graphs", "hugegraph", "--server-id", SERVER, "--lease-ms", "1500",
        "--heartbeat-ms", "200", "--poll-ms", "200", "--cancel-grace-ms", "1000",
        NULL,
    };
    ops    *o = calloc(1, sizeof(*o));
    th_opts opt;
    int     n = 0;

    if (o == NULL)
        return NULL;
    o->mport = th_free_port();
    if (o->mport <= 0) {
        free(o);
        return NULL;
    }
    snprintf(o->listen, sizeof o->listen, "127.0.0.1:%d", o->mport);
    for (int i = 0; fixed[i] != NULL; i++)
        o->wargs[n++] = fixed[i];
    o->wargs[n++] = "--metrics-listen";
    o->wargs[n++] = o->listen;
    for (int i = 0; extra != NULL && extra[i] != NULL && n < 38; i++)
        o->wargs[n++] = extra[i];
    o->wargs[n] = NULL;
    memset(&opt, 0, sizeof opt);
    opt.api_bin = HT_API_BIN;
    opt.worker_bin = HT_WORKER_BIN;
    opt.workers = workers;
    opt.api_args = api_args;
    opt.worker_args = o->wargs;
    o->s = th_stack_new(name, &opt);
    if (o->s == NULL || th_stack_start(o->s) != 0) {
        th_stack_free(o->s);
        free(o);
        return NULL;
    }
    return o;
}

static int
teardown(void **state)
{
    ops *o = *state;
    int  rc;

    if (o == NULL)
        return 0;
    rc = th_stack_free(o->s);
    free(o);
    return rc;
}

/* ---- SQL helpers --------------------------------------------------- */

static int
q_i64(th_stack *s, int64_t *out, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int
q_i64(th_stack *s, int64_t *out, const char *fmt, ...)
{
    char    sql[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return th_sql_i64(s, sql, out);
}

static int
q_str(th_stack *s, char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
q_str(th_stack *s, char *out, size_t size, const char *fmt, ...)
{
    char    sql[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return th_sql_scalar(s, sql, out, size);
}

static int
q_exec(th_stack *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int
q_exec(th_stack *s, const char *fmt, ...)
{
    char    sql[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return th_sql_exec(s, sql);
}

typedef struct sql_wait {
    th_stack *s;
    char      sql[2048];
} sql_wait;

static int
sql_true(void *arg)
{
    sql_wait *w = arg;
    char      v[16];

    if (th_sql_scalar(w->s, w->sql, v, sizeof v) != 0)
        return -1;
    return strcmp(v, "t") == 0;
}

/* Waits until the boolean query is true. */
static int
wait_sql(th_stack *s, const char *what, double secs, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
wait_sql(th_stack *s, const char *what, double secs, const char *fmt, ...)
{
    sql_wait w;
    va_list  ap;

    w.s = s;
    va_start(ap, fmt);
    vsnprintf(w.sql, sizeof w.sql, fmt, ap);
    va_end(ap);
    return th_wait_until(what, secs, 50, sql_true, &w);
}

/* A task's transitions in order, "from>to" joined by commas ("-" for the
 * creation). */
static void
events_of(th_stack *s, const char *graph, int64_t id, char *out, size_t size)
{
    assert_int_equal(q_str(s, out, size,
                           "SELECT coalesce(string_agg(coalesce(from_status, '-') || '>'"
                           " || to_status, ',' ORDER BY at), '') FROM task_events"
                           " WHERE graph = '%s' AND task_id = %" PRId64, graph, id), 0);
}

/* ---- HTTP and exposition helpers ----------------------------------- */

static int64_t
submit(th_stack *s, const char *graph, const char *script)
{
    int64_t id = 0;

    assert_int_equal(th_submit_gremlin(s, graph, script, &id), 0);
    return id;
}

static void
cancel(th_stack *s, const char *graph, int64_t id)
{
    char    path[128];
    th_resp r;

    snprintf(path, sizeof path, "/graphs/%s/tasks/%" PRId64 "?action=cancel", graph, id);
    assert_int_equal(th_http(s, "PUT", path, NULL, NULL, &r), 0);
    assert_int_equal(r.status, 202);
    th_resp_fini(&r);
}

/* Checks the text format: every sample line is NAME[{LABELS}] VALUE with a
 * number, and its family was declared with # TYPE before it. */
static void
check_exposition(const char *body)
{
    char        types[64][96];
    int         ntypes = 0, samples = 0;
    const char *line = body;

    while (*line != '\0') {
        const char *eol = strchr(line, '\n');
        char        l[1024], name[96];
        size_t      len;

        assert_non_null(eol); /* every line ends with \n */
        len = (size_t) (eol - line);
        assert_true(len < sizeof l);
        memcpy(l, line, len);
        l[len] = '\0';
        line = eol + 1;
        if (strncmp(l, "# TYPE ", 7) == 0) {
            char type[32];
            assert_int_equal(sscanf(l + 7, "%95s %31s", types[ntypes], type), 2);
            assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
                        strcmp(type, "histogram") == 0);
            ntypes++;
            assert_true(ntypes < 64);
            continue;
        }
        if (strncmp(l, "# HELP ", 7) == 0)
            continue;
        assert_true(l[0] != '#' && l[0] != '\0');
        {
            size_t n = strcspn(l, "{ ");
            char  *sp, *end;
            double v;
            int    known = 0;

            assert_true(n > 0 && n < sizeof name);
            memcpy(name, l, n);
            name[n] = '\0';
            if (l[n] == '{')
                assert_non_null(strchr(l + n, '}'));
            sp = strrchr(l, ' ');
            assert_non_null(sp);
            v = strtod(sp + 1, &end);
            assert_true(end != sp + 1 && *end == '\0');
            assert_true(v >= 0);
            for (int i = 0; i < ntypes; i++) {
                size_t tl = strlen(types[i]);
                if (strncmp(name, types[i], tl) == 0 &&
                    (name[tl] == '\0' || strcmp(name + tl, "_bucket") == 0 ||
                     strcmp(name + tl, "_sum") == 0 || strcmp(name + tl, "_count") == 0))
                    known = 1;
            }
            if (!known)
                fail_msg("sample '%s' has no # TYPE before it", name);
            samples++;
        }
    }
    assert_true(samples > 10);
}

/* GET /metrics; the body (caller frees), checked for format. */
static char *
scrape(ops *o)
{
    th_resp r;
    char   *body;

    assert_int_equal(th_http_port(o->mport, "GET", "/metrics", NULL, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.content_type, "text/plain"));
    assert_non_null(strstr(r.content_type, "version=0.0.4"));
    check_exposition(r.body);
    body = strdup(r.body);
    assert_non_null(body);
    th_resp_fini(&r);
    return body;
}

/* The value of one series ("name{labels}" exactly as rendered); fails the
 * test when it is missing. */
static int64_t
series(const char *body, const char *key)
{
    size_t      kl = strlen(key);
    const char *p = body;

    while ((p = strstr(p, key)) != NULL) {
        if ((p == body || p[-1] == '\n') && p[kl] == ' ')
            return (int64_t) strtod(p + kl + 1, NULL);
        p += kl;
    }
    fail_msg("series %s not in the exposition", key);
    return -1;
}

static int64_t
metric(ops *o, const char *key)
{
    char   *b = scrape(o);
    int64_t v = series(b, key);

    free(b);
    return v;
}

typedef struct metric_wait {
    ops        *o;
    const char *key;
    int64_t     want;
} metric_wait;

static int
metric_is(void *arg)
{
    metric_wait *w = arg;

    return metric(w->o, w->key) == w->want;
}

static int
wait_metric(ops *o, const char *key, int64_t want, double secs)
{
    metric_wait w = { o, key, want };

    return th_wait_until(key, secs, 50, metric_is, &w);
}

static int
health(ops *o)
{
    th_resp r;
    int     st;

    assert_int_equal(th_http_port(o->mport, "GET", "/health", NULL, NULL, &r), 0);
    st = r.status;
    th_resp_fini(&r);
    return st;
}

/* A TCP connection to the metrics port that sends nothing (or only
 * partial). */
static int
raw_connect(int port, const char *partial)
{
    struct sockaddr_in a;
    int                fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t) port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *) &a, sizeof a), 0);
    if (partial != NULL)
        assert_int_equal(send(fd, partial, strlen(partial), 0), (ssize_t) strlen(partial));
    return fd;
}

/* 1 when the server closed fd (EOF) within secs (scaled), else 0. */
static int
closed_by_server(int fd, double secs)
{
    int64_t end = th_mono_ms() + (int64_t) (secs * 1000 * th_timeout_mult());
    char    buf[256];

    while (th_mono_ms() < end) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 100) > 0) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno == ECONNRESET))
                return 1;
        }
    }
    return 0;
}

/* ---- /metrics and /health ------------------------------------------ */

/* Counters move with jobs: one success, one failure, one cancel, each
 * counted once under its outcome; the run-time histogram counts three
 * runs and is cumulative. */
static void
test_metrics_count_outcomes(void **state)
{
    ops    *o = ops_start("ops_metrics_outcomes", 2, NULL);
    int64_t ok, bad, slow;
    char   *b;

    assert_non_null(o);
    *state = o;
    b = scrape(o);
    assert_int_equal(series(b, "hugetask_worker_jobs_total{server=\"" SERVER
                               "\",outcome=\"success\"}"), 0);
    assert_int_equal(series(b, "hugetask_worker_processes_configured" LBL), 2);
    free(b);

    ok = submit(o->s, "hugegraph", "1 + 1");
    bad = submit(o->s, "hugegraph", "1 / 0");
    slow = submit(o->s, "hugegraph", "sleep(30000); 'late'");
    assert_int_equal(th_wait_task_status(o->s, "hugegraph", ok, "success", 20, 20, NULL), 0);
    assert_int_equal(th_wait_task_status(o->s, "hugegraph", bad, "failed", 20, 20, NULL), 0);
    assert_int_equal(wait_sql(o->s, "slow task running", 20,
                              "SELECT status = 'running' FROM tasks WHERE id = %" PRId64,
                              slow), 0);
    cancel(o->s, "hugegraph", slow);
    assert_int_equal(th_wait_task_status(o->s, "hugegraph", slow, "cancelled", 20, 20,
                                         NULL), 0);
    /* The cancelled job's final write is the last; wait for its count. */
    assert_int_equal(wait_metric(o, "hugetask_worker_jobs_total{server=\"" SERVER
                                    "\",outcome=\"cancelled\"}", 1, 10), 0);
    b = scrape(o);
    assert_int_equal(series(b, "hugetask_worker_jobs_total{server=\"" SERVER
                               "\",outcome=\"success\"}"), 1);
    assert_int_equal(series(b, "hugetask_worker_jobs_total{server=\"" SERVER
                               "\",outcome=\"failed\"}"), 1);
    assert_int_equal(series(b, "hugetask_worker_job_duration_seconds_count" LBL), 3);
    assert_int_equal(series(b, "hugetask_worker_job_duration_seconds_bucket{server=\"" SERVER
                               "\",le=\"+Inf\"}"), 3);
    /* The cancelled job slept until the cancel: more than 1 ms, at most
     * one hour, so the 1 ms bucket holds at most two and 3600 s all. */
    assert_true(series(b, "hugetask_worker_job_duration_seconds_bucket{server=\"" SERVER
                          "\",le=\"0.001\"}") <= 2);
    assert_int_equal(series(b, "hugetask_worker_job_duration_seconds_bucket{server=\"" SERVER
                               "\",le=\"3600\"}"), 3);
    assert_int_equal(series(b, "hugetask_worker_claimed_tasks_total" LBL), 3);
    assert_true(series(b, "hugetask_worker_claims_total" LBL) >= 1);
    assert_int_equal(series(b, "hugetask_worker_job_retries_total" LBL), 0);
    assert_int_equal(series(b, "hugetask_worker_processes_alive" LBL), 2);
    assert_int_equal(series(b, "hugetask_worker_process_restarts_total" LBL), 0);
    free(b);
    assert_int_equal(health(o), 200);
    {
        th_resp r;
        assert_int_equal(th_http_port(o->mport, "GET", "/nothing", NULL, NULL, &r), 0);
        assert_int_equal(r.status, 404);
        th_resp_fini(&r);
        assert_int_equal(th_http_port(o->mport, "POST", "/metrics", "{}", NULL, &r), 0);
        assert_int_equal(r.status, 405);
        th_resp_fini(&r);
    }
    th_stack_passed(o->s);
}

/* Killing the only worker process drops processes_alive to 0 and /health
 * to 503 until the supervisor has forked a new one; then both come back
 * and restarts count.  A process that dies young is re-forked after a
 * growing backoff (0.5 s, 1 s, 2 s ...), so killing each replacement at
 * once opens a window the scrape cannot miss for long. */
static void
test_alive_gauge_and_health_follow_kills(void **state)
{
    ops    *o = ops_start("ops_alive_gauge", 1, NULL);
    pid_t   victim = 0, kids[4];
    int     seen_drop = 0, seen_503 = 0;
    int64_t restarts;

    assert_non_null(o);
    *state = o;
    assert_int_equal(wait_metric(o, "hugetask_worker_processes_alive" LBL, 1, 10), 0);
    assert_int_equal(health(o), 200);
    for (int round = 0; round < 6 && !(seen_drop && seen_503); round++) {
        int64_t end;
        /* The current worker process (a new one after the first round). */
        end = th_mono_ms() + (int64_t) (10000 * th_timeout_mult());
        for (;;) {
            int n = th_pid_children(o->s->worker.pid, kids, 4);
            assert_true(n >= 0);
            if (n == 1 && kids[0] != victim)
                break;
            assert_true(th_mono_ms() < end);
            th_sleep_ms(5);
        }
        victim = kids[0];
        assert_int_equal(th_pid_signal(victim, SIGKILL), 0);
        end = th_mono_ms() + 400;
        while (th_mono_ms() < end && !(seen_drop && seen_503)) {
            char   *b = scrape(o);
            int64_t alive = series(b, "hugetask_worker_processes_alive" LBL);
            free(b);
            if (alive == 0) {
                seen_drop = 1;
                if (health(o) == 503)
                    seen_503 = 1;
            }
        }
    }
    assert_true(seen_drop);
    assert_true(seen_503);
    /* And back: a worker process again, healthy, the restarts counted. */
    assert_int_equal(wait_metric(o, "hugetask_worker_processes_alive" LBL, 1, 30), 0);
    assert_int_equal(health(o), 200);
    restarts = metric(o, "hugetask_worker_process_restarts_total" LBL);
    assert_true(restarts >= 1);
    /* The new process runs jobs. */
    assert_int_equal(th_wait_task_status(o->s, "hugegraph", submit(o->s, "hugegraph", "7"),
                                         "success", 20, 20, NULL), 0);
    th_stack_passed(o->s);
}

/* Clients that connect and send nothing (more of them than the server has
 * slots), or send half a request line, stop neither scrapes, nor jobs, nor
 * supervision (a killed worker is still replaced), and are dropped by the
 * server at their deadline. */
static void
test_slow_clients_block_nothing(void **state)
{
    ops    *o = ops_start("ops_slow_clients", 2, NULL);
    int     idle[20], partial;
    int64_t id;
    pid_t   kids[4];
    int     n;

    assert_non_null(o);
    *state = o;
    /* The half request first, given time to be read: a server that then
     * waited for the rest of it would answer nothing more. */
    partial = raw_connect(o->mport, "GET /metr");
    th_sleep_ms(300);
    for (int i = 0; i < 20; i++)
        idle[i] = raw_connect(o->mport, NULL);
    /* Scrapes and health checks are answered while they hang around. */
    for (int i = 0; i < 5; i++) {
        free(scrape(o));
        assert_int_equal(health(o), 200);
    }
    /* Jobs run. */
    id = submit(o->s, "hugegraph", "'still running jobs'");
    assert_int_equal(th_wait_task_status(o->s, "hugegraph", id, "success", 20, 20, NULL), 0);
    /* Supervision goes on: a killed worker process is replaced. */
    n = th_pid_children(o->s->worker.pid, kids, 4);
    assert_int_equal(n, 2);
    assert_int_equal(th_pid_signal(kids[0], SIGKILL), 0);
    assert_int_equal(wait_metric(o, "hugetask_worker_process_restarts_total" LBL, 1, 20), 0);
    assert_int_equal(wait_metric(o, "hugetask_worker_processes_alive" LBL, 2, 20), 0);
    /* The half request is dropped at its deadline, with no reply. */
    assert_true(closed_by_server(partial, 10));
    /* The idle ones too (the oldest may have gone earlier, to make room). */
    for (int i = 0; i < 20; i++) {
        assert_true(closed_by_server(idle[i], 10));
        close(idle[i]);
    }
    close(partial);
    assert_int_equal(metric(o, "hugetask_worker_jobs_total{server=\"" SERVER
                               "\",outcome=\"success\"}"), 1);
    th_stack_passed(o->s);
}

/* ---- task_events --------------------------------------------------- */

static void
test_events_success_sequence(void **state)
{
    ops    *o = ops_start("ops_events_success", 2, NULL);
    char    ev[512], srv[128];
    int64_t id, v;

    assert_non_null(o);
    *state = o;
    id = submit(o->s, "hugegraph", "'fine'");
    assert_int_equal(th_wait_task_status(o->s, "hugegraph", id, "success", 20, 20, NULL), 0);
    events_of(o->s, "hugegraph", id, ev, sizeof ev);
    assert_string_equal(ev, "->queued,queued>running,running>success");
    /* The claim's event names the claimer, with the attempt it started. */
    assert_int_equal(q_str(o->s, srv, sizeof srv,
                           "SELECT server FROM task_events WHERE task_id = %" PRId64
                           " AND to_status = 'running'", id), 0);
    assert_true(strncmp(srv, SERVER ":", strlen(SERVER) + 1) == 0);
    assert_int_equal(q_i64(o->s, &v, "SELECT attempt FROM task_events WHERE task_id = %"
                           PRId64 " AND to_status = 'success'", id), 0);
    assert_int_equal(v, 1);
    /* Deleting the task keeps its history. */
    {
        char    path[128];
        th_resp r;
        snprintf(path, sizeof path, "/graphs/hugegraph/tasks/%" PRId64, id);
        assert_int_equal(th_http(o->s, "DELETE", path, NULL, NULL, &r), 0);
        assert_int_equal(r.status, 204);
        th_resp_fini(&r);
    }
    assert_int_equal(q_i64(o->s, &v, "SELECT count(*) FROM tasks WHERE id = %" PRId64, id), 0);
    assert_int_equal(v, 0);
    events_of(o->s, "hugegraph", id, ev, sizeof ev);
    assert_string_equal(ev, "->queued,queued>running,running>success");
    /* The dashboard view shows them (they are minutes old at most). */
    assert_int_equal(q_i64(o->s, &v, "SELECT count(*) FROM ht_task_events_recent"
                           " WHERE task_id = %" PRId64 " AND graph = 'hugegraph'", id), 0);
    assert_int_equal(v, 3);
    th_stack_passed(o->s);
}

/* A running task cancelled: running -> cancelling -> cancelled.  A queued
 * one (graph "other", which no worker serves): queued -> cancelled. */
static void
test_events_cancel_sequences(void **state)
{
    ops    *o = ops_start("ops_events_cancel", 2, NULL);
    char    ev[512];
    int64_t run, queued, v;

    assert_non_null(o);
    *state = o;
    run = submit(o->s, "hugegraph", "sleep(30000); 'late'");
    assert_int_equal(wait_sql(o->s, "task running", 20,
                              "SELECT status = 'running' FROM tasks WHERE graph = 'hugegraph'"
                              " AND id = %" PRId64, run), 0);
    cancel(o->s, "hugegraph", run);
    assert_int_equal(th_wait_task_status(o->s, "hugegraph", run, "cancelled", 20, 20, NULL),
                     0);
    events_of(o->s, "hugegraph", run, ev, sizeof ev);
    assert_string_equal(ev, "->queued,queued>running,running>cancelling,cancelling>cancelled");

    queued = submit(o->s, "other", "'never runs'");
    cancel(o->s, "other", queued);
    assert_int_equal(th_wait_task_status(o->s, "other", queued, "cancelled", 20, 20, NULL),
                     0);
    events_of(o->s, "other", queued, ev, sizeof ev);
    assert_string_equal(ev, "->queued,queued>cancelled");
    /* Heartbeats and lease extensions changed no status: no other event
     * of the whole stack. */
    assert_int_equal(q_i64(o->s, &v, "SELECT count(*) FROM task_events"), 0);
    assert_int_equal(v, 6);
    th_stack_passed(o->s);
}

/* A task whose worker process is SIGKILLed mid-job: its lease runs out,
 * the rescue re-queues it with task_retries 1, a second attempt runs it to
 * success.  The history shows exactly that, and the retry is counted. */
static void
test_events_retry_after_kill(void **state)
{
    ops    *o = ops_start("ops_events_retry", 2, NULL);
    char    ev[512], cols[512];
    int64_t id, pid;

    assert_non_null(o);
    *state = o;
    id = submit(o->s, "hugegraph", "sleep(1500); 'done'");
    assert_int_equal(wait_sql(o->s, "first attempt running", 20,
                              "SELECT status = 'running' AND attempt = 1 FROM tasks"
                              " WHERE graph = 'hugegraph' AND id = %" PRId64, id), 0);
    assert_int_equal(q_i64(o->s, &pid, "SELECT split_part(server, ':', -1)::bigint"
                           " FROM tasks WHERE graph = 'hugegraph' AND id = %" PRId64, id), 0);
    assert_int_equal(th_pid_signal((pid_t) pid, SIGKILL), 0);
    assert_int_equal(th_wait_task_status(o->s, "hugegraph", id, "success", 40, 50, NULL), 0);
    events_of(o->s, "hugegraph", id, ev, sizeof ev);
    assert_string_equal(ev, "->queued,queued>running,running>queued,queued>running,"
                            "running>success");
    /* retries and attempt after each transition. */
    assert_int_equal(q_str(o->s, cols, sizeof cols,
                           "SELECT string_agg(retries || '/' || attempt, ',' ORDER BY at)"
                           " FROM task_events WHERE graph = 'hugegraph' AND task_id = %"
                           PRId64, id), 0);
    assert_string_equal(cols, "0/0,0/1,1/1,1/2,1/2");
    assert_int_equal(wait_metric(o, "hugetask_worker_jobs_total{server=\"" SERVER
                                    "\",outcome=\"success\"}", 1, 10), 0);
    assert_int_equal(metric(o, "hugetask_worker_job_retries_total" LBL), 1);
    assert_int_equal(metric(o, "hugetask_worker_rescued_total" LBL), 1);
    assert_true(metric(o, "hugetask_worker_process_restarts_total" LBL) >= 1);
    th_stack_passed(o->s);
}

/* ---- retention ----------------------------------------------------- */

/* Sums key=N over the worker log lines with evt=retention. */
static int64_t
log_sum(const th_stack *s, const char *key, int *lines)
{
    FILE   *f = fopen(s->worker.log_path, "r");
    char    line[4096], pat[64];
    int64_t sum = 0;

    assert_non_null(f);
    snprintf(pat, sizeof pat, " %s=", key);
    *lines = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char *p;
        if (strstr(line, " evt=retention ") == NULL || (p = strstr(line, pat)) == NULL)
            continue;
        sum += strtoll(p + strlen(pat), NULL, 10);
        (*lines)++;
    }
    fclose(f);
    return sum;
}

typedef struct log_wait {
    const th_stack *s;
    int64_t         tasks, events;
} log_wait;

static int
log_adds_up(void *arg)
{
    log_wait *w = arg;
    int       n;

    return log_sum(w->s, "deleted", &n) == w->tasks &&
           log_sum(w->s, "events", &n) == w->events;
}

#define OLD "now() - interval '3 hours'"
#define INSERT_TASKS                                                             \
    "INSERT INTO tasks (graph, id, type, name, callable, status, input, server,"  \
    " attempt, lease_until, updated_at)"                                          \
    " SELECT '%s', nextval(ht_task_seq('%s')), 'gremlin', 'x', 'c', '%s', '{}',"  \
    " 'elsewhere:1', 1, %s, %s FROM generate_series(1, %d)"

/* Completed tasks older than --retention go, in batches of at most
 * --retention-batch rows; young completed ones stay, and so does every
 * queued, running and cancelling task however old; old task_events go,
 * young ones stay; a row another session holds locked is skipped, not
 * waited for, and goes in a later pass. */
static void
test_retention_deletes_old_completed_in_batches(void **state)
{
    static char *const extra[] = { "--retention", "1h", "--retention-batch", "7",
                                   "--retention-interval", "1", NULL };
    ops    *o = ops_start("ops_retention", 2, extra);
    PGconn *hold;
    PGresult *r;
    int64_t v, held_id, deleted, batches, events;
    int     lines, lines2;

    assert_non_null(o);
    *state = o;
    /* The rows are made with the worker stopped, so that no pass runs
     * before the lock below is held.  Graph "other" is served by no
     * worker: nothing claims these rows. */
    assert_int_equal(th_proc_stop(&o->s->worker), 0);
    assert_int_equal(q_exec(o->s, "SELECT ht_ensure_graph('other')"), 0);
    /* Old completed ones: 20 success, 15 failed, 15 cancelled. */
    assert_int_equal(q_exec(o->s, INSERT_TASKS, "other", "other", "success", "NULL", OLD, 20), 0);
    assert_int_equal(q_exec(o->s, INSERT_TASKS, "other", "other", "failed", "NULL", OLD, 15), 0);
    assert_int_equal(q_exec(o->s, INSERT_TASKS, "other", "other", "cancelled", "NULL", OLD,
                            15), 0);
    /* Young completed ones. */
    assert_int_equal(q_exec(o->s, INSERT_TASKS, "other", "other", "success", "NULL",
                            "now() - interval '10 minutes'", 5), 0);
    /* Old but not completed: never deleted (leases far ahead so the
     * rescue leaves them be). */
    assert_int_equal(q_exec(o->s, INSERT_TASKS, "other", "other", "queued", "NULL", OLD, 4), 0);
    assert_int_equal(q_exec(o->s, INSERT_TASKS, "other", "other", "running",
                            "now() + interval '1 day'", OLD, 3), 0);
    assert_int_equal(q_exec(o->s, INSERT_TASKS, "other", "other", "cancelling",
                            "now() + interval '1 day'", OLD, 2), 0);
    /* The inserts made 64 events (the trigger); make 30 of them old. */
    assert_int_equal(q_exec(o->s, "UPDATE task_events SET at = " OLD " WHERE ctid IN"
                            " (SELECT ctid FROM task_events ORDER BY task_id LIMIT 30)"), 0);
    /* Another session holds one old completed row (as the API does while
     * deleting it): retention must skip it, not wait. */
    assert_int_equal(q_i64(o->s, &held_id, "SELECT min(id) FROM tasks WHERE graph = 'other'"
                           " AND status = 'success'"), 0);
    hold = PQconnectdb(o->s->db_url);
    assert_int_equal(PQstatus(hold), CONNECTION_OK);
    r = PQexec(hold, "BEGIN");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT 1 FROM tasks WHERE graph = 'other' AND id = %"
                 PRId64 " FOR UPDATE", held_id);
        r = PQexec(hold, sql);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        PQclear(r);
    }
    assert_int_equal(th_worker_start(o->s), 0);
    /* Every old completed row but the held one goes. */
    assert_int_equal(wait_sql(o->s, "old completed tasks deleted", 60,
                              "SELECT count(*) = 1 FROM tasks WHERE status IN"
                              " ('success', 'failed', 'cancelled') AND updated_at < now()"
                              " - interval '1 hour'"), 0);
    assert_int_equal(wait_sql(o->s, "old events deleted", 60,
                              "SELECT count(*) = 0 FROM task_events"
                              " WHERE at < now() - interval '1 hour'"), 0);
    assert_int_equal(q_i64(o->s, &v, "SELECT count(*) FROM tasks WHERE id = %" PRId64
                           " AND graph = 'other'", held_id), 0);
    assert_int_equal(v, 1);
    /* What must stay, stayed. */
    assert_int_equal(q_i64(o->s, &v, "SELECT count(*) FROM tasks WHERE status = 'success'"
                           " AND updated_at > now() - interval '1 hour'"), 0);
    assert_int_equal(v, 5);
    assert_int_equal(q_i64(o->s, &v, "SELECT count(*) FROM tasks WHERE status IN"
                           " ('queued', 'running', 'cancelling')"), 0);
    assert_int_equal(v, 9);
    assert_int_equal(q_i64(o->s, &v, "SELECT count(*) FROM task_events"
                           " WHERE at > now() - interval '1 hour'"), 0);
    assert_int_equal(v, 34);
    /* Passes ended while the row was held (retention did not wait): their
     * log lines add up to what went. */
    {
        log_wait w = { o->s, 49, 30 };
        assert_int_equal(th_wait_until("retention log lines", 30, 50, log_adds_up, &w), 0);
    }
    deleted = log_sum(o->s, "deleted", &lines);
    assert_true(lines >= 1);
    assert_int_equal(deleted, 49);
    /* In batches of at most 7: 49 rows need 7 full batches plus the one
     * that found fewer, and each pass has at least one batch per phase. */
    batches = log_sum(o->s, "batches", &lines2);
    events = log_sum(o->s, "events", &lines2);
    assert_int_equal(events, 30);
    assert_true(batches >= 49 / 7 + 1 + 30 / 7 + 1);
    /* Released, the held row goes in a later pass. */
    r = PQexec(hold, "COMMIT");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(hold);
    assert_int_equal(wait_sql(o->s, "held row deleted later", 30,
                              "SELECT count(*) = 0 FROM tasks WHERE id = %" PRId64
                              " AND graph = 'other'", held_id), 0);
    assert_int_equal(wait_metric(o, "hugetask_worker_retention_deleted_tasks_total" LBL,
                                 50, 10), 0);
    assert_int_equal(metric(o, "hugetask_worker_retention_deleted_events_total" LBL), 30);
    assert_true(metric(o, "hugetask_worker_retention_passes_total" LBL) >= 2);
    th_stack_passed(o->s);
}

/* Without --retention nothing is ever deleted. */
static void
test_retention_off_by_default(void **state)
{
    ops    *o = ops_start("ops_retention_off", 1, NULL);
    int64_t v;

    assert_non_null(o);
    *state = o;
    assert_int_equal(q_exec(o->s, "SELECT ht_ensure_graph('other')"), 0);
    assert_int_equal(q_exec(o->s, INSERT_TASKS, "other", "other", "success", "NULL",
                            "now() - interval '3000 days'", 10), 0);
    th_sleep_ms(2500);
    assert_int_equal(q_i64(o->s, &v, "SELECT count(*) FROM tasks"), 0);
    assert_int_equal(v, 10);
    assert_int_equal(metric(o, "hugetask_worker_retention_passes_total" LBL), 0);
    th_stack_passed(o->s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_metrics_count_outcomes, teardown),
        cmocka_unit_test_teardown(test_alive_gauge_and_health_follow_kills, teardown),
        cmocka_unit_test_teardown(test_slow_clients_block_nothing, teardown),
        cmocka_unit_test_teardown(test_events_success_sequence, teardown),
        cmocka_unit_test_teardown(test_events_cancel_sequences, teardown),
        cmocka_unit_test_teardown(test_events_retry_after_kill, teardown),
        cmocka_unit_test_teardown(test_retention_deletes_old_completed_in_batches, teardown),
        cmocka_unit_test_teardown(test_retention_off_by_default, teardown),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

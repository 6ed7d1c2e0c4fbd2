/*
 * tests/integration/test_ops_api.c - the API's operations side, through
 * HTTP against the real hugetask-api: GET /metrics, GET /health, basic
 * auth, the `hugetask-api user` command, request ids.
 *
 * Group "auth": one stack with --auth basic and --log-level debug (so the
 * access lines reach the log file); its first user is made with the real
 * `hugetask-api user add` before the API starts.  The API serves
 * "hugegraph" and "other" but the worker runs only "hugegraph", so tasks of
 * "other" stay queued and the task gauges have a known value to match.
 * Group "health": a stack on a private PostgreSQL that the test stops and
 * starts again, for /health's 503 and hugetask_db_up 0.
 *
 * The harness's HTTP client sends no custom headers and returns none, so
 * this file has its own small raw client (one request per connection).
 * Needs HT_TEST_PGURL (tests/run.sh sets it); without it every test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "tests/harness/harness.h"

#define EXC_NOTAUTH  "class jakarta.ws.rs.NotAuthorizedException"
#define EXC_BACKEND  "class org.apache.hugegraph.backend.BackendException"
#define CHALLENGE    "Basic realm=\"hugetask\""
#define METRICS_TYPE "text/plain; version=0.0.4"

/* ---- a raw HTTP client ---------------------------------------------- */

typedef struct raw_resp {
    int     status;
    char   *head;   /* status line and headers, NUL-terminated (malloc'd) */
    char   *body;   /* NUL-terminated (malloc'd) */
    size_t  body_len;
    json_t *json;   /* body as JSON, or NULL */
} raw_resp;

static void
raw_fini(raw_resp *r)
{
    free(r->head);
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* Sends request (the whole text) to 127.0.0.1:port and reads until the
 * server closes.  0, or -1 (message printed) on a transport error or when
 * the reply has no complete head. */
static int
raw_http(int port, const char *request, size_t req_len, raw_resp *out)
{
    int64_t            deadline = th_mono_ms() + (int64_t) (30000 * th_timeout_mult());
    struct sockaddr_in sa;
    char              *in = NULL, *hend;
    size_t             len = 0, cap = 0, sent = 0;
    int                fd, rc = -1;

    memset(out, 0, sizeof(*out));
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "raw_http: socket: %s\n", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t) port);
    if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
        fprintf(stderr, "raw_http: connect to %d: %s\n", port, strerror(errno));
        goto done;
    }
    while (sent < req_len) {
        ssize_t w = send(fd, request + sent, req_len - sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            /* The server may answer and close before reading it all. */
            break;
        }
        sent += (size_t) w;
    }
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
        int64_t       left = deadline - th_mono_ms();
        ssize_t       r;

        if (left <= 0) {
            fprintf(stderr, "raw_http: timed out reading the reply\n");
            goto done;
        }
        if (poll(&p, 1, (int) left) < 0 && errno != EINTR)
            goto done;
        if (len + 16384 + 1 > cap) {
            char *n = realloc(in, cap = cap ? cap * 2 : 65536);
            if (n == NULL)
                goto done;
            in = n;
        }
        r = recv(fd, in + len, cap - len - 1, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0 && errno == ECONNRESET && len > 0)
            break;
        if (r < 0) {
            fprintf(stderr, "raw_http: recv: %s\n", strerror(errno));
            goto done;
        }
        if (r == 0)
            break;
        len += (size_t) r;
    }
    if (in == NULL)
        goto done;
    in[len] = '\0';
    hend = strstr(in, "\r\n\r\n");
    if (hend == NULL || sscanf(in, "HTTP/1.%*d %d", &out->status) != 1) {
        fprintf(stderr, "raw_http: no complete reply head in %zu bytes\n", len);
        goto done;
    }
    out->head = strndup(in, (size_t) (hend - in) + 2);
    out->body_len = len - (size_t) (hend + 4 - in);
    out->body = malloc(out->body_len + 1);
    if (out->head == NULL || out->body == NULL)
        goto done;
    memcpy(out->body, hend + 4, out->body_len);
    out->body[out->body_len] = '\0';
    if (out->body_len > 0)
        out->json = json_loadb(out->body, out->body_len, 0, NULL);
    rc = 0;
done:
    close(fd);
    free(in);
    if (rc != 0)
        raw_fini(out);
    return rc;
}

/* The value of header name in r (copied into buf), or NULL. */
static const char *
header(const raw_resp *r, const char *name, char *buf, size_t size)
{
    size_t      n = strlen(name);
    const char *p = r->head;

    while (p != NULL && (p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            size_t      l;
            while (*v == ' ')
                v++;
            l = strcspn(v, "\r\n");
            if (l >= size)
                l = size - 1;
            memcpy(buf, v, l);
            buf[l] = '\0';
            return buf;
        }
    }
    return NULL;
}

static void
b64(const char *in, char *out)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t) (unsigned char) in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t) (unsigned char) in[i + 1] << 8;
        if (i + 2 < n)
            v |= (uint32_t) (unsigned char) in[i + 2];
        out[o++] = al[(v >> 18) & 63];
        out[o++] = al[(v >> 12) & 63];
        out[o++] = i + 1 < n ? al[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? al[v & 63] : '=';
    }
    out[o] = '\0';
}

/* One request with optional extra header lines (each ending in \r\n). */
static void
req_raw(th_stack *s, const char *method, const char *path, const char *extra,
        raw_resp *r)
{
    size_t len = strlen(method) + strlen(path) + (extra ? strlen(extra) : 0) + 256;
    char  *text = malloc(len);
    int    n;

    assert_non_null(text);
    n = snprintf(text, len,
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                 "%s%s\r\n",
                 method, path, extra ? extra : "",
                 strcmp(method, "GET") == 0 ? "" : "Content-Length: 0\r\n");
    assert_true(n > 0 && (size_t) n < len);
    assert_int_equal(raw_http(s->http_port, text, (size_t) n, r), 0);
    free(text);
}

/* A request as user:password (NULL user: no Authorization header). */
static void
req_as(th_stack *s, const char *user, const char *pass, const char *method,
       const char *path, const char *extra, raw_resp *r)
{
    char cred[512], enc[800], hdr[2048];

    if (user == NULL) {
        req_raw(s, method, path, extra, r);
        return;
    }
    (void) snprintf(cred, sizeof(cred), "%s:%s", user, pass);
    b64(cred, enc);
    (void) snprintf(hdr, sizeof(hdr), "Authorization: Basic %s\r\n%s", enc,
                    extra ? extra : "");
    req_raw(s, method, path, hdr, r);
}

/* HugeGraph's error shape with the given exception. */
static void
assert_error_shape(const raw_resp *r, const char *exception)
{
    if (r->json == NULL)
        fail_msg("not JSON: %s", r->body);
    assert_int_equal(json_object_size(r->json), 3);
    assert_string_equal(json_string_value(json_object_get(r->json, "exception")),
                        exception);
    assert_true(json_is_string(json_object_get(r->json, "message")));
    assert_string_equal(json_string_value(json_object_get(r->json, "cause")), "");
}

static void
assert_401(const raw_resp *r)
{
    char v[256];

    if (r->status != 401)
        fail_msg("want 401, got %d: %s", r->status, r->body);
    assert_error_shape(r, EXC_NOTAUTH);
    assert_non_null(header(r, "WWW-Authenticate", v, sizeof(v)));
    assert_string_equal(v, CHALLENGE);
    assert_non_null(header(r, "X-Request-Id", v, sizeof(v)));
}

/* ---- the users command ------------------------------------------------ */

/* Runs `hugetask-api user ARGS... --database-url URL` with stdin_text on
 * its stdin; returns its exit status (-1 if it did not exit normally).
 * Its output goes to out_path. */
static int
run_user_cmd(th_stack *s, const char *stdin_text, const char *out_path,
             const char *a1, const char *a2)
{
    int     in[2], status = 0;
    pid_t   pid;
    int64_t deadline;

    assert_int_equal(pipe(in), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = { (char *) HT_API_BIN, "user", (char *) a1, (char *) a2,
                         "--database-url", s->db_url, NULL };
        int   fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (a2 == NULL) {
            argv[3] = "--database-url";
            argv[4] = s->db_url;
            argv[5] = NULL;
        }
        if (fd < 0 || dup2(in[0], 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(127);
        close(in[1]);
        execv(HT_API_BIN, argv);
        _exit(127);
    }
    close(in[0]);
    if (stdin_text != NULL)
        assert_int_equal(write(in[1], stdin_text, strlen(stdin_text)),
                         (ssize_t) strlen(stdin_text));
    close(in[1]);
    deadline = th_mono_ms() + (int64_t) (60000 * th_timeout_mult());
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        assert_true(w == 0);
        if (th_mono_ms() > deadline) {
            kill(pid, SIGKILL);
            (void) waitpid(pid, &status, 0);
            fail_msg("hugetask-api user %s did not finish", a1);
        }
        th_sleep_ms(20);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The whole of a file (malloc'd; caller frees). */
static char *
slurp(const char *path)
{
    FILE  *f = fopen(path, "r");
    char  *buf = NULL;
    size_t len = 0, cap = 0, n;

    assert_non_null(f);
    do {
        if (len + 4096 + 1 > cap) {
            buf = realloc(buf, cap = cap ? cap * 2 : 65536);
            assert_non_null(buf);
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* ---- the metrics text ------------------------------------------------- */

static int
name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == ':' || (!first && c >= '0' && c <= '9');
}

/* Every non-comment line is name{label="value",...} number. */
static void
check_exposition(const char *text)
{
    char *copy = strdup(text), *save = NULL;
    int   samples = 0;

    assert_non_null(copy);
    for (char *l = strtok_r(copy, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        const char *p = l;
        char       *end;

        if (l[0] == '#') {
            if (strncmp(l, "# HELP ", 7) != 0 && strncmp(l, "# TYPE ", 7) != 0)
                fail_msg("bad comment line: %s", l);
            continue;
        }
        if (!name_char(*p, 1))
            fail_msg("bad metric name: %s", l);
        while (name_char(*p, 0))
            p++;
        if (*p == '{') {
            for (p++; *p != '}';) {
                if (!name_char(*p, 1))
                    fail_msg("bad label name: %s", l);
                while (name_char(*p, 0))
                    p++;
                if (*p++ != '=' || *p++ != '"')
                    fail_msg("bad label: %s", l);
                for (; *p != '"'; p++) {
                    if (*p == '\0')
                        fail_msg("unterminated label value: %s", l);
                    if (*p == '\\')
                        p++;
                }
                p++;
                if (*p == ',')
                    p++;
                else if (*p != '}')
                    fail_msg("bad label list: %s", l);
            }
            p++;
        }
        if (*p++ != ' ')
            fail_msg("no space before the value: %s", l);
        if (strcmp(p, "+Inf") != 0 && strcmp(p, "NaN") != 0) {
            (void) strtod(p, &end);
            if (end == p || *end != '\0')
                fail_msg("bad value: %s", l);
        }
        samples++;
    }
    assert_true(samples > 0);
    free(copy);
}

/* The value of the sample whose name{labels} is exactly key; -1 if none. */
static double
sample(const char *text, const char *key)
{
    size_t      n = strlen(key);
    const char *p = text;

    while ((p = strstr(p, key)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p += n;
    }
    return -1;
}

/* GET /metrics as user (NULL: none); must be 200 with the 0.0.4 type. */
static char *
scrape(th_stack *s, const char *user, const char *pass)
{
    raw_resp r;
    char     v[256], *text;

    req_as(s, user, pass, "GET", "/metrics", NULL, &r);
    if (r.status != 200)
        fail_msg("GET /metrics: %d %s", r.status, r.body);
    assert_non_null(header(&r, "Content-Type", v, sizeof(v)));
    assert_true(strncmp(v, METRICS_TYPE, strlen(METRICS_TYPE)) == 0);
    text = r.body;
    r.body = NULL;
    raw_fini(&r);
    return text;
}

/* ---- fixture: the auth stack ------------------------------------------ */

/* Tests of the auth group that got to their end: when all did, the
 * teardown marks the stack passed (no log dump). */
static int auth_passed;
#define AUTH_TESTS 10

static char *const auth_api_args[] = {
    "--graphs", "hugegraph,other", "--auth", "basic", "--log-level", "debug", NULL,
};
static char *const auth_worker_args[] = { "--graphs", "hugegraph", NULL };

static int
auth_setup(void **state)
{
    th_opts o = {
        .api_bin = HT_API_BIN,
        .worker_bin = HT_WORKER_BIN,
        .workers = 1,
        .api_args = auth_api_args,
        .worker_args = auth_worker_args,
    };
    th_stack *s = th_stack_new("ops_api_auth", &o);
    char      out[4200];

    if (s == NULL)
        return -1;
    /* The command migrates a fresh database itself. */
    (void) snprintf(out, sizeof(out), "%s/user-cmd.log", s->tmpdir);
    if (run_user_cmd(s, "s3cret pass\n", out, "add", "alice") != 0) {
        fprintf(stderr, "hugetask-api user add alice failed (see %s)\n", out);
        th_stack_free(s);
        return -1;
    }
    if (th_stack_start(s) != 0) {
        th_stack_free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int
auth_teardown(void **state)
{
    if (auth_passed == AUTH_TESTS)
        th_stack_passed(*state);
    return th_stack_free(*state);
}

/* ---- metrics tests ------------------------------------------------------- */

static void
test_metrics_text_parses(void **state)
{
    th_stack *s = *state;
    char     *text = scrape(s, "alice", "s3cret pass");

    check_exposition(text);
    assert_non_null(strstr(text, "# TYPE hugetask_http_requests_total counter\n"));
    assert_non_null(strstr(text, "# TYPE hugetask_http_request_duration_seconds histogram\n"));
    assert_non_null(strstr(text, "# TYPE hugetask_tasks gauge\n"));
    assert_true(sample(text, "hugetask_db_up") == 1);
    assert_true(sample(text, "process_resident_memory_bytes") > 0);
    assert_true(sample(text, "hugetask_uptime_seconds") >= 0);
    free(text);
    auth_passed++;
}

static void
test_request_counter_counts_route_patterns(void **state)
{
    th_stack  *s = *state;
    const char *k404 = "hugetask_http_requests_total{route=\"/graphs/{graph}/tasks/{id}\","
                       "method=\"GET\",code=\"404\"}";
    const char *k400 = "hugetask_http_requests_total{route=\"/graphs/{graph}/tasks/{id}\","
                       "method=\"GET\",code=\"400\"}";
    const char *kun = "hugetask_http_requests_total{route=\"unmatched\",method=\"GET\","
                      "code=\"404\"}";
    const char *hist = "hugetask_http_request_duration_seconds_count"
                       "{route=\"/graphs/{graph}/tasks/{id}\"}";
    char       *before = scrape(s, "alice", "s3cret pass"), *after;
    double      b404 = sample(before, k404), b400 = sample(before, k400);
    double      bun = sample(before, kun), bhist = sample(before, hist);
    raw_resp    r;

    for (int i = 0; i < 3; i++) {
        req_as(s, "alice", "s3cret pass", "GET", "/graphs/hugegraph/tasks/987654321", NULL, &r);
        assert_int_equal(r.status, 404);
        raw_fini(&r);
    }
    req_as(s, "alice", "s3cret pass", "GET", "/graphs/other/tasks/abc", NULL, &r);
    assert_int_equal(r.status, 400);
    raw_fini(&r);
    req_as(s, "alice", "s3cret pass", "GET", "/no/such/path/42", NULL, &r);
    assert_int_equal(r.status, 404);
    raw_fini(&r);

    after = scrape(s, "alice", "s3cret pass");
    check_exposition(after);
    assert_true(sample(after, k404) == (b404 < 0 ? 0 : b404) + 3);
    assert_true(sample(after, k400) == (b400 < 0 ? 0 : b400) + 1);
    assert_true(sample(after, kun) == (bun < 0 ? 0 : bun) + 1);
    assert_true(sample(after, hist) >= (bhist < 0 ? 0 : bhist) + 4);
    /* Labels carry the pattern, never the raw path. */
    assert_null(strstr(after, "987654321"));
    assert_null(strstr(after, "/no/such"));
    assert_null(strstr(after, "route=\"/graphs/hugegraph"));
    free(before);
    free(after);
    auth_passed++;
}

typedef struct gauge_arg {
    th_stack *s;
    char      last[256];
} gauge_arg;

/* 1 when the gauges of "other" and "hugegraph" equal what PostgreSQL has. */
static int
gauges_match(void *p)
{
    gauge_arg *g = p;
    int64_t    q_other, s_hug, pending;
    char      *text;
    double     age, pg_age;
    char       age_text[64];
    int        ok;

    if (th_sql_i64(g->s, "SELECT count(*) FROM tasks WHERE graph = 'other' AND status = 'queued'",
                   &q_other) != 0 ||
        th_sql_i64(g->s, "SELECT count(*) FROM tasks WHERE graph = 'hugegraph' AND status = 'success'",
                   &s_hug) != 0 ||
        th_sql_i64(g->s, "SELECT count(*) FROM tasks WHERE graph = 'other' AND status IN ('new', 'queued')",
                   &pending) != 0 ||
        th_sql_scalar(g->s, "SELECT extract(epoch FROM now() - min(created_at)) FROM tasks"
                            " WHERE graph = 'other' AND status = 'queued'",
                      age_text, sizeof(age_text)) != 0)
        return -1;
    pg_age = strtod(age_text, NULL);
    text = scrape(g->s, "alice", "s3cret pass");
    age = sample(text, "hugetask_queue_oldest_age_seconds{graph=\"other\"}");
    ok = sample(text, "hugetask_tasks{graph=\"other\",status=\"queued\"}") == (double) q_other &&
         sample(text, "hugetask_tasks{graph=\"hugegraph\",status=\"success\"}") == (double) s_hug &&
         sample(text, "hugetask_queue_depth{graph=\"other\"}") == (double) pending &&
         sample(text, "hugetask_tasks{graph=\"other\",status=\"running\"}") == 0 &&
         age > 0 && age <= pg_age + 0.01;
    (void) snprintf(g->last, sizeof(g->last),
                    "pg: other queued %" PRId64 ", hugegraph success %" PRId64
                    ", age %.3f; metrics: %.0f, %.0f, age %.3f",
                    q_other, s_hug, pg_age,
                    sample(text, "hugetask_tasks{graph=\"other\",status=\"queued\"}"),
                    sample(text, "hugetask_tasks{graph=\"hugegraph\",status=\"success\"}"), age);
    free(text);
    return ok;
}

static void
test_task_gauges_match_postgres(void **state)
{
    th_stack *s = *state;
    gauge_arg g = { s, "" };
    raw_resp  r;
    int64_t   id;
    char      body[] = "{\"gremlin\":\"1 + 1\"}";
    char      text[512];

    /* Three that stay queued (no worker runs "other"), one that runs. */
    for (int i = 0; i < 4; i++) {
        const char *graph = i < 3 ? "other" : "hugegraph";
        char        path[128], enc[128];
        int         n;

        (void) snprintf(path, sizeof(path), "/graphs/%s/jobs/gremlin", graph);
        b64("alice:s3cret pass", enc);
        n = snprintf(text, sizeof(text),
                     "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Authorization: Basic %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     path, enc, strlen(body), body);
        assert_int_equal(raw_http(s->http_port, text, (size_t) n, &r), 0);
        if (r.status != 201)
            fail_msg("submit: %d %s", r.status, r.body);
        id = json_integer_value(json_object_get(r.json, "task_id"));
        assert_true(id > 0);
        raw_fini(&r);
    }
    if (th_wait_until("the task gauges to match PostgreSQL", 15, 200, gauges_match, &g) != 0)
        fail_msg("gauges never matched: %s", g.last);
    auth_passed++;
}

/* ---- auth tests ---------------------------------------------------------- */

static void
test_open_routes_need_no_credentials(void **state)
{
    th_stack *s = *state;
    raw_resp  r;

    req_raw(s, "GET", "/health", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    raw_fini(&r);
    req_raw(s, "GET", "/versions", NULL, &r);
    assert_int_equal(r.status, 200);
    raw_fini(&r);
    auth_passed++;
}

static void
test_auth_refuses_without_credentials(void **state)
{
    th_stack *s = *state;
    raw_resp  r;

    req_raw(s, "GET", "/graphs/hugegraph/tasks", NULL, &r);
    assert_401(&r);
    assert_string_equal(json_string_value(json_object_get(r.json, "message")),
                        "Authentication credentials are required");
    raw_fini(&r);
    /* /metrics is behind auth too; so are unknown paths (no route leaks). */
    req_raw(s, "GET", "/metrics", NULL, &r);
    assert_401(&r);
    raw_fini(&r);
    req_raw(s, "GET", "/no/such/path", NULL, &r);
    assert_401(&r);
    raw_fini(&r);
    req_raw(s, "DELETE", "/graphs/hugegraph/tasks/1", NULL, &r);
    assert_401(&r);
    raw_fini(&r);
    auth_passed++;
}

static void
test_auth_checks_the_password(void **state)
{
    th_stack *s = *state;
    raw_resp  r;

    req_as(s, "alice", "wrong", "GET", "/graphs", NULL, &r);
    assert_401(&r);
    assert_string_equal(json_string_value(json_object_get(r.json, "message")),
                        "Authentication failed");
    raw_fini(&r);
    req_as(s, "nobody", "s3cret pass", "GET", "/graphs", NULL, &r);
    assert_401(&r);
    raw_fini(&r);
    /* A prefix or an extension of the password is another password. */
    req_as(s, "alice", "s3cret pas", "GET", "/graphs", NULL, &r);
    assert_401(&r);
    raw_fini(&r);
    for (int i = 0; i < 3; i++) { /* the second and third come from the cache */
        req_as(s, "alice", "s3cret pass", "GET", "/graphs", NULL, &r);
        if (r.status != 200)
            fail_msg("right password: %d %s", r.status, r.body);
        raw_fini(&r);
        /* A wrong password right after a right one is still wrong. */
        req_as(s, "alice", "s3cret passX", "GET", "/graphs", NULL, &r);
        assert_401(&r);
        raw_fini(&r);
    }
    auth_passed++;
}

static void
test_auth_survives_malformed_headers(void **state)
{
    th_stack   *s = *state;
    const char *bad[] = {
        "Authorization: Basic YWxpY2VzZWNyZXQ=\r\n", /* no colon */
        "Authorization: Basic !!!not*base64!!!\r\n",
        "Authorization: Basic YWxpY2U6c2VjcmV0=\r\n",  /* bad padding */
        "Authorization: \r\n",                          /* empty */
        "Authorization: Basic\r\n",
        "Authorization: Basic \r\n",
        "Authorization: Bearer abc.def\r\n",
        "Authorization: Basic OnMzY3JldCBwYXNz\r\n",   /* ":s3cret pass" */
        "Authorization: Basic YWxpY2U6\r\n",           /* "alice:" */
        "Authorization: Basic YWxpY2UAOnMz\r\n",       /* NUL inside */
        NULL,
    };
    raw_resp r;
    char    *huge;
    size_t   n;

    for (int i = 0; bad[i] != NULL; i++) {
        req_raw(s, "GET", "/graphs", bad[i], &r);
        if (r.status != 401)
            fail_msg("%s-> %d %s", bad[i], r.status, r.body);
        assert_401(&r);
        raw_fini(&r);
    }
    /* Huge, but inside civetweb's header limit: our parser says 401. */
    n = 10000;
    huge = malloc(n + 64);
    assert_non_null(huge);
    strcpy(huge, "Authorization: Basic ");
    memset(huge + strlen(huge), 'Q', n);
    strcpy(huge + 21 + n, "\r\n");
    req_raw(s, "GET", "/graphs", huge, &r);
    assert_401(&r);
    raw_fini(&r);
    free(huge);
    /* Past civetweb's header limit: refused by civetweb in our shape. */
    n = 70000;
    huge = malloc(n + 64);
    assert_non_null(huge);
    strcpy(huge, "Authorization: Basic ");
    memset(huge + strlen(huge), 'Q', n);
    strcpy(huge + 21 + n, "\r\n");
    {
        char   *text = malloc(n + 256);
        int     len;
        assert_non_null(text);
        len = snprintf(text, n + 256, "GET /graphs HTTP/1.1\r\nHost: x\r\n%s\r\n", huge);
        if (raw_http(s->http_port, text, (size_t) len, &r) == 0) {
            assert_true(r.status >= 400 && r.status < 500);
            raw_fini(&r);
        }
        free(text);
    }
    free(huge);
    /* The server is still there and still right. */
    assert_true(th_proc_alive(&s->api));
    req_as(s, "alice", "s3cret pass", "GET", "/graphs", NULL, &r);
    assert_int_equal(r.status, 200);
    raw_fini(&r);
    auth_passed++;
}

/* Runs the hugetask CLI with HUGETASK_USER=userpass (NULL: unset); returns
 * its exit status. */
static int
run_cli(th_stack *s, const char *userpass, const char *out_path)
{
    char  url[64];
    int   status = 0;
    pid_t pid;

    (void) snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->http_port);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = { (char *) HT_CLI_BIN, "--url", url, "tasks", "list", NULL };
        int   fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(127);
        if (userpass != NULL ? setenv("HUGETASK_USER", userpass, 1) != 0
                             : unsetenv("HUGETASK_USER") != 0)
            _exit(127);
        execv(HT_CLI_BIN, argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_cli_sends_credentials(void **state)
{
    th_stack *s = *state;
    char      out[4200];

    (void) snprintf(out, sizeof(out), "%s/cli.log", s->tmpdir);
    assert_int_equal(run_cli(s, "alice:s3cret pass", out), 0);
    assert_int_equal(run_cli(s, NULL, out), 1);          /* 401: refused */
    assert_int_equal(run_cli(s, "alice:wrong", out), 1);
    assert_int_equal(run_cli(s, "no-colon", out), 2);     /* usage */
    auth_passed++;
}

static void
test_user_command_adds_lists_deletes(void **state)
{
    th_stack *s = *state;
    char      out[4200], *listing;
    raw_resp  r;

    (void) snprintf(out, sizeof(out), "%s/user-cmd.log", s->tmpdir);
    /* Before: bob is unknown. */
    req_as(s, "bob", "hunter2", "GET", "/graphs", NULL, &r);
    assert_401(&r);
    raw_fini(&r);
    /* A pipe gives the password as its first line (CRLF too). */
    assert_int_equal(run_user_cmd(s, "hunter2\r\nignored\n", out, "add", "bob"), 0);
    req_as(s, "bob", "hunter2", "GET", "/graphs", NULL, &r);
    if (r.status != 200)
        fail_msg("bob after user add: %d %s", r.status, r.body);
    raw_fini(&r);
    /* Refusals: a taken name, a bad name, no password, unknown user. */
    assert_int_equal(run_user_cmd(s, "x\n", out, "add", "bob"), 1);
    assert_int_equal(run_user_cmd(s, "x\n", out, "add", "bad name"), 2);
    assert_int_equal(run_user_cmd(s, "", out, "add", "carol"), 1);
    assert_int_equal(run_user_cmd(s, NULL, out, "delete", "nobody"), 1);
    assert_int_equal(run_user_cmd(s, NULL, out, "frobnicate", "bob"), 2);

    /* list prints every user. */
    assert_int_equal(unlink(out) == 0 || errno == ENOENT, 1);
    assert_int_equal(run_user_cmd(s, NULL, out, "list", NULL), 0);
    listing = slurp(out);
    assert_non_null(strstr(listing, "alice\t"));
    assert_non_null(strstr(listing, "bob\t"));
    free(listing);

    /* A user deleted before logging in is refused at once. */
    assert_int_equal(run_user_cmd(s, "pw-of-dave\n", out, "add", "dave"), 0);
    assert_int_equal(run_user_cmd(s, NULL, out, "delete", "dave"), 0);
    req_as(s, "dave", "pw-of-dave", "GET", "/graphs", NULL, &r);
    assert_401(&r);
    raw_fini(&r);
    /* passwd changes what a fresh (uncached) login needs. */
    assert_int_equal(run_user_cmd(s, "pw-of-erin\n", out, "add", "erin"), 0);
    assert_int_equal(run_user_cmd(s, "new-pw\n", out, "passwd", "erin"), 0);
    req_as(s, "erin", "pw-of-erin", "GET", "/graphs", NULL, &r);
    assert_401(&r);
    raw_fini(&r);
    req_as(s, "erin", "new-pw", "GET", "/graphs", NULL, &r);
    assert_int_equal(r.status, 200);
    raw_fini(&r);
    auth_passed++;
}

/* ---- request ids ----------------------------------------------------------- */

static void
test_request_ids_echoed_or_replaced(void **state)
{
    th_stack   *s = *state;
    const char *good = "ops-test.req_42-A";
    char        v[256], first[256], extra[512], *log;
    raw_resp    r;

    /* Echoed, on a success and on an error. */
    (void) snprintf(extra, sizeof(extra), "X-Request-Id: %s\r\n", good);
    req_as(s, "alice", "s3cret pass", "GET", "/graphs", extra, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(header(&r, "X-Request-Id", v, sizeof(v)));
    assert_string_equal(v, good);
    raw_fini(&r);
    req_raw(s, "GET", "/graphs", "X-Request-Id: ops-denied-1\r\n", &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(header(&r, "X-Request-Id", v, sizeof(v)), "ops-denied-1");
    raw_fini(&r);

    /* Replaced when invalid: a space, a bad character, 65 characters. */
    {
        const char *invalid[] = {
            "X-Request-Id: has space\r\n",
            "X-Request-Id: semi;colon\r\n",
            "X-Request-Id: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
            "X-Request-Id:\r\n",
            NULL,
        };
        for (int i = 0; invalid[i] != NULL; i++) {
            req_as(s, "alice", "s3cret pass", "GET", "/graphs", invalid[i], &r);
            assert_int_equal(r.status, 200);
            assert_non_null(header(&r, "X-Request-Id", v, sizeof(v)));
            assert_true(strlen(v) >= 1 && strlen(v) <= 64);
            assert_true(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789._-") == strlen(v));
            assert_null(strstr(invalid[i], v));
            raw_fini(&r);
        }
    }
    /* Generated when absent, and different each time. */
    req_raw(s, "GET", "/versions", NULL, &r);
    assert_non_null(header(&r, "X-Request-Id", first, sizeof(first)));
    raw_fini(&r);
    req_raw(s, "GET", "/versions", NULL, &r);
    assert_non_null(header(&r, "X-Request-Id", v, sizeof(v)));
    assert_string_not_equal(first, v);
    raw_fini(&r);
    /* A 404 from the router carries one too. */
    req_as(s, "alice", "s3cret pass", "GET", "/graphs/nope/tasks", NULL, &r);
    assert_int_equal(r.status, 404);
    assert_non_null(header(&r, "X-Request-Id", v, sizeof(v)));
    raw_fini(&r);

    /* The access line of that request names it (the log is line-buffered
     * by write(2): it is there once the reply is). */
    log = slurp(s->api.log_path);
    {
        char want[128];
        const char *line;
        (void) snprintf(want, sizeof(want), "req=%s ", good);
        line = strstr(log, want);
        if (line == NULL)
            fail_msg("no log line with %s", want);
        while (line > log && line[-1] != '\n')
            line--;
        assert_true(strncmp(strstr(line, "evt="), "evt=http.request", 16) == 0);
        assert_non_null(strstr(line, "route=/graphs code=200"));
        assert_non_null(strstr(log, "evt=auth.denied req=ops-denied-1 "));
        assert_null(strstr(log, "s3cret"));
    }
    free(log);
    auth_passed++;
}

/* ---- group: health on a private PostgreSQL --------------------------------- */

typedef struct health_fx {
    th_pg    *pg;
    th_stack *s;
} health_fx;

static int
health_setup(void **state)
{
    health_fx *f = calloc(1, sizeof(*f));
    th_opts    o = { .api_bin = HT_API_BIN, .worker_bin = HT_WORKER_BIN };

    if (f == NULL)
        return -1;
    *state = f;
    f->pg = th_pg_new();
    if (f->pg == NULL)
        return -1;
    o.pg_url = f->pg->url;
    f->s = th_stack_new("ops_api_health", &o);
    if (f->s == NULL || th_migrate(f->s) != 0 || th_api_start(f->s) != 0)
        return -1;
    return 0;
}

static int
health_teardown(void **state)
{
    health_fx *f = *state;
    int        rc;

    if (f == NULL)
        return 0;
    rc = th_stack_free(f->s);
    th_pg_free(f->pg);
    free(f);
    return rc;
}

static int
health_is(th_stack *s, int want)
{
    raw_resp r;
    int      st;

    req_raw(s, "GET", "/health", NULL, &r);
    st = r.status;
    raw_fini(&r);
    return st == want;
}

static int
health_200(void *p)
{
    return health_is(p, 200);
}

static int
db_up_is_0(void *p)
{
    char *text = scrape(p, NULL, NULL);
    int   ok = sample(text, "hugetask_db_up") == 0;

    if (ok) {
        check_exposition(text);
        /* Request metrics still there, task gauges gone. */
        assert_true(sample(text, "hugetask_http_requests_total{route=\"/health\","
                                 "method=\"GET\",code=\"503\"}") >= 1);
        assert_null(strstr(text, "hugetask_tasks{"));
    }
    free(text);
    return ok;
}

static void
test_health_follows_the_database(void **state)
{
    health_fx *f = *state;
    th_stack  *s = f->s;
    raw_resp   r;
    char      *text;

    req_raw(s, "GET", "/health", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"status\":\"ok\"}");
    raw_fini(&r);
    text = scrape(s, NULL, NULL);
    assert_true(sample(text, "hugetask_db_up") == 1);
    free(text);

    assert_int_equal(th_pg_stop(f->pg), 0);
    req_raw(s, "GET", "/health", NULL, &r);
    if (r.status != 503)
        fail_msg("health with the database down: %d %s", r.status, r.body);
    assert_error_shape(&r, EXC_BACKEND);
    raw_fini(&r);
    assert_int_equal(th_wait_until("hugetask_db_up 0", 10, 200, db_up_is_0, s), 0);

    assert_int_equal(th_pg_start(f->pg), 0);
    assert_int_equal(th_wait_until("/health 200 again", 15, 100, health_200, s), 0);
    assert_true(th_proc_alive(&s->api));
    th_stack_passed(s);
}

int
main(void)
{
    const struct CMUnitTest auth_tests[] = {
        cmocka_unit_test(test_metrics_text_parses),
        cmocka_unit_test(test_request_counter_counts_route_patterns),
        cmocka_unit_test(test_task_gauges_match_postgres),
        cmocka_unit_test(test_open_routes_need_no_credentials),
        cmocka_unit_test(test_auth_refuses_without_credentials),
        cmocka_unit_test(test_auth_checks_the_password),
        cmocka_unit_test(test_auth_survives_malformed_headers),
        cmocka_unit_test(test_user_command_adds_lists_deletes),
        cmocka_unit_test(test_cli_sends_credentials),
        cmocka_unit_test(test_request_ids_echoed_or_replaced),
    };
    const struct CMUnitTest health_tests[] = {
        cmocka_unit_test(test_health_follows_the_database),
    };
    int failed = 0;

    failed += cmocka_run_group_tests_name("ops_api_auth", auth_tests, auth_setup,
                                          auth_teardown);
    failed += cmocka_run_group_tests_name("ops_api_health", health_tests,
                                          health_setup, health_teardown);
    return failed;
}

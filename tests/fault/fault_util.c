/*
 * tests/fault/fault_util.c - helpers shared by the fault tests (see
 * fault_util.h).
 */
#include "tests/fault/fault_util.h"

#include <setjmp.h>
#include <stddef.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMPLETED "('success', 'cancelled', 'failed')"

static const char AUDIT_SQL[] =
    "CREATE TABLE fault_audit (seq bigserial PRIMARY KEY, graph text, id bigint,"
    " old_status text, new_status text, old_attempt int, new_attempt int,"
    " progress bigint, at timestamptz NOT NULL DEFAULT clock_timestamp());"
    "CREATE FUNCTION fault_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN INSERT INTO fault_audit (graph, id, old_status, new_status,"
    " old_attempt, new_attempt, progress) VALUES (NEW.graph, NEW.id,"
    " OLD.status, NEW.status, OLD.attempt, NEW.attempt, NEW.progress);"
    " RETURN NEW; END $$;"
    "CREATE TRIGGER fault_audit AFTER UPDATE ON tasks FOR EACH ROW"
    " EXECUTE FUNCTION fault_audit_fn();";

static char *worker_argv_store[64];

static void
fu_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fu_errorf(const char *fmt, ...)
{
    va_list ap;

    fputs("fault: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

th_stack *
fu_stack(const fu_spec *spec)
{
    static char *const timings[] = {
        "--lease-ms", FU_LEASE_MS, "--heartbeat-ms", FU_HEARTBEAT_MS,
        "--poll-ms", FU_POLL_MS, "--cancel-grace-ms", FU_GRACE_MS, NULL,
    };
    th_opts o;
    th_stack *s;
    int n = 0;

    for (int i = 0; timings[i] != NULL; i++)
        worker_argv_store[n++] = timings[i];
    for (int i = 0; spec->worker_args != NULL && spec->worker_args[i] != NULL;
         i++) {
        if (n >= 62) {
            fu_errorf("too many worker arguments");
            return NULL;
        }
        worker_argv_store[n++] = spec->worker_args[i];
    }
    worker_argv_store[n] = NULL;
    memset(&o, 0, sizeof o);
    o.api_bin = HT_API_BIN;
    o.worker_bin = HT_WORKER_BIN;
    o.workers = spec->workers;
    o.api_args = spec->api_args;
    o.worker_args = worker_argv_store;
    o.pg_url = spec->pg_url;
    s = th_stack_new(spec->name, &o);
    if (s == NULL)
        return NULL;
    if (th_migrate(s) != 0 || th_sql_exec(s, AUDIT_SQL) != 0)
        goto fail;
    if (spec->no_api)
        return s;
    if (th_api_start(s) != 0)
        goto fail;
    if (!spec->no_worker && th_worker_start(s) != 0)
        goto fail;
    return s;
fail:
    (void) th_stack_free(s);
    return NULL;
}

char *const *
fu_worker_argv(const th_stack *s)
{
    (void) s;
    return worker_argv_store;
}

int
fu_submit_port(int port, const char *script, int64_t marker, int64_t *id)
{
    json_t *req, *tid;
    char *body;
    th_resp r;
    int status;

    req = marker >= 0
              ? json_pack("{s:s, s:{s:I}, s:s}", "gremlin", script, "bindings",
                          "marker", (json_int_t) marker, "language",
                          "gremlin-groovy")
              : json_pack("{s:s, s:s}", "gremlin", script, "language",
                          "gremlin-groovy");
    if (req == NULL)
        return -1;
    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (body == NULL)
        return -1;
    if (th_http_try(port, "POST", "/graphs/hugegraph/jobs/gremlin", body,
                    "application/json", &r) != 0) {
        free(body);
        return -1;
    }
    free(body);
    status = r.status;
    tid = r.json != NULL ? json_object_get(r.json, "task_id") : NULL;
    if (status == 201) {
        if (!json_is_integer(tid)) {
            fu_errorf("201 without a task_id: %s", r.body);
            status = -1;
        } else {
            *id = (int64_t) json_integer_value(tid);
        }
    }
    th_resp_fini(&r);
    return status;
}

int
fu_submit(th_stack *s, const char *script, int64_t marker, int64_t *id)
{
    return fu_submit_port(s->http_port, script, marker, id);
}

int
fu_cancel(th_stack *s, int64_t id)
{
    char path[128];
    th_resp r;
    int status;

    snprintf(path, sizeof path,
             "/graphs/hugegraph/tasks/%" PRId64 "?action=cancel", id);
    if (th_http_try(s->http_port, "PUT", path, NULL, NULL, &r) != 0)
        return -1;
    status = r.status;
    th_resp_fini(&r);
    return status;
}

typedef struct sql_pred {
    th_stack   *s;
    const char *sql;
} sql_pred;

static int
sql_true(void *arg)
{
    sql_pred *p = arg;
    char v[16];

    if (th_sql_scalar(p->s, p->sql, v, sizeof v) != 0)
        return 0; /* the database may be restarting: ask again */
    return strcmp(v, "t") == 0;
}

int
fu_wait_sql(th_stack *s, const char *what, double seconds, const char *sql)
{
    sql_pred p = { s, sql };

    return th_wait_until(what, seconds, 50, sql_true, &p);
}

int
fu_i64(th_stack *s, int64_t *out, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return th_sql_i64(s, sql, out);
}

int
fu_str(th_stack *s, char *out, size_t size, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return th_sql_scalar(s, sql, out, size);
}

int
fu_exec(th_stack *s, const char *fmt, ...)
{
    char sql[8192];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return th_sql_exec(s, sql);
}

int
fu_wait(th_stack *s, const char *what, double seconds, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return fu_wait_sql(s, what, seconds, sql);
}

pid_t
fu_running_pid(th_stack *s, int64_t id, int attempt, double seconds)
{
    char what[96];
    int64_t pid;

    snprintf(what, sizeof what, "task %" PRId64 " running (attempt %d)", id,
             attempt);
    if (fu_wait(s, what, seconds,
                "SELECT count(*) = 1 FROM tasks WHERE graph = 'hugegraph'"
                " AND id = %" PRId64 " AND status = 'running' AND (%d <= 0"
                " OR attempt = %d)", id, attempt, attempt) != 0)
        return 0;
    if (fu_i64(s, &pid,
               "SELECT split_part(server, ':', -1)::bigint FROM tasks"
               " WHERE graph = 'hugegraph' AND id = %" PRId64, id) != 0)
        return 0;
    return (pid_t) pid;
}

int
fu_worker_pids(th_stack *s, pid_t *out, int max)
{
    if (s->worker.pid == 0)
        return 0;
    return th_pid_children(s->worker.pid, out, max);
}

int
fu_log_count(const th_stack *s, const char *const *needles)
{
    FILE *f = fopen(s->worker.log_path, "r");
    char line[4096];
    int n = 0;

    if (f == NULL) {
        fu_errorf("could not read %s", s->worker.log_path);
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        int all = 1;

        for (int i = 0; needles[i] != NULL && all; i++)
            all = strstr(line, needles[i]) != NULL;
        n += all;
    }
    fclose(f);
    return n;
}

int
fu_wait_all_done(th_stack *s, double seconds)
{
    return fu_wait_sql(s, "every task completed", seconds,
                       "SELECT count(*) = 0 FROM tasks WHERE status NOT IN "
                       COMPLETED);
}

int
fu_audit_violations(th_stack *s, int64_t *out)
{
    int64_t changed, entered;

    if (th_sql_i64(s,
                   "SELECT count(*) FROM fault_audit WHERE old_status IN "
                   COMPLETED, &changed) != 0 ||
        th_sql_i64(s,
                   "SELECT count(*) FROM tasks t WHERE t.status IN " COMPLETED
                   " AND (SELECT count(*) FROM fault_audit a WHERE"
                   " a.graph = t.graph AND a.id = t.id AND a.new_status IN "
                   COMPLETED " AND a.old_status NOT IN " COMPLETED ") <> 1",
                   &entered) != 0)
        return -1;
    if (changed != 0)
        fu_errorf("%" PRId64 " updates touched a completed row", changed);
    if (entered != 0)
        fu_errorf("%" PRId64 " tasks did not complete exactly once", entered);
    *out = changed + entered;
    return 0;
}

void
fu_filter(void)
{
    const char *f = getenv("FAULT_FILTER");

    if (f != NULL && *f != '\0')
        cmocka_set_test_filter(f);
}

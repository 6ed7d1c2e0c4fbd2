/*
 * tests/fault/fault_util.h - what every fault test needs on top of the
 * harness: a stack with short leases, submissions with a marker binding,
 * waiting on SQL, finding the worker process that runs a task, and an
 * audit trigger that records every change of a task row.
 *
 * The audit trigger is test instrumentation, installed into the test's
 * database after migrating: one fault_audit row per UPDATE of tasks (old
 * and new status and attempt), so a test can prove that a completed row
 * never changed again and that each task entered a completed status once.
 *
 * Like the harness, nothing here asserts: functions return -1 (with a
 * message) and the tests assert.
 */
#ifndef HT_FAULT_UTIL_H
#define HT_FAULT_UTIL_H

#include <stdint.h>
#include <sys/types.h>

#include "tests/harness/harness.h"

/* The short timings every fault test runs with (worker flags). */
#define FU_LEASE_MS     "1500"
#define FU_HEARTBEAT_MS "200"
#define FU_POLL_MS      "200"
#define FU_GRACE_MS     "1000"

/*
 * A started stack: migrates, installs the audit trigger, starts the api and
 * (unless no_worker) the worker with FU_* timings plus worker_args.  NULL on
 * failure.  pg_url: a private cluster's admin URL, or NULL for HT_TEST_PGURL.
 */
typedef struct fu_spec {
    const char  *name;
    int          workers;
    char *const *api_args;
    char *const *worker_args;  /* after the FU_* timings: may override them */
    const char  *pg_url;
    int          no_worker;    /* start only the api */
    int          no_api;       /* migrate only; the test starts the rest */
} fu_spec;
th_stack *fu_stack(const fu_spec *spec);

/* The worker argument list fu_stack used (FU_* timings + worker_args). */
char *const *fu_worker_argv(const th_stack *s);

/*
 * POSTs a gremlin job to graph hugegraph on port with bindings
 * {"marker": marker} (none when marker < 0).  Returns the HTTP status (201
 * with *id set), or -1 on a transport error (quiet: the api may be dying).
 */
int fu_submit_port(int port, const char *script, int64_t marker, int64_t *id);
int fu_submit(th_stack *s, const char *script, int64_t marker, int64_t *id);

/* PUT .../tasks/<id>?action=cancel: the HTTP status, or -1. */
int fu_cancel(th_stack *s, int64_t id);

/* Waits until the boolean query sql (one row, one column) is true. */
int fu_wait_sql(th_stack *s, const char *what, double seconds,
                const char *sql);

/* A formatted th_sql_i64 / th_sql_scalar. -1 on failure. */
int fu_i64(th_stack *s, int64_t *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int fu_str(th_stack *s, char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int fu_exec(th_stack *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int fu_wait(th_stack *s, const char *what, double seconds,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The pid of the worker process running task id (from tasks.server), when
 * it is running with that attempt (attempt <= 0: any).  Waits up to seconds
 * for it.  0 when it never was. */
pid_t fu_running_pid(th_stack *s, int64_t id, int attempt, double seconds);

/* The current worker processes of the stack's supervisor (at most max). */
int fu_worker_pids(th_stack *s, pid_t *out, int max);

/* Counts lines of the worker log containing every one of the given
 * strings (NULL-terminated list). -1 if the log cannot be read. */
int fu_log_count(const th_stack *s, const char *const *needles);

/* Nothing left running, cancelling or queued (graph hugegraph). */
int fu_wait_all_done(th_stack *s, double seconds);

/* Completed rows that changed status again, and tasks that entered a
 * completed status other than exactly once (audit trigger): both 0 when
 * the accounting holds.  -1 on failure. */
int fu_audit_violations(th_stack *s, int64_t *out);

/* FAULT_FILTER=<glob> runs only the matching tests (cmocka's filter). */
void fu_filter(void);

#endif

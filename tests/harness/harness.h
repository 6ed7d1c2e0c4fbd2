/*
 * tests/harness/harness.h - run the real hugetask processes for a test.
 *
 * An integration test makes one th_stack: a fresh database
 * (ht_<test>_<pid>_<n>) in the PostgreSQL that HT_TEST_PGURL names, a
 * temporary directory for the process logs, and hugetask-api plus
 * hugetask-worker started as children on free ports.  The test talks to
 * them over HTTP with th_http() and may look at the database with
 * th_sql_scalar().
 *
 * Invariants: every function checks what libc and libpq return and reports a
 * failure on stderr, naming what it tried; the harness never aborts the test
 * itself, it returns -1 (or NULL) and the test asserts.  Deadlines are given
 * in seconds at multiplier 1 and scaled by HT_TEST_TIMEOUT_MULT (sanitizers
 * and valgrind are slower).  th_stack_free() prints every process's log on
 * stderr unless th_stack_passed() was called, so a failing test under
 * `ctest --output-on-failure` shows what the daemons said.  HT_TEST_KEEP=1
 * keeps the temporary directory and the database.
 *
 * Children are put in their own process groups (so a kill reaches a worker
 * supervisor's processes too) and die with the test process (PDEATHSIG).
 *
 * A fault test that must stop or crash PostgreSQL itself makes a private
 * cluster with th_pg_new() (pg.c) and points the stack at it through
 * th_opts.pg_url; every other test shares the run's server.
 *
 * Not here: cmocka (the harness works with any test framework), assertions
 * about the API's answers (the tests make those).
 */
#ifndef HT_TEST_HARNESS_H
#define HT_TEST_HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- time ---------------------------------------------------------- */

/* HT_TEST_TIMEOUT_MULT (a positive number), or 1 when unset or invalid. */
double th_timeout_mult(void);
/* Milliseconds on the monotonic clock / since the epoch. */
int64_t th_mono_ms(void);
int64_t th_epoch_ms(void);
void th_sleep_ms(int64_t ms);

/*
 * Calls pred(arg) every interval_ms until it returns 1 (returns 0), it
 * returns -1 (returns -1 at once), or seconds * th_timeout_mult() pass
 * (prints "timed out waiting for <what>" and returns -1).
 */
typedef int (*th_pred)(void *arg);
int th_wait_until(const char *what, double seconds, int interval_ms,
                  th_pred pred, void *arg);

/* ---- processes ----------------------------------------------------- */

typedef struct th_proc {
    char  name[32];        /* "api", "worker", "migrate" */
    char  log_path[4096];  /* stdout and stderr, appended across restarts */
    pid_t pid;             /* 0 when not running */
    int   status;          /* waitpid status of the last exit */
    int   unclean;         /* it once ended other than by exit 0 or
                            * SIGTERM, without th_proc_kill9 or th_proc_stop
                            * having to kill it: a crash, a sanitizer report.
                            * A test expecting that clears it. */
} th_proc;

/*
 * Starts argv[0] with argv, stdout and stderr appended to p->log_path, in a
 * new process group, killed if the test process dies.  env ("K=V" strings,
 * NULL-terminated, may be NULL) is added to the child's environment.
 * Returns 0, or -1 if fork or exec setup failed.
 */
int th_proc_spawn(th_proc *p, char *const argv[], char *const env[]);
/* The same, run as user (by name; we must be root) when user is not NULL. */
int th_proc_spawn_user(th_proc *p, char *const argv[], char *const env[],
                       const char *user);
/* 1 if running; 0 if it has exited (reaped, p->status set, p->pid = 0). */
int th_proc_alive(th_proc *p);
/* Waits up to seconds (scaled) for an exit; 0 when it exited, else -1. */
int th_proc_wait(th_proc *p, double seconds);
/* SIGTERM, up to 10 s (scaled) for it to exit, then SIGKILL to its process
 * group.  Always reaps it.  0 if it exited cleanly (exit 0 or SIGTERM), -1
 * if it had to be killed or exited otherwise (message printed). */
int th_proc_stop(th_proc *p);
/* SIGKILL to its process group at once, and reap (for crash tests). */
void th_proc_kill9(th_proc *p);
/* SIGKILL to p's own pid only, not its group, then reap it: what a crash
 * of that one process looks like to its children (a supervisor's workers
 * must then go by themselves).  The group is not killed afterwards either. */
void th_proc_kill9_only(th_proc *p);
/* Sends sig to any pid (a worker process the test did not start itself).
 * 0, or -1 with a message (ESRCH included). */
int th_pid_signal(pid_t pid, int sig);
/* 1 if pid exists and is not a zombie, else 0. */
int th_pid_alive(pid_t pid);
/* The children of pid (from /proc), at most max of them: how many, or -1. */
int th_pid_children(pid_t pid, pid_t *out, int max);
/* Describes p->status ("exit 0", "signal 9") into buf; returns buf. */
const char *th_proc_status_str(const th_proc *p, char *buf, size_t size);

/* ---- the stack ----------------------------------------------------- */

typedef struct th_opts {
    const char *api_bin;      /* required: path to hugetask-api */
    const char *worker_bin;   /* required: path to hugetask-worker */
    int workers;              /* --workers; 0 means 2 */
    char *const *api_args;    /* extra arguments, NULL-terminated, or NULL */
    char *const *worker_args;
    char *const *env;         /* extra "K=V" for both daemons, or NULL */
    const char *pg_url;       /* admin URL of the server to use instead of
                               * HT_TEST_PGURL (a th_pg's url), or NULL */
} th_opts;

typedef struct th_stack {
    th_opts opts;
    char    name[48];        /* sanitised test name */
    char    tmpdir[4096];
    char    dbname[64];
    char    db_url[1024];    /* postgresql://.../<dbname> */
    char    admin_url[1024]; /* HT_TEST_PGURL */
    int     http_port;
    int     pub_port;
    th_proc migrate;
    th_proc api;
    th_proc worker;
    int     passed;
    void   *db;              /* PGconn to db_url, opened on first SQL */
} th_stack;

/*
 * Creates the temporary directory and the database; starts nothing.  Fails
 * (NULL, with a message) when HT_TEST_PGURL is unset: integration tests do
 * not pass without a database.  name: the test's name (any text).
 */
th_stack *th_stack_new(const char *name, const th_opts *opts);
/*
 * Migrates (hugetask-api --migrate, must exit 0), then starts the api and
 * the worker on newly picked ports and waits until GET /versions is 200.
 * 0 or -1 (after stopping whatever it started).
 */
int th_stack_start(th_stack *s);
/* Stops the worker, then the api.  0, or -1 if either had to be killed. */
int th_stack_stop(th_stack *s);
/* The pieces of th_stack_start, for fault tests.  th_api_start picks new
 * ports and waits for readiness; th_worker_start does not wait. */
int th_migrate(th_stack *s);
int th_api_start(th_stack *s);
int th_worker_start(th_stack *s);
/* Polls GET /versions until 200 (deadline seconds, scaled). */
int th_api_wait_ready(th_stack *s, double seconds);
/* Marks the test as passed: th_stack_free then prints no logs. */
void th_stack_passed(th_stack *s);
/* Prints every process's log (the last 256 KiB of each) on stderr. */
void th_stack_dump_logs(const th_stack *s);
/*
 * Stops the processes, drops the database, removes the temporary directory
 * (both kept with HT_TEST_KEEP=1), dumps logs unless passed.  Returns 0, or
 * -1 when the api or the worker ended uncleanly at any time (crash,
 * sanitizer report at exit, ignored SIGTERM): logs are dumped then too, and
 * a cmocka teardown should return it so the test fails.  NULL is fine.
 */
int th_stack_free(th_stack *s);

/* A free TCP port on 127.0.0.1 (bind to port 0), or -1. */
int th_free_port(void);

/* ---- HTTP ---------------------------------------------------------- */

typedef struct th_resp {
    int     status;        /* e.g. 200 */
    char   *body;          /* NUL-terminated (also when empty); malloc'd */
    size_t  body_len;
    char    content_type[128];
    json_t *json;          /* body parsed (any JSON value), or NULL */
} th_resp;

/*
 * One HTTP/1.1 request to 127.0.0.1:port with Connection: close.  body may
 * be NULL (no body; PUT/POST/DELETE then send Content-Length: 0); ctype
 * defaults to application/json when body is set.  Decodes Content-Length
 * and chunked replies.  Returns 0 and fills *out (free with th_resp_fini),
 * or -1 on a transport or protocol error (message printed, *out empty).
 * The whole exchange has a 30 s (scaled) deadline.
 */
int th_http_port(int port, const char *method, const char *path,
                 const char *body, const char *ctype, th_resp *out);
/* The same, but prints nothing on transport errors (for polling a server
 * that may not listen yet). */
int th_http_try(int port, const char *method, const char *path,
                const char *body, const char *ctype, th_resp *out);
/* th_http_port to the stack's api. */
int th_http(th_stack *s, const char *method, const char *path,
            const char *body, const char *ctype, th_resp *out);
void th_resp_fini(th_resp *r);

/* ---- task helpers -------------------------------------------------- */

/* POST /graphs/<graph>/jobs/gremlin {"gremlin": script, "bindings": {},
 * "language": "gremlin-groovy", "aliases": {}}; expects 201 {"task_id": N}.
 * 0 and *id, or -1 (reply printed). */
int th_submit_gremlin(th_stack *s, const char *graph, const char *script,
                      int64_t *id);
/*
 * Polls GET /graphs/<graph>/tasks/<id> every interval_ms until task_status
 * equals status.  0 and, if task is not NULL, the task object (caller
 * json_decref's it); -1 on timeout (last reply printed), HTTP error, or
 * when the task reaches another completed status (success, failed,
 * cancelled) first.
 */
int th_wait_task_status(th_stack *s, const char *graph, int64_t id,
                        const char *status, double seconds, int interval_ms,
                        json_t **task);

/* ---- SQL ----------------------------------------------------------- */

/* Runs sql on the test database; copies the first column of the first row
 * into out (empty string for NULL).  0, or -1 (no row is an error). */
int th_sql_scalar(th_stack *s, const char *sql, char *out, size_t size);
/* The same, parsed as an integer. */
int th_sql_i64(th_stack *s, const char *sql, int64_t *out);
/* Runs a statement that returns no rows (or whose rows are ignored). */
int th_sql_exec(th_stack *s, const char *sql);
/* The stack's own PGconn * (opened, or reopened after a restart), for
 * queries that need more than one value; NULL on failure. */
void *th_sql_conn(th_stack *s);
/* The SQL functions above reconnect once when the server went away (a
 * restarted PostgreSQL), so a test can go on asking after a restart. */

/* ---- a private PostgreSQL (pg.c) ----------------------------------- */

typedef struct th_pg {
    char    dir[2048];      /* temporary directory: data/, postgres.log */
    char    data[4096];
    char    url[1024];      /* postgresql://postgres@127.0.0.1:<port>/postgres */
    int     port;
    th_proc proc;           /* the postmaster, our child */
} th_pg;

/*
 * initdb's a new cluster in a fresh temporary directory (as the postgres
 * user when we are root: initdb refuses root) and starts it on a free port
 * with deploy/lib.sh's settings.  NULL on failure (message printed).
 */
th_pg *th_pg_new(void);
/* Starts the postmaster (same port) and waits until it accepts
 * connections.  0 or -1. */
int th_pg_start(th_pg *pg);
/* Fast shutdown (SIGINT: open transactions roll back, clients are cut off)
 * and wait for the exit.  0, or -1 if it had to be killed. */
int th_pg_stop(th_pg *pg);
/* SIGKILL to the postmaster's group: a crash; the next start recovers. */
void th_pg_kill9(th_pg *pg);
/* Stops (fast) and starts again on the same port. */
int th_pg_restart(th_pg *pg);
/* Stops it and removes the directory (kept with HT_TEST_KEEP=1, when the
 * log is also printed).  NULL is fine. */
void th_pg_free(th_pg *pg);

#endif

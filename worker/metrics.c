/*
 * worker/metrics.c - shared counters and their Prometheus text (see
 * metrics.h).
 *
 * The mapping holds only _Atomic uint64_t counters, so every process may
 * write it at any time without a lock, and a process killed mid-update
 * leaves at worst one observation counted in the bucket but not yet in the
 * sum.  Histogram buckets are stored per bucket and summed into Prometheus'
 * cumulative form when rendered.
 */
#include "worker/metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "common/util.h"

typedef struct shm {
    _Atomic uint64_t finished[WK_N_OUTCOMES];
    _Atomic uint64_t fenced;
    _Atomic uint64_t run_bucket[WK_N_RUN_BUCKETS + 1];
    _Atomic uint64_t run_count;
    _Atomic uint64_t run_sum_us;
    _Atomic uint64_t claims;
    _Atomic uint64_t claimed;
    _Atomic uint64_t claim_bucket[WK_N_CLAIM_BUCKETS + 1];
    _Atomic uint64_t retried;
    _Atomic uint64_t rescued;
    _Atomic uint64_t retention_passes;
    _Atomic uint64_t retention_tasks;
    _Atomic uint64_t retention_events;
} shm;

static const uint64_t run_le_us[WK_N_RUN_BUCKETS] = { WK_RUN_BUCKETS_US };
static const uint64_t claim_le[WK_N_CLAIM_BUCKETS] = { WK_CLAIM_BUCKETS };

/* Set in the supervisor before the first fork; children inherit it. */
static shm *shared;
/* Per process: when the current job began (monotonic microseconds). */
static uint64_t job_began_us;

#define ADD(field, n) atomic_fetch_add_explicit(&(field), (uint64_t) (n), \
                                                memory_order_relaxed)
#define GET(field)    atomic_load_explicit(&(field), memory_order_relaxed)

static uint64_t
now_us(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int
bucket_of(const uint64_t *le, int n, uint64_t v)
{
    int i = 0;

    while (i < n && v > le[i])
        i++;
    return i; /* n = +Inf */
}

int
wk_metrics_init(void)
{
    void *p;

    if (shared != NULL)
        return 0;
    p = mmap(NULL, sizeof(shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
             -1, 0);
    if (p == MAP_FAILED)
        return -1;
    /* A fresh anonymous mapping is zero-filled: every counter starts at 0. */
    shared = p;
    return 0;
}

void
wk_metrics_fini(void)
{
    if (shared != NULL)
        (void) munmap(shared, sizeof(shm));
    shared = NULL;
}

void
wk_metrics_snapshot(wk_metrics_snap *o)
{
    memset(o, 0, sizeof(*o));
    if (shared == NULL)
        return;
    for (int i = 0; i < WK_N_OUTCOMES; i++)
        o->finished[i] = GET(shared->finished[i]);
    o->fenced = GET(shared->fenced);
    for (int i = 0; i <= WK_N_RUN_BUCKETS; i++)
        o->run_bucket[i] = GET(shared->run_bucket[i]);
    o->run_count = GET(shared->run_count);
    o->run_sum_us = GET(shared->run_sum_us);
    o->claims = GET(shared->claims);
    o->claimed = GET(shared->claimed);
    for (int i = 0; i <= WK_N_CLAIM_BUCKETS; i++)
        o->claim_bucket[i] = GET(shared->claim_bucket[i]);
    o->retried = GET(shared->retried);
    o->rescued = GET(shared->rescued);
    o->retention_passes = GET(shared->retention_passes);
    o->retention_tasks = GET(shared->retention_tasks);
    o->retention_events = GET(shared->retention_events);
}

/* ---- hooks ---------------------------------------------------------- */

void
wk_metrics_final(int st)
{
    if (shared == NULL)
        return;
    if (st < 0)
        ADD(shared->fenced, 1);
    else if (st == HT_TASK_SUCCESS)
        ADD(shared->finished[WK_OUT_SUCCESS], 1);
    else if (st == HT_TASK_FAILED)
        ADD(shared->finished[WK_OUT_FAILED], 1);
    else if (st == HT_TASK_CANCELLED)
        ADD(shared->finished[WK_OUT_CANCELLED], 1);
}

void
wk_metrics_job_begin(void)
{
    job_began_us = now_us();
}

void
wk_metrics_job_end(void)
{
    uint64_t t = now_us();
    uint64_t us;

    if (shared == NULL || job_began_us == 0)
        return;
    us = t > job_began_us ? t - job_began_us : 0;
    job_began_us = 0;
    ADD(shared->run_bucket[bucket_of(run_le_us, WK_N_RUN_BUCKETS, us)], 1);
    ADD(shared->run_sum_us, us);
    ADD(shared->run_count, 1);
}

void
wk_metrics_claimed(const ht_claim *c, int n)
{
    uint64_t re = 0;

    if (shared == NULL || n <= 0)
        return;
    for (int i = 0; i < n; i++)
        re += c[i].retries > 0;
    ADD(shared->claims, 1);
    ADD(shared->claimed, n);
    ADD(shared->claim_bucket[bucket_of(claim_le, WK_N_CLAIM_BUCKETS, (uint64_t) n)], 1);
    if (re > 0)
        ADD(shared->retried, re);
}

void
wk_metrics_rescued(int n)
{
    if (shared != NULL && n > 0)
        ADD(shared->rescued, n);
}

void
wk_metrics_retention(int64_t tasks, int64_t events)
{
    if (shared == NULL)
        return;
    ADD(shared->retention_passes, 1);
    if (tasks > 0)
        ADD(shared->retention_tasks, tasks);
    if (events > 0)
        ADD(shared->retention_events, events);
}

void
wk_metrics_snap_observe(wk_metrics_snap *s, uint64_t us)
{
    s->run_bucket[bucket_of(run_le_us, WK_N_RUN_BUCKETS, us)]++;
    s->run_sum_us += us;
    s->run_count++;
}

/* ---- rendering ------------------------------------------------------ */

typedef struct buf {
    char  *p;
    size_t len, cap;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(buf *b, const char *fmt, ...)
{
    va_list ap;
    int     n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        HT_ASSERT(n >= 0);
        if ((size_t) n < b->cap - b->len) {
            b->len += (size_t) n;
            return;
        }
        b->cap = b->cap * 2 + (size_t) n;
        b->p = ht_xrealloc(b->p, b->cap);
    }
}

/* A label value with \, " and newline escaped, as the format asks. */
static void
escape_label(char *out, size_t size, const char *s)
{
    size_t o = 0;

    for (; *s != '\0' && o + 3 < size; s++) {
        if (*s == '\\' || *s == '"') {
            out[o++] = '\\';
            out[o++] = *s;
        } else if (*s == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}

static void
head(buf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(buf *b, const char *name, const char *type, const char *help,
    const char *lab, uint64_t v)
{
    head(b, name, type, help);
    put(b, "%s{%s} %llu\n", name, lab, (unsigned long long) v);
}

/* Seconds from microseconds, without a trailing run of zeros. */
static void
secs(char *out, size_t size, uint64_t us)
{
    (void) snprintf(out, size, "%llu.%06llu", (unsigned long long) (us / 1000000u),
                    (unsigned long long) (us % 1000000u));
    for (size_t n = strlen(out); n > 0 && out[n - 1] == '0'; n--)
        out[n - 1] = '\0';
    if (out[strlen(out) - 1] == '.')
        out[strlen(out) - 1] = '\0';
}

void
wk_metrics_render(const wk_metrics_snap *s, const wk_pool_gauges *g,
                  const char *server, char **out, size_t *len)
{
    buf      b = { ht_xmalloc(8192), 0, 8192 };
    char     esc[512], lab[600], le[32];
    uint64_t cum;
    static const char *const outcome[WK_N_OUTCOMES] = { "success", "failed",
                                                        "cancelled" };

    escape_label(esc, sizeof(esc), server);
    (void) snprintf(lab, sizeof(lab), "server=\"%s\"", esc);
    b.p[0] = '\0';

    head(&b, "hugetask_worker_jobs_total", "counter",
         "Final statuses written by this daemon's worker processes, by status written.");
    for (int i = 0; i < WK_N_OUTCOMES; i++)
        put(&b, "hugetask_worker_jobs_total{%s,outcome=\"%s\"} %llu\n", lab, outcome[i],
            (unsigned long long) s->finished[i]);
    one(&b, "hugetask_worker_jobs_fenced_total", "counter",
        "Final writes that changed nothing: the task was no longer this attempt's.",
        lab, s->fenced);
    one(&b, "hugetask_worker_job_retries_total", "counter",
        "Runs started of tasks that had been re-queued after a lost worker (task_retries > 0).",
        lab, s->retried);
    one(&b, "hugetask_worker_rescued_total", "counter",
        "Tasks with an expired lease that this daemon's rescue re-queued, failed or cancelled.",
        lab, s->rescued);

    head(&b, "hugetask_worker_job_duration_seconds", "histogram",
         "Run time of one job, from its start in a worker process to its final write.");
    cum = 0;
    for (int i = 0; i < WK_N_RUN_BUCKETS; i++) {
        cum += s->run_bucket[i];
        secs(le, sizeof(le), run_le_us[i]);
        put(&b, "hugetask_worker_job_duration_seconds_bucket{%s,le=\"%s\"} %llu\n", lab, le,
            (unsigned long long) cum);
    }
    cum += s->run_bucket[WK_N_RUN_BUCKETS];
    put(&b, "hugetask_worker_job_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", lab,
        (unsigned long long) cum);
    secs(le, sizeof(le), s->run_sum_us);
    put(&b, "hugetask_worker_job_duration_seconds_sum{%s} %s\n", lab, le);
    put(&b, "hugetask_worker_job_duration_seconds_count{%s} %llu\n", lab,
        (unsigned long long) s->run_count);

    one(&b, "hugetask_worker_claims_total", "counter",
        "Claim statements that returned at least one task.", lab, s->claims);
    one(&b, "hugetask_worker_claimed_tasks_total", "counter",
        "Tasks claimed (moved from queued to running).", lab, s->claimed);
    head(&b, "hugetask_worker_claim_batch_size", "histogram",
         "Tasks per claim statement.");
    cum = 0;
    for (int i = 0; i < WK_N_CLAIM_BUCKETS; i++) {
        cum += s->claim_bucket[i];
        put(&b, "hugetask_worker_claim_batch_size_bucket{%s,le=\"%llu\"} %llu\n", lab,
            (unsigned long long) claim_le[i], (unsigned long long) cum);
    }
    cum += s->claim_bucket[WK_N_CLAIM_BUCKETS];
    put(&b, "hugetask_worker_claim_batch_size_bucket{%s,le=\"+Inf\"} %llu\n", lab,
        (unsigned long long) cum);
    put(&b, "hugetask_worker_claim_batch_size_sum{%s} %llu\n", lab,
        (unsigned long long) s->claimed);
    put(&b, "hugetask_worker_claim_batch_size_count{%s} %llu\n", lab,
        (unsigned long long) s->claims);

    one(&b, "hugetask_worker_retention_passes_total", "counter",
        "Retention passes this daemon ran to the end.", lab, s->retention_passes);
    one(&b, "hugetask_worker_retention_deleted_tasks_total", "counter",
        "Completed tasks deleted by retention.", lab, s->retention_tasks);
    one(&b, "hugetask_worker_retention_deleted_events_total", "counter",
        "task_events rows deleted by retention.", lab, s->retention_events);

    one(&b, "hugetask_worker_processes_alive", "gauge",
        "Worker processes running now.", lab, (uint64_t) (g->alive > 0 ? g->alive : 0));
    one(&b, "hugetask_worker_processes_configured", "gauge",
        "Worker processes the supervisor keeps (--workers).", lab,
        (uint64_t) (g->configured > 0 ? g->configured : 0));
    one(&b, "hugetask_worker_process_restarts_total", "counter",
        "Worker processes forked again after one died.", lab, g->restarts);
    head(&b, "hugetask_worker_start_time_seconds", "gauge",
         "When the supervisor started, seconds since the epoch.");
    put(&b, "hugetask_worker_start_time_seconds{%s} %lld.%03lld\n", lab,
        (long long) (g->started_ms / 1000), (long long) (g->started_ms % 1000));
    *out = b.p;
    *len = b.len;
}

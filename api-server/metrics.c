/*
 * api-server/metrics.c - counters, histograms and the exposition text (see
 * metrics.h).
 *
 * Invariants: the request path only does relaxed atomic adds on fixed
 * arrays (no lock, no allocation); a scrape reads those arrays without
 * stopping anyone, so a histogram's buckets and its _count are read from
 * the same loads (count is their sum) and agree, while _sum may be a few
 * observations ahead or behind.  The PostgreSQL part of a scrape is
 * formatted once per API_METRICS_DB_CACHE_MS by whichever scrape finds it
 * stale; concurrent scrapes meanwhile serve the previous text, so only the
 * very first scrapes of a process ever wait for a query.
 *
 * Not here: routing (routes_ops.c serves the reply), the SQL
 * (common/store_stats.c).
 */
#include "api-server/metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/log.h"
#include "common/task.h"
#include "common/util.h"

#define N_CODES (API_CODE_MAX - API_CODE_MIN + 1)

typedef _Atomic uint64_t counter;

static const int64_t bucket_us[API_LATENCY_BUCKETS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000,
};
/* The same bounds as the le label writes them. */
static const char *const bucket_le[API_LATENCY_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25", "0.5", "1", "2.5", "5", "10",
};

#define API_X_NAME(id, name) name,
static const char *const method_names[] = { API_METHOD_LIST(API_X_NAME) };
static const char *const auth_names[] = { API_AUTH_RESULT_LIST(API_X_NAME) };
static const char *const status_names[] = { HT_TASK_STATUS_LIST(API_X_NAME) };
#undef API_X_NAME

struct api_metrics {
    counter requests[API_ROUTE_COUNT][API_METHOD_COUNT][N_CODES];
    /* Per route: one count per bucket, the last one past every bound. */
    counter latency[API_ROUTE_COUNT][API_LATENCY_BUCKETS + 1];
    counter latency_sum_us[API_ROUTE_COUNT];
    counter auth[API_AUTH_RESULT_COUNT];
    _Atomic int64_t inflight;
    int64_t start_epoch_ms;
    int64_t start_mono_ms;

    /* The cached PostgreSQL part; everything below under lock. */
    pthread_mutex_t lock;
    pthread_cond_t  refreshed;
    char           *db_text;    /* malloc'd; NULL before the first scrape */
    int64_t         db_at_ms;   /* monotonic time it was made */
    int             refreshing; /* a scrape is querying now */
};

api_method
api_method_of(const char *method)
{
    for (int i = 0; method != NULL && i < API_METHOD_OTHER; i++)
        if (strcmp(method, method_names[i]) == 0)
            return (api_method) i;
    return API_METHOD_OTHER;
}

const char *
api_method_name(api_method m)
{
    return (unsigned) m < API_METHOD_COUNT ? method_names[m]
                                           : method_names[API_METHOD_OTHER];
}

api_metrics *
api_metrics_new(void)
{
    api_metrics *m = ht_xcalloc(1, sizeof(*m));

    /* calloc's zero bytes are the zero value of every counter here (the
     * lock-free atomics of every platform we build on). */
    m->start_epoch_ms = ht_now_epoch_ms();
    m->start_mono_ms = ht_now_mono_ms();
    HT_ASSERT(pthread_mutex_init(&m->lock, NULL) == 0);
    HT_ASSERT(pthread_cond_init(&m->refreshed, NULL) == 0);
    return m;
}

void
api_metrics_free(api_metrics *m)
{
    if (m == NULL)
        return;
    (void) pthread_cond_destroy(&m->refreshed);
    (void) pthread_mutex_destroy(&m->lock);
    free(m->db_text);
    free(m);
}

void
api_metrics_count(api_metrics *m, api_route_id route, api_method method, int code)
{
    if (m == NULL || (unsigned) route >= API_ROUTE_COUNT ||
        (unsigned) method >= API_METHOD_COUNT || code < API_CODE_MIN ||
        code > API_CODE_MAX)
        return;
    atomic_fetch_add_explicit(&m->requests[route][method][code - API_CODE_MIN], 1,
                              memory_order_relaxed);
}

void
api_metrics_observe(api_metrics *m, api_route_id route, api_method method,
                    int code, int64_t duration_us)
{
    int b = 0;

    if (m == NULL || (unsigned) route >= API_ROUTE_COUNT)
        return;
    api_metrics_count(m, route, method, code);
    if (duration_us < 0)
        duration_us = 0;
    while (b < API_LATENCY_BUCKETS && duration_us > bucket_us[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us[route], (uint64_t) duration_us,
                              memory_order_relaxed);
}

void
api_metrics_inflight(api_metrics *m, int delta)
{
    if (m != NULL)
        atomic_fetch_add_explicit(&m->inflight, delta, memory_order_relaxed);
}

void
api_metrics_auth(api_metrics *m, api_auth_result result)
{
    if (m != NULL && (unsigned) result < API_AUTH_RESULT_COUNT)
        atomic_fetch_add_explicit(&m->auth[result], 1, memory_order_relaxed);
}

/* ---- text ------------------------------------------------------------ */

static int
text_reserve(api_text *t, size_t more)
{
    size_t cap;
    char  *p;

    if (t->oom)
        return -1;
    if (t->len + more + 1 <= t->cap)
        return 0;
    cap = t->cap ? t->cap : 4096;
    while (cap < t->len + more + 1)
        cap *= 2;
    p = realloc(t->p, cap);
    if (p == NULL) {
        t->oom = 1;
        return -1;
    }
    t->p = p;
    t->cap = cap;
    return 0;
}

void
api_text_printf(api_text *t, const char *fmt, ...)
{
    va_list ap;
    int     n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || text_reserve(t, (size_t) n) != 0) {
        t->oom = 1;
        return;
    }
    va_start(ap, fmt);
    (void) vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t) n;
}

void
api_text_label(api_text *t, const char *v)
{
    for (const char *p = v ? v : ""; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        size_t      n = esc ? 2 : 1;

        if (text_reserve(t, n) != 0)
            return;
        memcpy(t->p + t->len, esc ? esc : p, n);
        t->len += n;
        t->p[t->len] = '\0';
    }
}

void
api_text_fini(api_text *t)
{
    free(t->p);
    memset(t, 0, sizeof(*t));
}

static void
head(api_text *t, const char *name, const char *type, const char *help)
{
    api_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ---- the request side -------------------------------------------------- */

void
api_metrics_format_http(const api_metrics *cm, api_text *t)
{
    /* Loads on atomics need a non-const object; nothing is written. */
    api_metrics *m = (api_metrics *) cm;

    head(t, "hugetask_http_requests_total", "counter",
         "HTTP requests answered, by route pattern, method and status code.");
    for (int r = 0; r < API_ROUTE_COUNT; r++)
        for (int me = 0; me < API_METHOD_COUNT; me++)
            for (int c = 0; c < N_CODES; c++) {
                uint64_t v = atomic_load_explicit(&m->requests[r][me][c],
                                                  memory_order_relaxed);
                if (v == 0)
                    continue;
                api_text_printf(t,
                                "hugetask_http_requests_total{route=\"%s\","
                                "method=\"%s\",code=\"%d\"} %" PRIu64 "\n",
                                api_route_name((api_route_id) r),
                                method_names[me], c + API_CODE_MIN, v);
            }

    head(t, "hugetask_http_requests_in_flight", "gauge",
         "HTTP requests being served now.");
    api_text_printf(t, "hugetask_http_requests_in_flight %" PRId64 "\n",
                    atomic_load_explicit(&m->inflight, memory_order_relaxed));

    head(t, "hugetask_http_request_duration_seconds", "histogram",
         "Time from reading a request to having written its reply, by route "
         "pattern.");
    for (int r = 0; r < API_ROUTE_COUNT; r++) {
        uint64_t b[API_LATENCY_BUCKETS + 1], total = 0, cum = 0;
        const char *name = api_route_name((api_route_id) r);

        for (int i = 0; i <= API_LATENCY_BUCKETS; i++) {
            b[i] = atomic_load_explicit(&m->latency[r][i], memory_order_relaxed);
            total += b[i];
        }
        if (total == 0)
            continue;
        for (int i = 0; i < API_LATENCY_BUCKETS; i++) {
            cum += b[i];
            api_text_printf(t,
                            "hugetask_http_request_duration_seconds_bucket"
                            "{route=\"%s\",le=\"%s\"} %" PRIu64 "\n",
                            name, bucket_le[i], cum);
        }
        api_text_printf(t,
                        "hugetask_http_request_duration_seconds_bucket"
                        "{route=\"%s\",le=\"+Inf\"} %" PRIu64 "\n"
                        "hugetask_http_request_duration_seconds_sum"
                        "{route=\"%s\"} %.6f\n"
                        "hugetask_http_request_duration_seconds_count"
                        "{route=\"%s\"} %" PRIu64 "\n",
                        name, total, name,
                        (double) atomic_load_explicit(&m->latency_sum_us[r],
                                                      memory_order_relaxed) / 1e6,
                        name, total);
    }

    head(t, "hugetask_auth_checks_total", "counter",
         "Requests checked against --auth basic: let in from the cache, let "
         "in after verifying the password hash, or turned away with 401.");
    for (int i = 0; i < API_AUTH_RESULT_COUNT; i++)
        api_text_printf(t, "hugetask_auth_checks_total{result=\"%s\"} %" PRIu64 "\n",
                        auth_names[i],
                        atomic_load_explicit(&m->auth[i], memory_order_relaxed));
}

/* ---- the PostgreSQL side ---------------------------------------------- */

static int64_t
count_of(const api_task_gauges *g, const char *graph, const char *status)
{
    for (size_t i = 0; i < g->n_counts; i++)
        if (strcmp(g->counts[i].graph, graph) == 0 &&
            strcmp(g->counts[i].status, status) == 0)
            return g->counts[i].tasks;
    return 0;
}

static int
is_known_status(const char *s)
{
    for (int i = 0; i < HT_TASK_STATUS_COUNT; i++)
        if (strcmp(status_names[i], s) == 0)
            return 1;
    return 0;
}

static int
is_served(const api_task_gauges *g, const char *graph)
{
    for (int i = 0; i < g->n_graphs; i++)
        if (strcmp(g->graphs[i], graph) == 0)
            return 1;
    return 0;
}

static void
gauge_line(api_text *t, const char *name, const char *graph, const char *status,
           const char *value)
{
    api_text_printf(t, "%s{graph=\"", name);
    api_text_label(t, graph);
    if (status != NULL) {
        api_text_printf(t, "\",status=\"");
        api_text_label(t, status);
    }
    api_text_printf(t, "\"} %s\n", value);
}

void
api_metrics_format_tasks(const api_task_gauges *g, api_text *t)
{
    char v[64];

    head(t, "hugetask_db_up", "gauge",
         "1 when PostgreSQL answered this scrape's queries, else 0 (and the "
         "task gauges are left out).");
    api_text_printf(t, "hugetask_db_up %d\n", g->db_up ? 1 : 0);
    if (!g->db_up)
        return;

    head(t, "hugetask_tasks", "gauge",
         "Tasks by graph and status, from the ht_tasks_by_status view.");
    for (int i = 0; i < g->n_graphs; i++) {
        for (int s = 0; s < HT_TASK_STATUS_COUNT; s++) {
            (void) snprintf(v, sizeof(v), "%" PRId64,
                            count_of(g, g->graphs[i], status_names[s]));
            gauge_line(t, "hugetask_tasks", g->graphs[i], status_names[s], v);
        }
    }
    /* A status no release of ours writes still shows, rather than vanish. */
    for (size_t k = 0; k < g->n_counts; k++)
        if (is_served(g, g->counts[k].graph) && !is_known_status(g->counts[k].status)) {
            (void) snprintf(v, sizeof(v), "%" PRId64, g->counts[k].tasks);
            gauge_line(t, "hugetask_tasks", g->counts[k].graph, g->counts[k].status, v);
        }

    head(t, "hugetask_queue_depth", "gauge",
         "Tasks waiting to run (new + queued) by graph.");
    for (int i = 0; i < g->n_graphs; i++) {
        (void) snprintf(v, sizeof(v), "%" PRId64,
                        count_of(g, g->graphs[i], "new") +
                            count_of(g, g->graphs[i], "queued"));
        gauge_line(t, "hugetask_queue_depth", g->graphs[i], NULL, v);
    }

    head(t, "hugetask_queue_oldest_age_seconds", "gauge",
         "Age of the oldest queued task by graph (0 when none is queued), "
         "from the ht_queue view.");
    for (int i = 0; i < g->n_graphs; i++) {
        double age = 0.0;
        for (size_t k = 0; k < g->n_ages; k++)
            if (strcmp(g->ages[k].graph, g->graphs[i]) == 0)
                age = g->ages[k].oldest_age_s;
        (void) snprintf(v, sizeof(v), "%.3f", age < 0 ? 0.0 : age);
        gauge_line(t, "hugetask_queue_oldest_age_seconds", g->graphs[i], NULL, v);
    }
}

/* ---- the process -------------------------------------------------------- */

static int
open_fds(void)
{
    DIR           *d = opendir("/proc/self/fd");
    struct dirent *e;
    int            n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    (void) closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

void
api_metrics_format_process(const api_metrics *m, api_text *t)
{
    struct rusage ru;
    FILE         *f;
    long          page = sysconf(_SC_PAGESIZE);
    int           fds;

    head(t, "hugetask_uptime_seconds", "gauge", "Seconds since this process started.");
    api_text_printf(t, "hugetask_uptime_seconds %.3f\n",
                    (double) (ht_now_mono_ms() - m->start_mono_ms) / 1000.0);
    head(t, "process_start_time_seconds", "gauge",
         "Start time of the process since the Unix epoch in seconds.");
    api_text_printf(t, "process_start_time_seconds %.3f\n",
                    (double) m->start_epoch_ms / 1000.0);
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        head(t, "process_cpu_seconds_total", "counter",
             "Total user and system CPU time spent in seconds.");
        api_text_printf(t, "process_cpu_seconds_total %.3f\n",
                        (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                            (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    }
    f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        unsigned long long size, resident;
        if (page > 0 && fscanf(f, "%llu %llu", &size, &resident) == 2) {
            head(t, "process_resident_memory_bytes", "gauge",
                 "Resident memory size in bytes.");
            api_text_printf(t, "process_resident_memory_bytes %llu\n",
                            resident * (unsigned long long) page);
            head(t, "process_virtual_memory_bytes", "gauge",
                 "Virtual memory size in bytes.");
            api_text_printf(t, "process_virtual_memory_bytes %llu\n",
                            size * (unsigned long long) page);
        }
        (void) fclose(f);
    }
    fds = open_fds();
    if (fds >= 0) {
        head(t, "process_open_fds", "gauge", "Number of open file descriptors.");
        api_text_printf(t, "process_open_fds %d\n", fds);
    }
}

/* ---- one scrape ------------------------------------------------------- */

/* Queries PostgreSQL and formats its part (malloc'd; NULL out of memory). */
static char *
db_part(const api_ctx *ctx, ht_db *db, ht_arena *a)
{
    api_task_gauges g = { 0 };
    api_text        t = { 0 };
    ht_err          err;
    int             rc;

    ht_err_clear(&err);
    g.graphs = (const char *const *) ctx->graphs;
    g.n_graphs = ctx->n_graphs;
    rc = ht_store_task_counts(db, a, g.graphs, (size_t) g.n_graphs,
                              (ht_status_count **) &g.counts, &g.n_counts, &err);
    if (rc == HT_OK)
        rc = ht_store_queue_ages(db, a, g.graphs, (size_t) g.n_graphs,
                                 (ht_queue_age **) &g.ages, &g.n_ages, &err);
    g.db_up = rc == HT_OK;
    if (!g.db_up)
        HT_LOG_WARN("metrics.db_failed", "msg=\"%s\" detail=\"%s\"", err.msg,
                    err.detail[0] ? err.detail : "none");
    api_metrics_format_tasks(&g, &t);
    if (t.oom || t.p == NULL) {
        api_text_fini(&t);
        return NULL;
    }
    return t.p;
}

static void
free_text(void *p)
{
    free(p);
}

int
api_metrics_scrape(api_metrics *m, const api_ctx *ctx, ht_db *db, ht_arena *a,
                   const char **out, size_t *len)
{
    api_text t = { 0 };
    int      refresh = 0;
    int64_t  now;

    api_metrics_format_http(m, &t);
    api_metrics_format_process(m, &t);

    HT_ASSERT(pthread_mutex_lock(&m->lock) == 0);
    /* Only before the first text exists do scrapes wait for one another. */
    while (m->db_text == NULL && m->refreshing)
        HT_ASSERT(pthread_cond_wait(&m->refreshed, &m->lock) == 0);
    now = ht_now_mono_ms();
    if (!m->refreshing &&
        (m->db_text == NULL || now - m->db_at_ms >= API_METRICS_DB_CACHE_MS)) {
        refresh = 1;
        m->refreshing = 1;
    } else {
        api_text_printf(&t, "%s", m->db_text);
    }
    HT_ASSERT(pthread_mutex_unlock(&m->lock) == 0);

    if (refresh) {
        char *fresh = db_part(ctx, db, a);

        HT_ASSERT(pthread_mutex_lock(&m->lock) == 0);
        if (fresh != NULL) {
            free(m->db_text);
            m->db_text = fresh;
            m->db_at_ms = ht_now_mono_ms();
        }
        m->refreshing = 0;
        HT_ASSERT(pthread_cond_broadcast(&m->refreshed) == 0);
        if (m->db_text != NULL)
            api_text_printf(&t, "%s", m->db_text);
        HT_ASSERT(pthread_mutex_unlock(&m->lock) == 0);
    }

    if (t.oom || t.p == NULL || ht_arena_defer(a, free_text, t.p) != 0) {
        api_text_fini(&t);
        return HT_ENOMEM;
    }
    *out = t.p;
    *len = t.len;
    return HT_OK;
}

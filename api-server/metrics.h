/*
 * api-server/metrics.h - what GET /metrics reports, in Prometheus' text
 * exposition format 0.0.4.
 *
 * Request counters and latency histograms are fixed arrays of C11 atomics
 * indexed by route pattern, method and status code: the hot path is three
 * relaxed atomic adds and takes no lock.  Task and queue gauges are read
 * from PostgreSQL (the sql/0005 views) at scrape time and cached for
 * API_METRICS_DB_CACHE_MS, so a scrape storm costs PostgreSQL one pair of
 * queries a second; only scrapes ever wait on that cache, never requests.
 *
 * The formatting functions are pure (they take the numbers, write text) so
 * tests/unit checks them without a server; api_metrics_scrape() is the
 * glue that adds the database and /proc.
 */
#ifndef API_METRICS_H
#define API_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "api-server/api.h"
#include "common/store_stats.h"

/* How long the PostgreSQL part of a scrape is reused. */
#define API_METRICS_DB_CACHE_MS 1000

/* The method label: anything else civetweb accepts counts as "other". */
#define API_METHOD_LIST(X)                                                 \
    X(API_METHOD_GET, "GET") X(API_METHOD_HEAD, "HEAD")                    \
    X(API_METHOD_POST, "POST") X(API_METHOD_PUT, "PUT")                    \
    X(API_METHOD_DELETE, "DELETE") X(API_METHOD_OPTIONS, "OPTIONS")        \
    X(API_METHOD_PATCH, "PATCH") X(API_METHOD_OTHER, "other")

#define API_X_ENUM(id, name) id,
typedef enum { API_METHOD_LIST(API_X_ENUM) API_METHOD_COUNT } api_method;
#undef API_X_ENUM

/* How an authenticated request was let in or turned away. */
#define API_AUTH_RESULT_LIST(X)                                            \
    X(API_AUTH_CACHED, "cached") X(API_AUTH_VERIFIED, "verified")          \
    X(API_AUTH_DENIED, "denied")

#define API_X_ENUM(id, name) id,
typedef enum { API_AUTH_RESULT_LIST(API_X_ENUM) API_AUTH_RESULT_COUNT } api_auth_result;
#undef API_X_ENUM

/* Status codes counted: 100..599 (anything else is not counted). */
#define API_CODE_MIN 100
#define API_CODE_MAX 599

/* Latency bucket upper bounds in microseconds (0.5 ms .. 10 s), +Inf after. */
#define API_LATENCY_BUCKETS 14

/* The method label of a request method (case-sensitive, as HTTP is). */
api_method api_method_of(const char *method);
const char *api_method_name(api_method m);

/* A new, zeroed set of counters (caller frees with api_metrics_free). */
api_metrics *api_metrics_new(void);
void         api_metrics_free(api_metrics *m);

/* One answered request: counter and latency histogram. */
void api_metrics_observe(api_metrics *m, api_route_id route, api_method method,
                         int code, int64_t duration_us);
/* A reply civetweb sent on its own (no latency measured). */
void api_metrics_count(api_metrics *m, api_route_id route, api_method method,
                       int code);
/* Requests being served now (+1 on entry, -1 on exit). */
void api_metrics_inflight(api_metrics *m, int delta);
void api_metrics_auth(api_metrics *m, api_auth_result result);

/* A growing text buffer (malloc'd).  After an allocation failure it stops
 * growing and sets oom; callers check once at the end. */
typedef struct api_text {
    char  *p;   /* NUL-terminated once anything was written */
    size_t len;
    size_t cap;
    int    oom;
} api_text;

void api_text_printf(api_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends v as a label value: backslash, double quote and newline escaped
 * as the exposition format wants. */
void api_text_label(api_text *t, const char *v);
void api_text_fini(api_text *t);

/* Request counters, in-flight gauge, latency histograms and auth counters.
 * Only series that were ever observed are written. */
void api_metrics_format_http(const api_metrics *m, api_text *t);

/* What PostgreSQL said at one scrape. */
typedef struct api_task_gauges {
    int                    db_up;    /* 0: only hugetask_db_up is written */
    const char *const     *graphs;   /* the graphs this API serves */
    int                    n_graphs;
    const ht_status_count *counts;   /* ht_tasks_by_status rows */
    size_t                 n_counts;
    const ht_queue_age    *ages;     /* ht_queue rows */
    size_t                 n_ages;
} api_task_gauges;

/* hugetask_db_up, and with the database up: tasks by graph and status (every
 * known status, 0 when absent), queue depth (new + queued) and the oldest
 * queued task's age per served graph.  Rows of graphs not served here are
 * left out. */
void api_metrics_format_tasks(const api_task_gauges *g, api_text *t);

/* Uptime, start time, CPU, resident memory and open descriptors of this
 * process (from getrusage and /proc/self; a value it cannot read is left
 * out). */
void api_metrics_format_process(const api_metrics *m, api_text *t);

/* The whole exposition text (in arena a) for one scrape; db is the calling
 * thread's connection.  A database error is hugetask_db_up 0, never a
 * failure.  HT_ENOMEM only when memory ran out. */
int api_metrics_scrape(api_metrics *m, const api_ctx *ctx, ht_db *db,
                       ht_arena *a, const char **out, size_t *len);

#endif

/*
 * common/store_stats.h - the read-only SQL behind GET /health and the task
 * gauges of GET /metrics.
 *
 * The gauges read the dashboard views of sql/0005 (ht_tasks_by_status,
 * ht_queue), so /metrics and a Grafana panel that queries PostgreSQL count
 * the same way.  None of these statements writes or locks anything a worker
 * would wait on.
 */
#ifndef HT_STORE_STATS_H
#define HT_STORE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/db.h"
#include "common/err.h"

/* One row of ht_tasks_by_status. */
typedef struct ht_status_count {
    const char *graph;  /* (in arena) */
    const char *status; /* (in arena) */
    int64_t     tasks;
} ht_status_count;

/* One row of ht_queue: a graph with queued tasks. */
typedef struct ht_queue_age {
    const char *graph;        /* (in arena) */
    int64_t     queued;
    double      oldest_age_s; /* now - the oldest queued task's created_at */
} ht_queue_age;

/* A trivial query ("is the database answering?").  HT_OK, or HT_EUNAVAIL /
 * HT_EDB with err filled (503 BackendException for HT_EUNAVAIL). */
int ht_store_ping(ht_db *db, ht_err *err);

/* The task counts of the given graphs, rows in arena a.  HT_OK, or the
 * database's error. */
int ht_store_task_counts(ht_db *db, ht_arena *a, const char *const *graphs,
                         size_t n_graphs, ht_status_count **out, size_t *n,
                         ht_err *err);

/* The queue of the given graphs (graphs with nothing queued have no row),
 * rows in arena a. */
int ht_store_queue_ages(ht_db *db, ht_arena *a, const char *const *graphs,
                        size_t n_graphs, ht_queue_age **out, size_t *n,
                        ht_err *err);

#endif

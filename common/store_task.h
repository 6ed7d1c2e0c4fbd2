/*
 * common/store_task.h - every statement on the tasks table.
 *
 * Each state change is one compare-and-set UPDATE on the current status (and,
 * for a worker, on its attempt number: the fence that makes a zombie's
 * writes change nothing).  Losing the race is an answer (HT_ECONFLICT or a
 * reported status), not an error to hide.
 */
#ifndef HT_STORE_TASK_H
#define HT_STORE_TASK_H

#include <stdint.h>

#include "common/arena.h"
#include "common/db.h"
#include "common/task.h"

/* Creates the graph's id sequence if it does not exist yet. */
int ht_store_graph_ensure(ht_db *db, const char *graph, ht_err *err);

typedef struct ht_task_new {
    const char *graph;
    const char *type;
    const char *name;
    const char *callable;
    const char *input;
    int         max_retries;
} ht_task_new;

/* Inserts a queued task; *id is its new id.  Autocommit: when this returns
 * HT_OK the row is committed. */
int ht_store_task_insert(ht_db *db, const ht_task_new *t, int64_t *id,
                         ht_err *err);

/* How many tasks of graph are queued, counting at most cap + 1 of them
 * (so the cost is bounded by the cap, not by the table). */
int ht_store_task_pending(ht_db *db, const char *graph, int64_t cap,
                          int64_t *out, ht_err *err);

/* One task with every field (strings in arena a).  HT_ENOTFOUND (404) when
 * there is none. */
int ht_store_task_get(ht_db *db, ht_arena *a, const char *graph, int64_t id,
                      ht_task *out, ht_err *err);

typedef struct ht_task_filter {
    const char    *status;   /* wire name, or NULL for any */
    int64_t        after_id; /* keyset: ids greater than this */
    int64_t        limit;    /* -1 = all */
    const int64_t *ids;      /* when set: exactly these ids (limit ignored) */
    size_t         n_ids;
} ht_task_filter;

/* Tasks of a graph in ascending id, without input, result and callable
 * (strings in arena a).  *out is an array of *n tasks (in arena a). */
int ht_store_task_list(ht_db *db, ht_arena *a, const char *graph,
                       const ht_task_filter *f, ht_task **out, size_t *n,
                       ht_err *err);

/* Cancel: queued (or another not-started status) -> cancelled, running ->
 * cancelling.  *now is the status it moved to.  HT_ENOTFOUND (404) or
 * HT_ECONFLICT (400, completed or cancelling) otherwise. */
int ht_store_task_cancel(ht_db *db, const char *graph, int64_t id,
                         ht_task_status *now, ht_err *err);

/* Deletes a completed task (any task with force).  HT_ENOTFOUND (404), or
 * HT_ECONFLICT (400) naming the status of an incomplete one. */
int ht_store_task_delete(ht_db *db, const char *graph, int64_t id, int force,
                         ht_err *err);

/* ---- worker side ---- */

typedef struct ht_claim {
    const char *graph;  /* (in arena) */
    int64_t     id;
    const char *type;
    const char *input;
    int         attempt;
    int         retries;
} ht_claim;

/* Claims up to max of the oldest queued tasks of the given graphs for
 * server, each with a lease of lease_ms and its own attempt number.  *out
 * is an array of *n claims, oldest first (in arena a).  HT_ENOTFOUND when
 * nothing is queued. */
int ht_store_task_claim(ht_db *db, ht_arena *a, const char *const *graphs,
                        int n_graphs, const char *server, int lease_ms,
                        int max, ht_claim **out, int *n, ht_err *err);

/* One attempt's identity and, for a finish, its outcome. */
typedef struct ht_attempt {
    const char    *graph;
    int64_t        id;
    int            attempt;
    ht_task_status status;   /* finish: success, failed or cancelled */
    const char    *result;   /* finish: task_result or NULL */
    int64_t        progress;
} ht_attempt;

/* Finishes n attempts in one statement, each fenced like
 * ht_store_task_finish.  final[i] is the status written, or -1 when that
 * attempt is no longer ours.  a holds the parameter text. */
int ht_store_task_finish_many(ht_db *db, ht_arena *a, const ht_attempt *t,
                              size_t n, int *final, ht_err *err);

/* Extends the leases of n attempts we hold but have not started (no
 * progress written).  Attempts that are no longer ours are skipped. */
int ht_store_task_extend_many(ht_db *db, ht_arena *a, const ht_attempt *t,
                              size_t n, int lease_ms, ht_err *err);

/* Hands n attempts we never started back to queued (no retry counted);
 * cancelling ones end cancelled. */
int ht_store_task_release_many(ht_db *db, ht_arena *a, const ht_attempt *t,
                               size_t n, ht_err *err);

/* Extends the lease and writes progress; *status is the row's status
 * (running or cancelling).  HT_ECONFLICT when the task is no longer ours
 * (lease taken over, deleted, completed). */
int ht_store_task_heartbeat(ht_db *db, const char *graph, int64_t id,
                            int attempt, int lease_ms, int64_t progress,
                            ht_task_status *status, ht_err *err);

/* Ends our attempt: success or failed with result, but a task that is
 * cancelling ends cancelled (no result) whatever we say.  *final is the
 * status written.  HT_ECONFLICT when the task is no longer ours. */
int ht_store_task_finish(ht_db *db, const char *graph, int64_t id,
                         int attempt, ht_task_status status,
                         const char *result, int64_t progress,
                         ht_task_status *final, ht_err *err);

/* Hands our running task back to queued without counting a retry (worker
 * shutdown); a cancelling one ends cancelled. */
int ht_store_task_release(ht_db *db, const char *graph, int64_t id,
                          int attempt, ht_err *err);

/* Refreshes the planner's statistics of the tasks table (a burst of
 * inserts before autovacuum gets to it leaves the claim planned for an
 * empty queue). */
int ht_store_task_analyze(ht_db *db, ht_err *err);

/* Re-queues (retries + 1) or fails tasks whose lease expired, and ends
 * expired cancelling ones cancelled.  *n counts them.  Idempotent. */
int ht_store_task_rescue(ht_db *db, int *n, ht_err *err);

/* ---- retention (issue 7) ---- */

/* Tries the fleet-wide retention lock (a session advisory lock on db's
 * connection): *got is 1 when this connection holds it now.  Release with
 * ht_store_task_retention_unlock; a closed connection releases it too. */
int ht_store_task_retention_lock(ht_db *db, int *got, ht_err *err);
int ht_store_task_retention_unlock(ht_db *db, ht_err *err);

/* Deletes at most limit completed tasks (success, cancelled, failed) whose
 * updated_at is older than age_s seconds, oldest first, skipping rows
 * another session has locked; one short autocommit statement.  *deleted
 * counts them. */
int ht_store_task_retention_tasks(ht_db *db, int64_t age_s, int limit,
                                  int64_t *deleted, ht_err *err);
/* The same for task_events rows older than age_s. */
int ht_store_task_retention_events(ht_db *db, int64_t age_s, int limit,
                                   int64_t *deleted, ht_err *err);

#endif

/*
 * common/store_stats.c - health and metrics queries (see store_stats.h).
 *
 * Statement ids 104..106 (store_user.c has 100..103).  All three are
 * idempotent reads, so db.c may re-run them after a reconnect.
 */
#include "common/store_stats.h"

#include <stdlib.h>
#include <string.h>

/* no parameters */
static const ht_stmt SQL_PING = {
    104, "ht_ping", "SELECT 1", 0, 1
};

/* $1 graphs (text[] literal) */
static const ht_stmt SQL_TASK_COUNTS = {
    105, "ht_stats_task_counts",
    "SELECT graph, status, tasks FROM ht_tasks_by_status"
    " WHERE graph = ANY($1::text[]) ORDER BY graph, status",
    1, 1
};

/* $1 graphs (text[] literal) */
static const ht_stmt SQL_QUEUE_AGES = {
    106, "ht_stats_queue_ages",
    "SELECT graph, queued, oldest_age_s FROM ht_queue"
    " WHERE graph = ANY($1::text[]) ORDER BY graph",
    1, 1
};

int
ht_store_ping(ht_db *db, ht_err *err)
{
    return ht_db_exec(db, &SQL_PING, NULL, NULL, err);
}

/* Runs st with the graphs as its one text[] parameter. */
static int
exec_graphs(ht_db *db, ht_arena *a, const ht_stmt *st, const char *const *graphs,
            size_t n_graphs, PGresult **res, ht_err *err)
{
    const char *p[1];

    p[0] = ht_db_text_array(a, graphs, n_graphs);
    if (p[0] == NULL)
        return ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
    return ht_db_exec(db, st, p, res, err);
}

int
ht_store_task_counts(ht_db *db, ht_arena *a, const char *const *graphs,
                     size_t n_graphs, ht_status_count **out, size_t *n,
                     ht_err *err)
{
    PGresult        *res = NULL;
    ht_status_count *rows = NULL;
    int              rc, nt;

    rc = exec_graphs(db, a, &SQL_TASK_COUNTS, graphs, n_graphs, &res, err);
    if (rc != HT_OK)
        goto cleanup;
    nt = PQntuples(res);
    rows = ht_arena_calloc(a, sizeof(*rows) * (size_t) (nt > 0 ? nt : 1));
    if (rows == NULL) {
        rc = ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
        goto cleanup;
    }
    for (int i = 0; i < nt; i++) {
        rows[i].graph = ht_arena_strdup(a, PQgetvalue(res, i, 0));
        rows[i].status = ht_arena_strdup(a, PQgetvalue(res, i, 1));
        rows[i].tasks = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        if (rows[i].graph == NULL || rows[i].status == NULL) {
            rc = ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
            goto cleanup;
        }
    }
    *out = rows;
    *n = (size_t) nt;
cleanup:
    PQclear(res);
    return rc;
}

int
ht_store_queue_ages(ht_db *db, ht_arena *a, const char *const *graphs,
                    size_t n_graphs, ht_queue_age **out, size_t *n, ht_err *err)
{
    PGresult     *res = NULL;
    ht_queue_age *rows = NULL;
    int           rc, nt;

    rc = exec_graphs(db, a, &SQL_QUEUE_AGES, graphs, n_graphs, &res, err);
    if (rc != HT_OK)
        goto cleanup;
    nt = PQntuples(res);
    rows = ht_arena_calloc(a, sizeof(*rows) * (size_t) (nt > 0 ? nt : 1));
    if (rows == NULL) {
        rc = ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
        goto cleanup;
    }
    for (int i = 0; i < nt; i++) {
        rows[i].graph = ht_arena_strdup(a, PQgetvalue(res, i, 0));
        rows[i].queued = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        rows[i].oldest_age_s =
            PQgetisnull(res, i, 2) ? 0.0 : strtod(PQgetvalue(res, i, 2), NULL);
        if (rows[i].graph == NULL) {
            rc = ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
            goto cleanup;
        }
    }
    *out = rows;
    *n = (size_t) nt;
cleanup:
    PQclear(res);
    return rc;
}

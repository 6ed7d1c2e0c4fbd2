/*
 * common/store_task.c - the SQL of the tasks table (see store_task.h).
 *
 * Statements are named constants with their parameters listed, prepared
 * once per connection by db.c.  Values always travel as parameters.
 * Times leave the database as epoch milliseconds.
 */
#include "common/store_task.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"

/* Columns of a list entry, then the extra columns of a detail view. */
#define LIST_COLS                                                       \
    "graph, id, type, name, status, description, progress, retries, "   \
    "priority, server, " MS("created_at") ", " MS("updated_at")
#define DETAIL_COLS LIST_COLS ", callable, input, result"

/* Not-started statuses a cancel moves straight to cancelled. */
#define NOT_STARTED "('new', 'scheduling', 'scheduled', 'queued', 'restoring', 'hanging')"
#define COMPLETED   "('success', 'cancelled', 'failed')"

/* $1 graph */
static const ht_stmt SQL_GRAPH_ENSURE = {
    1, "ht_graph_ensure", "SELECT ht_ensure_graph($1)", 1, 1
};

/* $1 graph, $2 type, $3 name, $4 callable, $5 input, $6 max_retries */
static const ht_stmt SQL_TASK_INSERT = {
    2, "ht_task_insert",
    "INSERT INTO tasks (graph, id, type, name, callable, status, input,"
    " max_retries) "
    "VALUES ($1, nextval(ht_task_seq($1)), $2, $3, $4, 'queued', $5, $6) "
    "RETURNING id",
    6, 0
};

/* $1 graph, $2 how many to count at most */
static const ht_stmt SQL_TASK_PENDING = {
    11, "ht_task_pending",
    "SELECT count(*) FROM (SELECT 1 FROM tasks WHERE graph = $1"
    " AND status = 'queued' LIMIT $2) s",
    2, 1
};

/* $1 graph, $2 id */
static const ht_stmt SQL_TASK_GET = {
    3, "ht_task_get",
    "SELECT " DETAIL_COLS " FROM tasks WHERE graph = $1 AND id = $2", 2, 1
};

/* $1 graph, $2 after id, $3 limit (NULL = all) */
static const ht_stmt SQL_TASK_LIST = {
    4, "ht_task_list",
    "SELECT " LIST_COLS " FROM tasks WHERE graph = $1 AND id > $2 "
    "ORDER BY id LIMIT $3",
    3, 1
};

/* $1 graph, $2 status, $3 after id, $4 limit (NULL = all) */
static const ht_stmt SQL_TASK_LIST_STATUS = {
    5, "ht_task_list_status",
    "SELECT " LIST_COLS " FROM tasks WHERE graph = $1 AND status = $2 "
    "AND id > $3 ORDER BY id LIMIT $4",
    4, 1
};

/* $1 graph, $2 ids as a bigint[] literal */
static const ht_stmt SQL_TASK_LIST_IDS = {
    6, "ht_task_list_ids",
    "SELECT " LIST_COLS " FROM tasks WHERE graph = $1 AND id = ANY($2::bigint[]) "
    "ORDER BY id",
    2, 1
};

/* $1 graph, $2 id.  One CAS: not started -> cancelled, running -> cancelling. */
static const ht_stmt SQL_TASK_CANCEL = {
    7, "ht_task_cancel",
    "UPDATE tasks SET status = CASE WHEN status = 'running' THEN 'cancelling'"
    " ELSE 'cancelled' END, cancel_requested = true, updated_at = now() "
    "WHERE graph = $1 AND id = $2 AND (status = 'running' OR status IN "
    NOT_STARTED ") RETURNING status",
    2, 1
};

/* $1 graph, $2 id */
static const ht_stmt SQL_TASK_STATUS = {
    8, "ht_task_status",
    "SELECT status FROM tasks WHERE graph = $1 AND id = $2", 2, 1
};

/* $1 graph, $2 id */
static const ht_stmt SQL_TASK_DELETE = {
    9, "ht_task_delete",
    "DELETE FROM tasks WHERE graph = $1 AND id = $2 AND status IN " COMPLETED,
    2, 1
};

/* $1 graph, $2 id */
static const ht_stmt SQL_TASK_DELETE_FORCE = {
    10, "ht_task_delete_force",
    "DELETE FROM tasks WHERE graph = $1 AND id = $2", 2, 1
};

/* $1 graphs (text[] literal), $2 server, $3 lease ms, $4 how many.  The
 * CTE locks queued rows no one else has locked; MATERIALIZED makes it run
 * exactly once (joined as a subquery, the planner may re-run it for every
 * outer row and so claim rows it never returns).  The outer WHERE re-checks
 * the status, so the claim is a CAS even against a concurrent cancel.
 * RETURNING comes in no particular order: the caller sorts. */
static const ht_stmt SQL_TASK_CLAIM = {
    20, "ht_task_claim",
    "WITH c AS MATERIALIZED (SELECT graph, id, created_at FROM tasks"
    " WHERE status = 'queued' AND graph = ANY($1::text[])"
    " ORDER BY created_at, graph, id LIMIT $4 FOR UPDATE SKIP LOCKED) "
    "UPDATE tasks t SET status = 'running', server = $2, attempt = t.attempt + 1,"
    " lease_until = now() + $3::int * interval '1 millisecond', updated_at = now(),"
    " started_at = now() "
    "FROM c WHERE t.graph = c.graph AND t.id = c.id AND t.status = 'queued' "
    "RETURNING t.graph, t.id, t.type, t.input, t.attempt, t.retries,"
    " (extract(epoch FROM c.created_at) * 1000000)::bigint",
    4, 0
};

/* The batch statements take parallel arrays, sorted by (graph, id) so that
 * two batches (or a batch and the rescue) lock shared rows in one order. */
#define ATTEMPTS                                                        \
    "unnest($1::text[], $2::bigint[], $3::int[]) WITH ORDINALITY"       \
    " AS u(graph, id, attempt, ord)"

/* $1 graphs, $2 ids, $3 attempts, $4 statuses, $5 results, $6 progress */
static const ht_stmt SQL_TASK_FINISH_MANY = {
    25, "ht_task_finish_many",
    "UPDATE tasks t SET"
    " status = CASE WHEN t.status = 'cancelling' THEN 'cancelled' ELSE u.status END,"
    " result = CASE WHEN t.status = 'cancelling' OR u.status = 'cancelled'"
    " THEN NULL ELSE u.result END,"
    " progress = u.progress, lease_until = NULL, updated_at = now() "
    "FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[], $5::text[],"
    " $6::bigint[]) WITH ORDINALITY AS u(graph, id, attempt, status, result,"
    " progress, ord) "
    "WHERE t.graph = u.graph AND t.id = u.id AND t.attempt = u.attempt"
    " AND t.status IN ('running', 'cancelling') RETURNING u.ord, t.status",
    6, 1
};

/* $1 graphs, $2 ids, $3 attempts, $4 lease ms */
static const ht_stmt SQL_TASK_EXTEND_MANY = {
    26, "ht_task_extend_many",
    "UPDATE tasks t SET lease_until = now() + $4::int * interval '1 millisecond' "
    "FROM " ATTEMPTS " "
    "WHERE t.graph = u.graph AND t.id = u.id AND t.attempt = u.attempt"
    " AND t.status IN ('running', 'cancelling')",
    4, 1
};

/* $1 graphs, $2 ids, $3 attempts */
static const ht_stmt SQL_TASK_RELEASE_MANY = {
    27, "ht_task_release_many",
    "UPDATE tasks t SET"
    " status = CASE WHEN t.status = 'cancelling' THEN 'cancelled' ELSE 'queued' END,"
    " server = NULL, lease_until = NULL, updated_at = now() "
    "FROM " ATTEMPTS " "
    "WHERE t.graph = u.graph AND t.id = u.id AND t.attempt = u.attempt"
    " AND t.status IN ('running', 'cancelling')",
    3, 1
};

/* $1 graph, $2 id, $3 attempt, $4 lease ms, $5 progress */
static const ht_stmt SQL_TASK_HEARTBEAT = {
    21, "ht_task_heartbeat",
    "UPDATE tasks SET lease_until = now() + $4::int * interval '1 millisecond',"
    " updated_at = CASE WHEN progress = $5 THEN updated_at ELSE now() END,"
    " progress = $5 "
    "WHERE graph = $1 AND id = $2 AND attempt = $3"
    " AND status IN ('running', 'cancelling') RETURNING status",
    5, 1
};

/* $1 graph, $2 id, $3 attempt, $4 status, $5 result, $6 progress */
static const ht_stmt SQL_TASK_FINISH = {
    22, "ht_task_finish",
    "UPDATE tasks SET"
    " status = CASE WHEN status = 'cancelling' THEN 'cancelled' ELSE $4 END,"
    " result = CASE WHEN status = 'cancelling' OR $4 = 'cancelled' THEN NULL"
    " ELSE $5 END,"
    " progress = $6, lease_until = NULL, updated_at = now() "
    "WHERE graph = $1 AND id = $2 AND attempt = $3"
    " AND status IN ('running', 'cancelling') RETURNING status",
    6, 1
};

/* $1 graph, $2 id, $3 attempt */
static const ht_stmt SQL_TASK_RELEASE = {
    23, "ht_task_release",
    "UPDATE tasks SET"
    " status = CASE WHEN status = 'cancelling' THEN 'cancelled' ELSE 'queued' END,"
    " server = NULL, lease_until = NULL, updated_at = now() "
    "WHERE graph = $1 AND id = $2 AND attempt = $3"
    " AND status IN ('running', 'cancelling')",
    3, 1
};

/* No parameters.  At most 1000 expired leases per call, skipping rows
 * another rescuer holds.  task_retries counts the re-runs: a task that has
 * used them all ends failed with it unchanged, so the number and the
 * result's "retried N times" agree.  A running row without any lease (left by hand or
 * by an older fleet) counts as expired: nothing else would ever move it. */
static const ht_stmt SQL_TASK_RESCUE = {
    24, "ht_task_rescue",
    "WITH x AS MATERIALIZED (SELECT graph, id FROM tasks"
    " WHERE status IN ('running', 'cancelling')"
    " AND (lease_until < now() OR lease_until IS NULL)"
    " ORDER BY graph, id LIMIT 1000 FOR UPDATE SKIP LOCKED) "
    "UPDATE tasks t SET"
    " status = CASE WHEN t.status = 'cancelling' THEN 'cancelled'"
    " WHEN t.retries >= t.max_retries THEN 'failed' ELSE 'queued' END,"
    " retries = CASE WHEN t.status = 'running' AND t.retries < t.max_retries"
    " THEN t.retries + 1 ELSE t.retries END,"
    " result = CASE WHEN t.status = 'running' AND t.retries >= t.max_retries"
    " THEN 'WorkerLost: the worker running attempt ' || t.attempt ||"
    " ' stopped renewing its lease; retried ' || t.retries || ' times'"
    " ELSE t.result END,"
    " server = NULL, lease_until = NULL, updated_at = now() "
    "FROM x "
    "WHERE t.graph = x.graph AND t.id = x.id"
    " AND t.status IN ('running', 'cancelling')"
    " AND (t.lease_until < now() OR t.lease_until IS NULL)",
    0, 1
};

/* ---- retention (issue 7) ----
 * One fleet-wide session advisory lock (any fixed number: the migration
 * runner uses 7206153941) lets one worker process delete at a time.  Each
 * batch is one autocommit statement: a short transaction touching at most
 * $2 rows, oldest first, through tasks_completed_age (sql/0008) and
 * task_events_at (sql/0006). */
#define RETENTION_LOCK_KEY "7206153942"

static const ht_stmt SQL_RETENTION_LOCK = {
    28, "ht_retention_lock",
    "SELECT pg_try_advisory_lock(" RETENTION_LOCK_KEY ")", 0, 1
};

static const ht_stmt SQL_RETENTION_UNLOCK = {
    29, "ht_retention_unlock",
    "SELECT pg_advisory_unlock(" RETENTION_LOCK_KEY ")", 0, 1
};

/* $1 age in seconds, $2 most rows.  SKIP LOCKED: a row the API or a
 * worker holds (a DELETE, a late fenced write) is left for the next pass,
 * never waited on.  The DELETE re-checks the status, so only completed
 * rows can go whatever happened meanwhile. */
static const ht_stmt SQL_RETENTION_TASKS = {
    30, "ht_retention_tasks",
    "WITH v AS MATERIALIZED (SELECT graph, id FROM tasks"
    " WHERE status IN " COMPLETED
    " AND updated_at < now() - $1::bigint * interval '1 second'"
    " ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "DELETE FROM tasks t USING v WHERE t.graph = v.graph AND t.id = v.id"
    " AND t.status IN " COMPLETED,
    2, 1
};

/* $1 age in seconds, $2 most rows.  Events are never updated, so their
 * ctid is stable and the delete is a TID scan of the rows just found. */
static const ht_stmt SQL_RETENTION_EVENTS = {
    31, "ht_retention_events",
    "DELETE FROM task_events WHERE ctid = ANY (ARRAY(SELECT ctid FROM task_events"
    " WHERE at < now() - $1::bigint * interval '1 second'"
    " ORDER BY at LIMIT $2))",
    2, 1
};

static char *
dup_or_null(ht_arena *a, PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    return ht_arena_strdup(a, PQgetvalue(res, row, col));
}

static int64_t
get_i64(PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Fills t from LIST_COLS (and DETAIL_COLS when detail). */
static int
read_task(ht_arena *a, PGresult *res, int row, int detail, ht_task *t)
{
    memset(t, 0, sizeof(*t));
    t->graph = dup_or_null(a, res, row, 0);
    t->id = get_i64(res, row, 1);
    t->type = dup_or_null(a, res, row, 2);
    t->name = dup_or_null(a, res, row, 3);
    t->status = dup_or_null(a, res, row, 4);
    t->description = dup_or_null(a, res, row, 5);
    t->progress = get_i64(res, row, 6);
    t->retries = (int) get_i64(res, row, 7);
    t->priority = (int) get_i64(res, row, 8);
    t->server = dup_or_null(a, res, row, 9);
    t->create_ms = get_i64(res, row, 10);
    t->update_ms = get_i64(res, row, 11);
    if (detail) {
        t->callable = dup_or_null(a, res, row, 12);
        t->input = dup_or_null(a, res, row, 13);
        t->result = dup_or_null(a, res, row, 14);
    }
    if (t->graph == NULL || t->status == NULL)
        return HT_ENOMEM;
    return HT_OK;
}

int
ht_store_graph_ensure(ht_db *db, const char *graph, ht_err *err)
{
    const char *p[1] = { graph };

    return ht_db_exec(db, &SQL_GRAPH_ENSURE, p, NULL, err);
}

int
ht_store_task_insert(ht_db *db, const ht_task_new *t, int64_t *id, ht_err *err)
{
    char        retries[16];
    const char *p[6];
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(retries, sizeof(retries), "%d", t->max_retries);
    p[0] = t->graph;
    p[1] = t->type;
    p[2] = t->name;
    p[3] = t->callable;
    p[4] = t->input;
    p[5] = retries;
    rc = ht_db_exec(db, &SQL_TASK_INSERT, p, &res, err);
    if (rc == HT_OK)
        *id = get_i64(res, 0, 0);
    PQclear(res);
    return rc;
}

int
ht_store_task_pending(ht_db *db, const char *graph, int64_t cap, int64_t *out,
                      ht_err *err)
{
    char        lim[24];
    const char *p[2] = { graph, lim };
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(lim, sizeof(lim), "%" PRId64, cap + 1);
    rc = ht_db_exec(db, &SQL_TASK_PENDING, p, &res, err);
    if (rc == HT_OK)
        *out = get_i64(res, 0, 0);
    PQclear(res);
    return rc;
}

static int
not_found(ht_err *err, int64_t id)
{
    return ht_err_set(err, HT_ENOTFOUND, 404, HT_EXC_NOT_FOUND,
                      "Can't find task with id '%" PRId64 "'", id);
}

int
ht_store_task_get(ht_db *db, ht_arena *a, const char *graph, int64_t id,
                  ht_task *out, ht_err *err)
{
    char        ids[24];
    const char *p[2] = { graph, ids };
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(ids, sizeof(ids), "%" PRId64, id);
    rc = ht_db_exec(db, &SQL_TASK_GET, p, &res, err);
    if (rc != HT_OK)
        goto cleanup;
    if (PQntuples(res) == 0) {
        rc = not_found(err, id);
        goto cleanup;
    }
    rc = read_task(a, res, 0, 1, out);
    if (rc != HT_OK)
        rc = ht_err_set(err, rc, 500, HT_EXC_SERVER, "out of memory");
cleanup:
    PQclear(res);
    return rc;
}


int
ht_store_task_list(ht_db *db, ht_arena *a, const char *graph,
                   const ht_task_filter *f, ht_task **out, size_t *n,
                   ht_err *err)
{
    char        after[24], limit[24];
    const char *p[4];
    const ht_stmt *st;
    PGresult   *res = NULL;
    ht_task    *tasks;
    int         rc, rows;

    (void) snprintf(after, sizeof(after), "%" PRId64, f->after_id);
    (void) snprintf(limit, sizeof(limit), "%" PRId64, f->limit);
    p[0] = graph;
    if (f->ids != NULL) {
        st = &SQL_TASK_LIST_IDS;
        p[1] = ht_db_i64_array(a, f->ids, f->n_ids);
        if (p[1] == NULL)
            return ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
    } else if (f->status != NULL) {
        st = &SQL_TASK_LIST_STATUS;
        p[1] = f->status;
        p[2] = after;
        p[3] = f->limit < 0 ? NULL : limit;
    } else {
        st = &SQL_TASK_LIST;
        p[1] = after;
        p[2] = f->limit < 0 ? NULL : limit;
    }
    rc = ht_db_exec(db, st, p, &res, err);
    if (rc != HT_OK)
        goto cleanup;
    rows = PQntuples(res);
    tasks = ht_arena_alloc(a, sizeof(*tasks) * (size_t) (rows ? rows : 1));
    if (tasks == NULL) {
        rc = ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
        goto cleanup;
    }
    for (int i = 0; i < rows; i++) {
        rc = read_task(a, res, i, 0, &tasks[i]);
        if (rc != HT_OK) {
            rc = ht_err_set(err, rc, 500, HT_EXC_SERVER, "out of memory");
            goto cleanup;
        }
    }
    *out = tasks;
    *n = (size_t) rows;
cleanup:
    PQclear(res);
    return rc;
}

/* The current status of a task, for the message after a lost CAS. */
static int
current_status(ht_db *db, const char *graph, int64_t id, char *buf,
               size_t size, ht_err *err)
{
    char        ids[24];
    const char *p[2] = { graph, ids };
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(ids, sizeof(ids), "%" PRId64, id);
    rc = ht_db_exec(db, &SQL_TASK_STATUS, p, &res, err);
    if (rc == HT_OK) {
        if (PQntuples(res) == 0)
            rc = not_found(err, id);
        else
            (void) snprintf(buf, size, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return rc;
}

int
ht_store_task_cancel(ht_db *db, const char *graph, int64_t id,
                     ht_task_status *now, ht_err *err)
{
    char        ids[24], status[32];
    const char *p[2] = { graph, ids };
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(ids, sizeof(ids), "%" PRId64, id);
    rc = ht_db_exec(db, &SQL_TASK_CANCEL, p, &res, err);
    if (rc != HT_OK)
        goto cleanup;
    if (PQntuples(res) == 1) {
        if (ht_task_status_parse(PQgetvalue(res, 0, 0), now) != 0)
            rc = ht_err_set(err, HT_EINTERNAL, 500, HT_EXC_SERVER,
                            "unexpected task status");
        goto cleanup;
    }
    rc = current_status(db, graph, id, status, sizeof(status), err);
    if (rc == HT_OK)
        rc = ht_err_set(err, HT_ECONFLICT, 400, HT_EXC_BAD_REQUEST,
                        "Can't cancel task '%" PRId64
                        "' which is completed or cancelling", id);
cleanup:
    PQclear(res);
    return rc;
}

int
ht_store_task_delete(ht_db *db, const char *graph, int64_t id, int force,
                     ht_err *err)
{
    char        ids[24], status[32];
    const char *p[2] = { graph, ids };
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(ids, sizeof(ids), "%" PRId64, id);
    rc = ht_db_exec(db, force ? &SQL_TASK_DELETE_FORCE : &SQL_TASK_DELETE, p,
                    &res, err);
    if (rc != HT_OK)
        goto cleanup;
    if (ht_db_changed(res) == 1)
        goto cleanup;
    rc = current_status(db, graph, id, status, sizeof(status), err);
    if (rc == HT_OK && force)
        rc = not_found(err, id); /* deleted by someone else meanwhile */
    else if (rc == HT_OK)
        rc = ht_err_set(err, HT_ECONFLICT, 400, HT_EXC_BAD_REQUEST,
                        "Can't delete incomplete task '%" PRId64
                        "' in status %s, Please try to cancel the task first",
                        id, status);
cleanup:
    PQclear(res);
    return rc;
}


/* Sorts claims oldest first (created_at, then graph and id). */
typedef struct claim_key {
    ht_claim c;
    int64_t  created_us;
} claim_key;

static int
claim_cmp(const void *x, const void *y)
{
    const claim_key *a = x, *b = y;
    int              g;

    if (a->created_us != b->created_us)
        return a->created_us < b->created_us ? -1 : 1;
    g = strcmp(a->c.graph, b->c.graph);
    if (g != 0)
        return g;
    return (a->c.id > b->c.id) - (a->c.id < b->c.id);
}

int
ht_store_task_claim(ht_db *db, ht_arena *a, const char *const *graphs,
                    int n_graphs, const char *server, int lease_ms, int max,
                    ht_claim **out, int *n, ht_err *err)
{
    char        lease[16], lim[16];
    const char *p[4];
    PGresult   *res = NULL;
    claim_key  *keys;
    ht_claim   *claims;
    int         rc, rows;

    (void) snprintf(lease, sizeof(lease), "%d", lease_ms);
    (void) snprintf(lim, sizeof(lim), "%d", max > 0 ? max : 1);
    p[0] = ht_db_text_array(a, graphs, (size_t) n_graphs);
    p[1] = server;
    p[2] = lease;
    p[3] = lim;
    if (p[0] == NULL)
        return ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
    rc = ht_db_exec(db, &SQL_TASK_CLAIM, p, &res, err);
    if (rc != HT_OK)
        goto cleanup;
    rows = PQntuples(res);
    if (rows == 0) {
        rc = HT_ENOTFOUND;
        goto cleanup;
    }
    keys = ht_arena_alloc(a, sizeof(*keys) * (size_t) rows);
    claims = ht_arena_alloc(a, sizeof(*claims) * (size_t) rows);
    if (keys == NULL || claims == NULL) {
        rc = ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
        goto cleanup;
    }
    for (int i = 0; i < rows; i++) {
        ht_claim *c = &keys[i].c;
        c->graph = dup_or_null(a, res, i, 0);
        c->id = get_i64(res, i, 1);
        c->type = dup_or_null(a, res, i, 2);
        c->input = dup_or_null(a, res, i, 3);
        c->attempt = (int) get_i64(res, i, 4);
        c->retries = (int) get_i64(res, i, 5);
        keys[i].created_us = get_i64(res, i, 6);
        if (c->graph == NULL || c->type == NULL) {
            rc = ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
            goto cleanup;
        }
    }
    qsort(keys, (size_t) rows, sizeof(*keys), claim_cmp);
    for (int i = 0; i < rows; i++)
        claims[i] = keys[i].c;
    *out = claims;
    *n = rows;
cleanup:
    PQclear(res);
    return rc;
}

/* Appends s to a PostgreSQL array literal as a quoted element (or NULL). */
static char *
array_put(char *o, const char *s)
{
    if (s == NULL) {
        memcpy(o, "NULL", 4);
        return o + 4;
    }
    *o++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '"';
    return o;
}

/* The parallel array literals of n attempts, in the order of idx. */
typedef struct attempt_arrays {
    char *graphs, *ids, *attempts, *statuses, *results, *progress;
} attempt_arrays;

static int
attempt_arrays_build(ht_arena *a, const ht_attempt *t, const size_t *idx,
                     size_t n, int with_outcome, attempt_arrays *out)
{
    size_t glen = 3, rlen = 3;
    char  *g, *i, *at, *st, *r, *pr;

    for (size_t k = 0; k < n; k++) {
        glen += 2 * strlen(t[k].graph) + 3;
        if (with_outcome)
            rlen += (t[k].result ? 2 * strlen(t[k].result) + 3 : 4) + 1;
    }
    out->graphs = g = ht_arena_alloc(a, glen);
    out->ids = i = ht_arena_alloc(a, n * 21 + 3);
    out->attempts = at = ht_arena_alloc(a, n * 12 + 3);
    out->statuses = st = with_outcome ? ht_arena_alloc(a, n * 12 + 3) : NULL;
    out->results = r = with_outcome ? ht_arena_alloc(a, rlen) : NULL;
    out->progress = pr = with_outcome ? ht_arena_alloc(a, n * 21 + 3) : NULL;
    if (g == NULL || i == NULL || at == NULL ||
        (with_outcome && (st == NULL || r == NULL || pr == NULL)))
        return HT_ENOMEM;
    *g++ = *i++ = *at++ = '{';
    if (with_outcome)
        *st++ = *r++ = *pr++ = '{';
    for (size_t k = 0; k < n; k++) {
        const ht_attempt *x = &t[idx[k]];
        const char       *sep = k ? "," : "";
        if (k)
            *g++ = ',';
        g = array_put(g, x->graph);
        i += sprintf(i, "%s%" PRId64, sep, x->id);
        at += sprintf(at, "%s%d", sep, x->attempt);
        if (with_outcome) {
            st += sprintf(st, "%s%s", sep, ht_task_status_name(x->status));
            if (k)
                *r++ = ',';
            r = array_put(r, x->result);
            pr += sprintf(pr, "%s%" PRId64, sep, x->progress);
        }
    }
    *g++ = '}';
    *g = '\0';
    *i++ = '}';
    *i = '\0';
    *at++ = '}';
    *at = '\0';
    if (with_outcome) {
        *st++ = '}';
        *st = '\0';
        *r++ = '}';
        *r = '\0';
        *pr++ = '}';
        *pr = '\0';
    }
    return HT_OK;
}

/* An attempt and its place in the caller's array. */
typedef struct placed {
    size_t            orig;
    const ht_attempt *t;
} placed;

static int
placed_cmp(const void *x, const void *y)
{
    const ht_attempt *a = ((const placed *) x)->t;
    const ht_attempt *b = ((const placed *) y)->t;
    int               g = strcmp(a->graph, b->graph);

    if (g != 0)
        return g;
    return (a->id > b->id) - (a->id < b->id);
}

/* Indexes 0..n-1 of t sorted by (graph, id) (in arena a). */
static size_t *
sorted_index(ht_arena *a, const ht_attempt *t, size_t n)
{
    placed *pl = ht_arena_alloc(a, sizeof(*pl) * (n ? n : 1));
    size_t *idx = ht_arena_alloc(a, sizeof(*idx) * (n ? n : 1));

    if (pl == NULL || idx == NULL)
        return NULL;
    for (size_t k = 0; k < n; k++) {
        pl[k].orig = k;
        pl[k].t = &t[k];
    }
    qsort(pl, n, sizeof(*pl), placed_cmp);
    for (size_t k = 0; k < n; k++)
        idx[k] = pl[k].orig;
    return idx;
}

int
ht_store_task_finish_many(ht_db *db, ht_arena *a, const ht_attempt *t,
                          size_t n, int *final, ht_err *err)
{
    attempt_arrays arr;
    size_t        *idx = sorted_index(a, t, n);
    const char    *p[6];
    PGresult      *res = NULL;
    int            rc;

    for (size_t k = 0; k < n; k++)
        final[k] = -1;
    if (n == 0)
        return HT_OK;
    if (idx == NULL || attempt_arrays_build(a, t, idx, n, 1, &arr) != HT_OK)
        return ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
    p[0] = arr.graphs;
    p[1] = arr.ids;
    p[2] = arr.attempts;
    p[3] = arr.statuses;
    p[4] = arr.results;
    p[5] = arr.progress;
    rc = ht_db_exec(db, &SQL_TASK_FINISH_MANY, p, &res, err);
    if (rc == HT_OK) {
        for (int r = 0; r < PQntuples(res); r++) {
            int64_t        ord = get_i64(res, r, 0); /* 1-based, in idx order */
            ht_task_status st;
            if (ord >= 1 && (size_t) ord <= n &&
                ht_task_status_parse(PQgetvalue(res, r, 1), &st) == 0)
                final[idx[ord - 1]] = (int) st;
        }
    }
    PQclear(res);
    return rc;
}

static int
attempts_exec(ht_db *db, ht_arena *a, const ht_stmt *st, const ht_attempt *t,
              size_t n, const char *extra, ht_err *err)
{
    attempt_arrays arr;
    size_t        *idx;
    const char    *p[4];

    if (n == 0)
        return HT_OK;
    idx = sorted_index(a, t, n);
    if (idx == NULL || attempt_arrays_build(a, t, idx, n, 0, &arr) != HT_OK)
        return ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
    p[0] = arr.graphs;
    p[1] = arr.ids;
    p[2] = arr.attempts;
    p[3] = extra;
    return ht_db_exec(db, st, p, NULL, err);
}

int
ht_store_task_extend_many(ht_db *db, ht_arena *a, const ht_attempt *t,
                          size_t n, int lease_ms, ht_err *err)
{
    char lease[16];

    (void) snprintf(lease, sizeof(lease), "%d", lease_ms);
    return attempts_exec(db, a, &SQL_TASK_EXTEND_MANY, t, n, lease, err);
}

int
ht_store_task_release_many(ht_db *db, ht_arena *a, const ht_attempt *t,
                           size_t n, ht_err *err)
{
    return attempts_exec(db, a, &SQL_TASK_RELEASE_MANY, t, n, NULL, err);
}

int
ht_store_task_heartbeat(ht_db *db, const char *graph, int64_t id, int attempt,
                        int lease_ms, int64_t progress, ht_task_status *status,
                        ht_err *err)
{
    char        ids[24], att[16], lease[16], prog[24];
    const char *p[5] = { graph, ids, att, lease, prog };
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(ids, sizeof(ids), "%" PRId64, id);
    (void) snprintf(att, sizeof(att), "%d", attempt);
    (void) snprintf(lease, sizeof(lease), "%d", lease_ms);
    (void) snprintf(prog, sizeof(prog), "%" PRId64, progress);
    rc = ht_db_exec(db, &SQL_TASK_HEARTBEAT, p, &res, err);
    if (rc != HT_OK)
        goto cleanup;
    if (PQntuples(res) == 0)
        rc = ht_err_set(err, HT_ECONFLICT, 0, NULL, "task is no longer ours");
    else if (ht_task_status_parse(PQgetvalue(res, 0, 0), status) != 0)
        rc = ht_err_set(err, HT_EINTERNAL, 0, NULL, "unexpected task status");
cleanup:
    PQclear(res);
    return rc;
}

int
ht_store_task_finish(ht_db *db, const char *graph, int64_t id, int attempt,
                     ht_task_status status, const char *result,
                     int64_t progress, ht_task_status *final, ht_err *err)
{
    char        ids[24], att[16], prog[24];
    const char *p[6];
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(ids, sizeof(ids), "%" PRId64, id);
    (void) snprintf(att, sizeof(att), "%d", attempt);
    (void) snprintf(prog, sizeof(prog), "%" PRId64, progress);
    p[0] = graph;
    p[1] = ids;
    p[2] = att;
    p[3] = ht_task_status_name(status);
    p[4] = result;
    p[5] = prog;
    rc = ht_db_exec(db, &SQL_TASK_FINISH, p, &res, err);
    if (rc != HT_OK)
        goto cleanup;
    if (PQntuples(res) == 0)
        rc = ht_err_set(err, HT_ECONFLICT, 0, NULL, "task is no longer ours");
    else if (ht_task_status_parse(PQgetvalue(res, 0, 0), final) != 0)
        rc = ht_err_set(err, HT_EINTERNAL, 0, NULL, "unexpected task status");
cleanup:
    PQclear(res);
    return rc;
}

int
ht_store_task_release(ht_db *db, const char *graph, int64_t id, int attempt,
                      ht_err *err)
{
    char        ids[24], att[16];
    const char *p[3] = { graph, ids, att };
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(ids, sizeof(ids), "%" PRId64, id);
    (void) snprintf(att, sizeof(att), "%d", attempt);
    rc = ht_db_exec(db, &SQL_TASK_RELEASE, p, &res, err);
    if (rc == HT_OK && ht_db_changed(res) == 0)
        rc = ht_err_set(err, HT_ECONFLICT, 0, NULL, "task is no longer ours");
    PQclear(res);
    return rc;
}

int
ht_store_task_rescue(ht_db *db, int *n, ht_err *err)
{
    PGresult *res = NULL;
    int       rc;

    rc = ht_db_exec(db, &SQL_TASK_RESCUE, NULL, &res, err);
    if (rc == HT_OK)
        *n = (int) ht_db_changed(res);
    PQclear(res);
    return rc;
}

int
ht_store_task_analyze(ht_db *db, ht_err *err)
{
    return ht_db_simple(db, "ANALYZE tasks", err);
}

int
ht_store_task_retention_lock(ht_db *db, int *got, ht_err *err)
{
    PGresult *res = NULL;
    int       rc;

    rc = ht_db_exec(db, &SQL_RETENTION_LOCK, NULL, &res, err);
    if (rc == HT_OK)
        *got = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return rc;
}

int
ht_store_task_retention_unlock(ht_db *db, ht_err *err)
{
    return ht_db_exec(db, &SQL_RETENTION_UNLOCK, NULL, NULL, err);
}

static int
retention_exec(ht_db *db, const ht_stmt *st, int64_t age_s, int limit,
               int64_t *deleted, ht_err *err)
{
    char        age[24], lim[16];
    const char *p[2] = { age, lim };
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(age, sizeof(age), "%" PRId64, age_s);
    (void) snprintf(lim, sizeof(lim), "%d", limit > 0 ? limit : 1);
    rc = ht_db_exec(db, st, p, &res, err);
    if (rc == HT_OK)
        *deleted = ht_db_changed(res);
    PQclear(res);
    return rc;
}

int
ht_store_task_retention_tasks(ht_db *db, int64_t age_s, int limit,
                              int64_t *deleted, ht_err *err)
{
    return retention_exec(db, &SQL_RETENTION_TASKS, age_s, limit, deleted, err);
}

int
ht_store_task_retention_events(ht_db *db, int64_t age_s, int limit,
                               int64_t *deleted, ht_err *err)
{
    return retention_exec(db, &SQL_RETENTION_EVENTS, age_s, limit, deleted, err);
}

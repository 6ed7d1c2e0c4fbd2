/*
 * common/store_graph.c - the property graph's SQL (see store_graph.h).
 *
 * Scan statements are assembled from fixed fragments with $n placeholders;
 * every value is a parameter.  A scan fetches BATCH rows at a time, keyset
 * on id, each batch's statement built in an arena freed after it, so
 * memory stays flat however large the graph is.
 */
#include "common/store_graph.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 1000

#define V_COLS "v.id, v.label, v.properties::text, 0, 0, NULL, NULL"
#define E_COLS                                                          \
    "e.id, e.label, e.properties::text, e.out_v, e.in_v, "              \
    "(SELECT label FROM vertices o WHERE o.graph = e.graph AND o.id = e.out_v), " \
    "(SELECT label FROM vertices i WHERE i.graph = e.graph AND i.id = e.in_v)"

/* A growing SQL text and its parameters, all in one arena. */
#define MAX_PARAMS 96

typedef struct sqlb {
    ht_arena   *a;
    char        sql[8192];
    size_t      len;
    const char *params[MAX_PARAMS];
    int         n;
    int         full;
} sqlb;

static void
add(sqlb *b, const char *text)
{
    size_t k = strlen(text);

    if (b->len + k >= sizeof(b->sql)) {
        b->full = 1;
        return;
    }
    memcpy(b->sql + b->len, text, k + 1);
    b->len += k;
}

/* Adds a parameter and writes its placeholder, with a cast, after text. */
static void
add_param(sqlb *b, const char *text, const char *value, const char *cast)
{
    char ph[32];

    if (b->n >= MAX_PARAMS) {
        b->full = 1;
        return;
    }
    b->params[b->n++] = value;
    (void) snprintf(ph, sizeof(ph), "$%d%s", b->n, cast);
    add(b, text);
    add(b, ph);
}

/* A parameter whose placeholder is written later, maybe several times;
 * returns its number. */
static int
new_param(sqlb *b, const char *value)
{
    if (b->n >= MAX_PARAMS) {
        b->full = 1;
        return 1;
    }
    b->params[b->n++] = value;
    return b->n;
}

/* Appends a fragment in which %1$d .. stand for parameter numbers: only
 * fixed text and placeholders, never a value. */
static void
addf(sqlb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
addf(sqlb *b, const char *fmt, ...)
{
    char    frag[512];
    va_list ap;
    int     n;

    va_start(ap, fmt);
    n = vsnprintf(frag, sizeof(frag), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= sizeof(frag)) {
        b->full = 1;
        return;
    }
    add(b, frag);
}

/* One pushed has(key, P): t is the table alias. */
static void
add_pred(sqlb *b, const char *t, const ht_graph_pred *p)
{
    int k = new_param(b, p->key), a = new_param(b, p->a);
    int bb = p->b ? new_param(b, p->b) : 0;
    /* v: the property; same(x): v has the JSON type of operand x */
#define V "%1$s.properties -> $%2$d::text"
#define SAME(n) "jsonb_typeof(" V ") = jsonb_typeof($" #n "::jsonb)"

    addf(b, " AND %s.properties ? $%d::text", t, k);
    switch (p->op) {
    case HT_GP_EQ: addf(b, " AND " V " = $%3$d::jsonb", t, k, a); break;
    case HT_GP_NEQ: addf(b, " AND " V " <> $%3$d::jsonb", t, k, a); break;
    case HT_GP_LT:
        addf(b, " AND " SAME(%3$d) " AND " V " < $%3$d::jsonb", t, k, a);
        break;
    case HT_GP_LTE:
        addf(b, " AND " SAME(%3$d) " AND " V " <= $%3$d::jsonb", t, k, a);
        break;
    case HT_GP_GT:
        addf(b, " AND " SAME(%3$d) " AND " V " > $%3$d::jsonb", t, k, a);
        break;
    case HT_GP_GTE:
        addf(b, " AND " SAME(%3$d) " AND " V " >= $%3$d::jsonb", t, k, a);
        break;
    case HT_GP_INSIDE:
        addf(b, " AND " SAME(%3$d) " AND " SAME(%4$d) " AND " V
                " > $%3$d::jsonb AND " V " < $%4$d::jsonb", t, k, a, bb);
        break;
    case HT_GP_BETWEEN:
        addf(b, " AND " SAME(%3$d) " AND " SAME(%4$d) " AND " V
                " >= $%3$d::jsonb AND " V " < $%4$d::jsonb", t, k, a, bb);
        break;
    case HT_GP_OUTSIDE:
        addf(b, " AND ((" SAME(%3$d) " AND " V " < $%3$d::jsonb) OR ("
                SAME(%4$d) " AND " V " > $%4$d::jsonb))", t, k, a, bb);
        break;
    case HT_GP_WITHIN:
        addf(b, " AND " V " IN (SELECT jsonb_array_elements($%3$d::jsonb))",
             t, k, a);
        break;
    case HT_GP_WITHOUT:
        addf(b, " AND " V " NOT IN (SELECT jsonb_array_elements($%3$d::jsonb))",
             t, k, a);
        break;
    }
#undef SAME
#undef V
}



static int
oom(ht_err *err)
{
    return ht_err_set(err, HT_ENOMEM, 500, HT_EXC_SERVER, "out of memory");
}

/* The WHERE clause of a query, without the keyset and limit parts. */
static int
add_filters(sqlb *b, const char *graph, const ht_graph_query *q, const char *t)
{
    char frag[64];

    (void) snprintf(frag, sizeof(frag), " WHERE %s.graph = ", t);
    add_param(b, frag, graph, "");
    /* one id or one label: a plain "=", as hand-written SQL says it */
    if (q->ids != NULL && q->n_ids == 1) {
        char *id = ht_arena_printf(b->a, "%" PRId64, q->ids[0]);
        if (id == NULL)
            return HT_ENOMEM;
        (void) snprintf(frag, sizeof(frag), " AND %s.id = ", t);
        add_param(b, frag, id, "::bigint");
    } else if (q->ids != NULL) {
        const char *ids = ht_db_i64_array(b->a, q->ids, q->n_ids);
        if (ids == NULL)
            return HT_ENOMEM;
        (void) snprintf(frag, sizeof(frag), " AND %s.id = ANY(", t);
        add_param(b, frag, ids, "::bigint[])");
    }
    if (q->labels != NULL && q->n_labels == 1) {
        (void) snprintf(frag, sizeof(frag), " AND %s.label = ", t);
        add_param(b, frag, q->labels[0], "::text");
    } else if (q->labels != NULL) {
        const char *labels = ht_db_text_array(b->a, q->labels, q->n_labels);
        if (labels == NULL)
            return HT_ENOMEM;
        (void) snprintf(frag, sizeof(frag), " AND %s.label = ANY(", t);
        add_param(b, frag, labels, "::text[])");
    }
    if (q->contains != NULL) {
        (void) snprintf(frag, sizeof(frag), " AND %s.properties @> ", t);
        add_param(b, frag, q->contains, "::jsonb");
    }
    for (size_t i = 0; i < q->n_keys; i++) {
        (void) snprintf(frag, sizeof(frag), " AND %s.properties ? ", t);
        add_param(b, frag, q->keys[i], "::text");
    }
    for (size_t i = 0; i < q->n_preds; i++)
        add_pred(b, t, &q->preds[i]);
    if (q->order_key != NULL) {
        (void) snprintf(frag, sizeof(frag), " AND %s.properties ? ", t);
        add_param(b, frag, q->order_key, "::text");
    }
    return b->full ? HT_EINVAL : HT_OK;
}

static int
emit_rows(PGresult *res, int edge, ht_graph_row_cb cb, void *arg,
          int64_t *last, int *stopped, ht_err *err)
{
    int rows = PQntuples(res);


    for (int i = 0; i < rows; i++) {
        ht_graph_row r;
        int          rc;

        r.edge = edge;
        r.id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        r.label = PQgetvalue(res, i, 1);
        r.props = PQgetvalue(res, i, 2);
        r.out_v = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        r.in_v = strtoll(PQgetvalue(res, i, 4), NULL, 10);
        r.out_label = PQgetisnull(res, i, 5) ? NULL : PQgetvalue(res, i, 5);
        r.in_label = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6);
        *last = r.id;
        rc = cb(arg, &r, err);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            *stopped = 1;
            return HT_OK;
        }
    }
    return HT_OK;
}

int
ht_store_graph_scan(ht_db *db, ht_arena *a, const char *graph,
                    const ht_graph_query *q, ht_graph_row_cb cb, void *arg,
                    ht_err *err)
{
    const char *t = q->edge ? "e" : "v";
    int64_t     last = 0, left = q->limit;
    char       *last_val = NULL; /* order value of the last row (JSON) */
    int         stopped = 0, first = 1, rc = HT_OK;

    (void) a; /* each batch's statement is built in an arena of its own */
    for (;;) {
        ht_arena *tmp;
        sqlb      b;
        char      after[24], lim[24], off[24];
        PGresult *res = NULL;
        int64_t   want = (left >= 0 && left < BATCH) ? left : BATCH;
        int       rows;

        if (want == 0)
            break;
        tmp = ht_arena_new(16384, 0);
        memset(&b, 0, sizeof(b));
        b.a = tmp;
        add(&b, q->edge ? "SELECT " E_COLS : "SELECT " V_COLS);
        if (q->order_key != NULL)
            add_param(&b, q->edge ? ", (e.properties -> " : ", (v.properties -> ",
                      q->order_key, "::text)::text");
        add(&b, q->edge ? " FROM edges e" : " FROM vertices v");
        if (add_filters(&b, graph, q, t) != HT_OK) {
            ht_arena_free(tmp);
            rc = oom(err);
            break;
        }
        (void) snprintf(after, sizeof(after), "%" PRId64, last);
        (void) snprintf(lim, sizeof(lim), "%" PRId64, want);
        if (q->order_key == NULL) {
            if (!first)
                add_param(&b, q->edge ? " AND e.id > " : " AND v.id > ",
                          after, "::bigint");
            add(&b, q->edge ? " ORDER BY e.id" : " ORDER BY v.id");
        } else {
            int k = new_param(&b, q->order_key);

            if (!first) {
                int lv = new_param(&b, last_val), li = new_param(&b, after);

                if (q->order_desc)
                    addf(&b, " AND (%1$s.properties -> $%2$d::text < $%3$d::jsonb"
                             " OR (%1$s.properties -> $%2$d::text = $%3$d::jsonb"
                             " AND %1$s.id > $%4$d::bigint))", t, k, lv, li);
                else
                    addf(&b, " AND (%1$s.properties -> $%2$d::text, %1$s.id) >"
                             " ($%3$d::jsonb, $%4$d::bigint)", t, k, lv, li);
            }
            addf(&b, " ORDER BY %1$s.properties -> $%2$d::text%3$s, %1$s.id",
                 t, k, q->order_desc ? " DESC" : "");
        }
        add_param(&b, " LIMIT ", lim, "::bigint");
        if (first && q->offset > 0) {
            (void) snprintf(off, sizeof(off), "%" PRId64, q->offset);
            add_param(&b, " OFFSET ", off, "::bigint");
        }
        if (b.full) {
            ht_arena_free(tmp);
            rc = oom(err);
            break;
        }
        rc = ht_db_query(db, b.sql, b.n, b.params, &res, err);
        ht_arena_free(tmp); /* the parameters were sent */
        if (rc != HT_OK)
            break;
        rows = PQntuples(res);
        if (rows > 0 && q->order_key != NULL) {
            free(last_val);
            last_val = strdup(PQgetvalue(res, rows - 1, 7));
            if (last_val == NULL) {
                PQclear(res);
                rc = oom(err);
                break;
            }
        }
        /* the callbacks may run statements of their own on db: res is
         * complete on the client, so that is safe */
        rc = emit_rows(res, q->edge, cb, arg, &last, &stopped, err);
        PQclear(res);
        if (rc != HT_OK || stopped || rows < want)
            break;
        if (left > 0)
            left -= rows;
        first = 0;
    }
    free(last_val);
    return rc;
}

int
ht_store_graph_count(ht_db *db, ht_arena *a, const char *graph,
                     const ht_graph_query *q, int64_t *out, ht_err *err)
{
    sqlb      b = { .a = a };
    char      lim[24], off[24];
    PGresult *res = NULL;
    int       rc, sub = q->limit >= 0 || q->offset > 0;

    if (sub) {
        /* count() after limit/range: count at most that window */
        add(&b, q->edge ? "SELECT count(*) FROM (SELECT 1 FROM edges e"
                        : "SELECT count(*) FROM (SELECT 1 FROM vertices v");
    } else {
        add(&b, q->edge ? "SELECT count(*) FROM edges e"
                        : "SELECT count(*) FROM vertices v");
    }
    if (add_filters(&b, graph, q, q->edge ? "e" : "v") != HT_OK)
        return oom(err);
    if (q->limit >= 0) {
        (void) snprintf(lim, sizeof(lim), "%" PRId64, q->limit);
        add_param(&b, " LIMIT ", lim, "::bigint");
    }
    if (q->offset > 0) {
        (void) snprintf(off, sizeof(off), "%" PRId64, q->offset);
        add_param(&b, " OFFSET ", off, "::bigint");
    }
    if (sub)
        add(&b, ") s");
    if (b.full)
        return oom(err);
    rc = ht_db_query(db, b.sql, b.n, b.params, &res, err);
    if (rc == HT_OK)
        *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return rc;
}

int
ht_store_graph_adjacent(ht_db *db, ht_arena *a, const char *graph,
                        const int64_t *vids, size_t n, int dir,
                        const char *const *labels, size_t n_labels,
                        ht_graph_row_cb cb, void *arg, ht_err *err)
{
    sqlb        b = { .a = a };
    const char *ids = ht_db_i64_array(a, vids, n);
    const char *lab = labels ? ht_db_text_array(a, labels, n_labels) : NULL;
    PGresult   *res = NULL;
    int64_t     last = 0;
    int         stopped = 0, rc;

    if (ids == NULL || (labels != NULL && lab == NULL))
        return oom(err);
    add(&b, "SELECT " E_COLS " FROM edges e");
    add_param(&b, " WHERE e.graph = ", graph, "");
    if (dir == 1)
        add_param(&b, " AND e.out_v = ANY(", ids, "::bigint[])");
    else if (dir == 2)
        add_param(&b, " AND e.in_v = ANY(", ids, "::bigint[])");
    else {
        add_param(&b, " AND (e.out_v = ANY(", ids, "::bigint[])");
        add(&b, " OR e.in_v = ANY($2::bigint[]))");
    }
    if (lab != NULL)
        add_param(&b, " AND e.label = ANY(", lab, "::text[])");
    add(&b, " ORDER BY e.id");
    if (b.full)
        return oom(err);
    rc = ht_db_query(db, b.sql, b.n, b.params, &res, err);
    if (rc != HT_OK)
        return rc;
    rc = emit_rows(res, 1, cb, arg, &last, &stopped, err);
    PQclear(res);
    return rc;
}

/* $1 graph, $2 id or NULL, $3 label, $4 properties */
static const ht_stmt SQL_VERTEX_ADD = {
    40, "ht_vertex_add",
    "INSERT INTO vertices (graph, id, label, properties) VALUES"
    " ($1, COALESCE($2::bigint, nextval('ht_element_id_seq')), $3, $4::jsonb)"
    " RETURNING id",
    4, 0
};

/* $1 graph, $2 label, $3 out, $4 in, $5 properties.  Inserts nothing when
 * an end is missing from this graph. */
static const ht_stmt SQL_EDGE_ADD = {
    41, "ht_edge_add",
    "INSERT INTO edges (graph, id, label, out_v, in_v, properties)"
    " SELECT $1, nextval('ht_element_id_seq'), $2, o.id, i.id, $5::jsonb"
    " FROM vertices o, vertices i"
    " WHERE o.graph = $1 AND o.id = $3 AND i.graph = $1 AND i.id = $4"
    " RETURNING id, (SELECT label FROM vertices WHERE graph = $1 AND id = $3),"
    " (SELECT label FROM vertices WHERE graph = $1 AND id = $4)",
    5, 0
};

/* $1 graph, $2 id, $3 key, $4 value (NULL removes) */
static const ht_stmt SQL_VERTEX_PROP = {
    42, "ht_vertex_prop",
    "UPDATE vertices SET properties = CASE WHEN $4::jsonb IS NULL"
    " THEN properties - $3::text"
    " ELSE properties || jsonb_build_object($3::text, $4::jsonb) END"
    " WHERE graph = $1 AND id = $2",
    4, 1
};
static const ht_stmt SQL_EDGE_PROP = {
    43, "ht_edge_prop",
    "UPDATE edges SET properties = CASE WHEN $4::jsonb IS NULL"
    " THEN properties - $3::text"
    " ELSE properties || jsonb_build_object($3::text, $4::jsonb) END"
    " WHERE graph = $1 AND id = $2",
    4, 1
};
/* $1 graph, $2 id; the edges go with the vertex (ON DELETE CASCADE) */
static const ht_stmt SQL_VERTEX_DEL = {
    44, "ht_vertex_del", "DELETE FROM vertices WHERE graph = $1 AND id = $2", 2, 1
};
static const ht_stmt SQL_EDGE_DEL = {
    45, "ht_edge_del", "DELETE FROM edges WHERE graph = $1 AND id = $2", 2, 1
};

int
ht_store_vertex_add(ht_db *db, const char *graph, const char *label,
                    int64_t id, const char *props, int64_t *out, ht_err *err)
{
    char        ids[24];
    const char *p[4] = { graph, NULL, label, props };
    PGresult   *res = NULL;
    int         rc;

    if (id > 0) {
        (void) snprintf(ids, sizeof(ids), "%" PRId64, id);
        p[1] = ids;
    }
    rc = ht_db_exec(db, &SQL_VERTEX_ADD, p, &res, err);
    if (rc == HT_OK)
        *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    else if (rc == HT_ECONFLICT)
        ht_err_set(err, HT_ECONFLICT, 400, HT_EXC_ILLEGAL_ARG,
                   "vertex id %" PRId64 " already exists", id);
    PQclear(res);
    return rc;
}

int
ht_store_edge_add(ht_db *db, ht_arena *a, const char *graph, const char *label,
                  int64_t out_v, int64_t in_v, const char *props, int64_t *id,
                  const char **out_label, const char **in_label, ht_err *err)
{
    char        o[24], i[24];
    const char *p[5] = { graph, label, o, i, props };
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(o, sizeof(o), "%" PRId64, out_v);
    (void) snprintf(i, sizeof(i), "%" PRId64, in_v);
    rc = ht_db_exec(db, &SQL_EDGE_ADD, p, &res, err);
    if (rc != HT_OK)
        goto cleanup;
    if (PQntuples(res) == 0) {
        rc = ht_err_set(err, HT_ENOTFOUND, 400, HT_EXC_ILLEGAL_ARG,
                        "an end of the edge does not exist");
        goto cleanup;
    }
    *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    *out_label = ht_arena_strdup(a, PQgetvalue(res, 0, 1));
    *in_label = ht_arena_strdup(a, PQgetvalue(res, 0, 2));
    if (*out_label == NULL || *in_label == NULL)
        rc = oom(err);
cleanup:
    PQclear(res);
    return rc;
}

int
ht_store_element_set_prop(ht_db *db, const char *graph, int edge, int64_t id,
                          const char *key, const char *value, ht_err *err)
{
    char        ids[24];
    const char *p[4] = { graph, ids, key, value };
    PGresult   *res = NULL;
    int         rc;

    (void) snprintf(ids, sizeof(ids), "%" PRId64, id);
    rc = ht_db_exec(db, edge ? &SQL_EDGE_PROP : &SQL_VERTEX_PROP, p, &res, err);
    if (rc == HT_OK && ht_db_changed(res) == 0)
        rc = ht_err_set(err, HT_ENOTFOUND, 400, HT_EXC_ILLEGAL_ARG,
                        "element %" PRId64 " does not exist", id);
    PQclear(res);
    return rc;
}

int
ht_store_element_remove(ht_db *db, const char *graph, int edge, int64_t id,
                        ht_err *err)
{
    char        ids[24];
    const char *p[2] = { graph, ids };

    (void) snprintf(ids, sizeof(ids), "%" PRId64, id);
    return ht_db_exec(db, edge ? &SQL_EDGE_DEL : &SQL_VERTEX_DEL, p, NULL, err);
}

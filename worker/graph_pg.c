/*
 * worker/graph_pg.c - the interpreter's graph, stored in PostgreSQL.
 *
 * Rows come back from store_graph.c as text; this file turns them into
 * gr_elem values (borrowed by the scan callbacks: property objects parsed
 * with jansson per row and dropped after it) and back.  New elements of
 * add_vertex/add_edge live in the job arena.
 */
#include "worker/graph_pg.h"

#include <stdlib.h>
#include <string.h>

#include "common/store_graph.h"

static int
oom(ht_err *err)
{
    return ht_err_set(err, HT_ENOMEM, 0, NULL, "job memory limit reached");
}

static void
decref(void *p)
{
    json_decref(p);
}

/* Ties a jansson reference to the arena; on failure drops it now. */
static int
own_json(ht_arena *a, json_t *j)
{
    if (ht_arena_defer(a, decref, j) != 0) {
        json_decref(j);
        return -1;
    }
    return 0;
}

/* Opens the job's transaction before its first write. */
static int
begin_write(wk_graph_pg *pg, ht_err *err)
{
    if (ht_db_in_tx(pg->db))
        return HT_OK;
    return ht_db_simple(pg->db, "BEGIN", err);
}

static char *
props_text(json_t *props)
{
    if (props == NULL)
        return strdup("{}");
    return json_dumps(props, JSON_COMPACT);
}

typedef struct scan_ctx {
    gr_elem_cb cb;
    void      *arg;
} scan_ctx;

/* The row as a borrowed element (gremlin.h): its strings are the row's,
 * its properties are parsed here and dropped after the callback, so a
 * scan of any size allocates nothing that outlives one row. */
static int
on_row(void *arg, const ht_graph_row *r, ht_err *err)
{
    scan_ctx    *s = arg;
    gr_elem      e;
    json_error_t jerr;
    int          rc;

    memset(&e, 0, sizeof(e));
    e.kind = r->edge ? GR_ELEM_EDGE : GR_ELEM_VERTEX;
    e.id = r->id;
    e.label = r->label;
    if (r->edge) {
        e.out_v = r->out_v;
        e.in_v = r->in_v;
        e.out_label = r->out_label ? r->out_label : "";
        e.in_label = r->in_label ? r->in_label : "";
    }
    e.props = json_loads(r->props, 0, &jerr);
    if (e.props == NULL)
        return ht_err_set(err, HT_EDB, 0, NULL, "corrupt properties of element");
    rc = s->cb(s->arg, &e, err);
    json_decref(e.props);
    return rc;
}

static ht_graph_pred_op
pred_op(gr_pred_op op)
{
    switch (op) {
    case GR_P_EQ: return HT_GP_EQ;
    case GR_P_NEQ: return HT_GP_NEQ;
    case GR_P_LT: return HT_GP_LT;
    case GR_P_LTE: return HT_GP_LTE;
    case GR_P_GT: return HT_GP_GT;
    case GR_P_GTE: return HT_GP_GTE;
    case GR_P_INSIDE: return HT_GP_INSIDE;
    case GR_P_OUTSIDE: return HT_GP_OUTSIDE;
    case GR_P_BETWEEN: return HT_GP_BETWEEN;
    case GR_P_WITHIN: return HT_GP_WITHIN;
    default: return HT_GP_WITHOUT;
    }
}

/* A JSON value's text (in arena a), or NULL. */
static const char *
json_text(ht_arena *a, const json_t *j)
{
    char       *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *copy;

    if (text == NULL)
        return NULL;
    copy = ht_arena_strdup(a, text);
    free(text);
    return copy;
}

/* gr_query -> ht_graph_query (its parts in arena a).  has(k, v) becomes
 * an equality on properties -> k, as has(k, eq(v)) does: it is what the
 * expression indexes of sql/0002 serve (a containment test would go to
 * the GIN index, much slower for one value), and it is Gremlin's
 * equality for lists too; has(k) is a key that must exist. */
static int
to_query(ht_arena *a, const gr_query *q, ht_graph_query *out, ht_err *err)
{
    const char   **keys = NULL;
    ht_graph_pred *preds = NULL;
    size_t         n_keys = 0, n_preds = 0;

    memset(out, 0, sizeof(*out));
    out->edge = q->kind == GR_ELEM_EDGE;
    out->ids = q->ids;
    out->n_ids = q->n_ids;
    out->labels = q->labels;
    out->n_labels = q->n_labels;
    out->limit = q->limit;
    out->order_key = q->order_key;
    out->order_desc = q->order_desc;
    out->offset = q->offset;
    if (q->n_preds + q->n_has > 0) {
        preds = ht_arena_calloc(a, sizeof(*preds) * (q->n_preds + q->n_has));
        keys = ht_arena_alloc(a, sizeof(*keys) * (q->n_has ? q->n_has : 1));
        if (preds == NULL || keys == NULL)
            return oom(err);
    }
    for (size_t i = 0; i < q->n_has; i++) {
        if (q->has_values[i] == NULL) {
            keys[n_keys++] = q->has_keys[i];
            continue;
        }
        preds[n_preds].key = q->has_keys[i];
        preds[n_preds].op = HT_GP_EQ;
        preds[n_preds].a = json_text(a, q->has_values[i]);
        if (preds[n_preds].a == NULL)
            return oom(err);
        n_preds++;
    }
    for (size_t i = 0; i < q->n_preds; i++) {
        const gr_qpred *p = &q->preds[i];

        preds[n_preds].key = p->key;
        preds[n_preds].op = pred_op(p->op);
        preds[n_preds].a = json_text(a, p->a);
        preds[n_preds].b = p->b ? json_text(a, p->b) : NULL;
        if (preds[n_preds].a == NULL || (p->b && preds[n_preds].b == NULL))
            return oom(err);
        n_preds++;
    }
    out->preds = preds;
    out->n_preds = n_preds;
    out->keys = keys;
    out->n_keys = n_keys;
    return HT_OK;
}

static int
pg_scan(void *g, ht_arena *a, const gr_query *q, gr_elem_cb cb, void *arg,
        ht_err *err)
{
    wk_graph_pg   *pg = g;
    ht_graph_query hq;
    scan_ctx       s = { cb, arg };
    int            rc = to_query(a, q, &hq, err);

    if (rc != HT_OK)
        return rc;
    return ht_store_graph_scan(pg->db, a, pg->graph, &hq, on_row, &s, err);
}

static int
pg_count(void *g, const gr_query *q, int64_t *out, ht_err *err)
{
    wk_graph_pg   *pg = g;
    ht_arena      *a = ht_arena_new(4096, 0);
    ht_graph_query hq;
    int            rc = to_query(a, q, &hq, err);

    if (rc == HT_OK)
        rc = ht_store_graph_count(pg->db, a, pg->graph, &hq, out, err);
    ht_arena_free(a);
    return rc;
}

static int
pg_adjacent(void *g, ht_arena *a, const int64_t *vids, size_t n, gr_dir dir,
            const char **labels, size_t n_labels, gr_elem_cb cb, void *arg,
            ht_err *err)
{
    wk_graph_pg *pg = g;
    scan_ctx     s = { cb, arg };

    if (n == 0)
        return HT_OK;
    return ht_store_graph_adjacent(pg->db, a, pg->graph, vids, n, (int) dir,
                                   labels, n_labels, on_row, &s, err);
}

static int
pg_add_vertex(void *g, ht_arena *a, const char *label, int64_t id,
              json_t *props, gr_elem *out, ht_err *err)
{
    wk_graph_pg *pg = g;
    char        *text = props_text(props);
    int64_t      new_id = 0;
    int          rc;

    if (text == NULL)
        return oom(err);
    rc = begin_write(pg, err);
    if (rc == HT_OK)
        rc = ht_store_vertex_add(pg->db, pg->graph, label, id, text, &new_id, err);
    free(text);
    if (rc != HT_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    out->kind = GR_ELEM_VERTEX;
    out->id = new_id;
    out->label = ht_arena_strdup(a, label);
    out->props = props ? json_incref(props) : json_object();
    if (out->props == NULL || own_json(a, out->props) != 0 || out->label == NULL)
        return oom(err);
    return HT_OK;
}

static int
pg_add_edge(void *g, ht_arena *a, const char *label, int64_t out_v,
            int64_t in_v, json_t *props, gr_elem *out, ht_err *err)
{
    wk_graph_pg *pg = g;
    char        *text = props_text(props);
    int64_t      id = 0;
    const char  *ol = NULL, *il = NULL;
    int          rc;

    if (text == NULL)
        return oom(err);
    rc = begin_write(pg, err);
    if (rc == HT_OK)
        rc = ht_store_edge_add(pg->db, a, pg->graph, label, out_v, in_v, text,
                               &id, &ol, &il, err);
    free(text);
    if (rc != HT_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    out->kind = GR_ELEM_EDGE;
    out->id = id;
    out->label = ht_arena_strdup(a, label);
    out->out_v = out_v;
    out->in_v = in_v;
    out->out_label = ol;
    out->in_label = il;
    out->props = props ? json_incref(props) : json_object();
    if (out->props == NULL || own_json(a, out->props) != 0 || out->label == NULL)
        return oom(err);
    return HT_OK;
}

static int
pg_set_property(void *g, gr_elem_kind kind, int64_t id, const char *key,
                json_t *value, ht_err *err)
{
    wk_graph_pg *pg = g;
    char        *text = NULL;
    int          rc;

    if (value != NULL) {
        text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        if (text == NULL)
            return oom(err);
    }
    rc = begin_write(pg, err);
    if (rc == HT_OK)
        rc = ht_store_element_set_prop(pg->db, pg->graph, kind == GR_ELEM_EDGE,
                                       id, key, text, err);
    free(text);
    return rc;
}

static int
pg_remove(void *g, gr_elem_kind kind, int64_t id, ht_err *err)
{
    wk_graph_pg *pg = g;
    int          rc = begin_write(pg, err);

    if (rc == HT_OK)
        rc = ht_store_element_remove(pg->db, pg->graph, kind == GR_ELEM_EDGE, id, err);
    return rc;
}

static int
pg_commit(void *g, ht_err *err)
{
    wk_graph_pg *pg = g;

    if (!ht_db_in_tx(pg->db))
        return HT_OK;
    if (ht_db_tx_failed(pg->db)) {
        ht_err ignored;
        (void) ht_db_simple(pg->db, "ROLLBACK", &ignored);
        return ht_err_set(err, HT_EDB, 0, NULL,
                          "the transaction had failed and was rolled back");
    }
    return ht_db_simple(pg->db, "COMMIT", err);
}

static int
pg_rollback(void *g, ht_err *err)
{
    wk_graph_pg *pg = g;

    if (!ht_db_in_tx(pg->db))
        return HT_OK;
    return ht_db_simple(pg->db, "ROLLBACK", err);
}

const gr_graph_ops wk_graph_pg_ops = {
    .add_vertex = pg_add_vertex,
    .add_edge = pg_add_edge,
    .scan = pg_scan,
    .count = pg_count,
    .adjacent = pg_adjacent,
    .set_property = pg_set_property,
    .remove = pg_remove,
    .commit = pg_commit,
    .rollback = pg_rollback,
};

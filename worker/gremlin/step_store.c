/*
 * worker/gremlin/step_store.c - the steps that reach the store: the head
 * pushed into one query, adjacency in batches, stub loading, mutations.
 *
 * The head is the source and the filters right after it: ids, hasLabel,
 * has(k), has(k, v), has(k, P) with plain operands, hasId(ids), one
 * order().by(key[, asc|desc]) and limit/range/skip (composed into offset
 * and limit); a count() right after them is ops->count.  Vertices reached
 * over edges are stubs (id and label) until a step or the result needs
 * their properties; then they are loaded GR_BATCH ids per scan.
 */
#include "worker/gremlin/step.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PUSHED 32

/* ---- ids --------------------------------------------------------------- */

int
gr_collect_ids(gr_ctx *c, const gr_value *args, size_t n, int64_t **ids,
               size_t *n_ids)
{
    size_t   total = 0, k = 0;
    int64_t *v;

    for (size_t i = 0; i < n; i++) {
        size_t add = args[i].kind == GR_VAL_LIST ? args[i].u.list->n
                     : args[i].kind == GR_VAL_RANGE
                         ? (size_t) args[i].u.range.count
                         : 1;

        if (add > ((size_t) 1 << 26) || total + add > ((size_t) 1 << 26))
            return gr_ctx_fatal(c, HT_ELIMIT, "LimitExceedException",
                                "too many ids in one step");
        total += add;
    }
    v = ht_arena_alloc(c->a, (total ? total : 1) * sizeof(*v));
    if (v == NULL)
        return gr_ctx_oom(c);
    for (size_t i = 0; i < n; i++) {
        const gr_value *a = &args[i];

        if (a->kind == GR_VAL_LIST) {
            for (size_t j = 0; j < a->u.list->n; j++) {
                const gr_value *w = &a->u.list->items[j];

                v[k++] = w->kind == GR_VAL_ELEM ? w->u.elem->id : w->u.i;
            }
        } else if (a->kind == GR_VAL_RANGE) {
            for (int64_t j = 0; j < a->u.range.count; j++)
                v[k++] = a->u.range.from + j * a->u.range.step;
        } else {
            v[k++] = a->kind == GR_VAL_ELEM ? a->u.elem->id : a->u.i;
        }
    }
    *ids = v;
    *n_ids = k;
    return HT_OK;
}

static int
cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *) x, b = *(const int64_t *) y;

    return (a > b) - (a < b);
}

static size_t
sort_unique(int64_t *ids, size_t n)
{
    size_t k = 0;

    if (n == 0)
        return 0;
    qsort(ids, n, sizeof(*ids), cmp_i64);
    for (size_t i = 1; i < n; i++)
        if (ids[i] != ids[k])
            ids[++k] = ids[i];
    return k + 1;
}

/* ---- scanning ---------------------------------------------------------- */

typedef struct scan_state {
    gr_runner *r;
    gr_stream *out;
    int        rc;
    int64_t    seen;
} scan_state;

static int
scan_cb(void *arg, const gr_elem *e, ht_err *err)
{
    scan_state *st = arg;
    gr_ctx     *c = st->r->c;
    gr_elem    *copy;
    gr_trv      none;
    int         rc;

    if (++st->seen % GR_BATCH == 0) {
        rc = gr_ctx_check(c);
        if (rc == HT_OK)
            rc = gr_ctx_tick(c, GR_BATCH);
        if (rc != HT_OK)
            goto fail;
    }
    copy = gr_elem_copy(c->a, e); /* e is the store's, borrowed */
    if (copy == NULL) {
        rc = gr_ctx_oom(c);
        goto fail;
    }
    memset(&none, 0, sizeof(none));
    rc = gr_trv_move(st->r, st->out, &none, gr_elem_value(copy));
    if (rc != HT_OK)
        goto fail;
    return 0;
fail:
    st->rc = rc;
    return ht_err_set(err, rc, 0, c->err.exception, "%s", c->err.msg);
}

int
gr_store_scan(gr_ctx *c, const gr_query *q, gr_elem_cb cb, void *arg,
              int *cb_rc)
{
    ht_err serr;
    int    rc;

    ht_err_clear(&serr);
    *cb_rc = 0;
    rc = c->job->ops->scan(c->job->graph, c->a, q, cb, arg, &serr);
    if (rc >= 0)
        return HT_OK;
    if (*cb_rc != 0)
        return *cb_rc;
    return gr_ctx_store_error(c, rc, &serr);
}

int
gr_store_count(gr_ctx *c, const gr_query *q, int64_t *out)
{
    ht_err serr;
    int    rc;

    *out = 0;
    if (q->limit == 0)
        return HT_OK;
    ht_err_clear(&serr);
    rc = c->job->ops->count(c->job->graph, q, out, &serr);
    if (rc < 0)
        return gr_ctx_store_error(c, rc, &serr);
    return HT_OK;
}

static int
run_scan(gr_runner *r, const gr_query *q, gr_stream *out)
{
    scan_state st = {r, out, 0, 0};

    return gr_store_scan(r->c, q, scan_cb, &st, &st.rc);
}

/* Loads the stub vertices among *ptrs[0..n), GR_BATCH ids per scan. */
static int
load_ptrs(gr_ctx *c, gr_value **ptrs, size_t n)
{
    gr_runner r = {c, 0, 1};
    gr_stream *found = gr_stream_new(c);
    int64_t   *ids;
    size_t     k = 0;
    int        rc;

    if (found == NULL)
        return HT_ENOMEM;
    ids = ht_arena_alloc(c->a, (n ? n : 1) * sizeof(*ids));
    if (ids == NULL)
        return gr_ctx_oom(c);
    for (size_t i = 0; i < n; i++)
        ids[k++] = ptrs[i]->u.elem->id;
    k = sort_unique(ids, k);
    for (size_t off = 0; off < k; off += GR_BATCH) {
        gr_query q;

        memset(&q, 0, sizeof(q));
        q.kind = GR_ELEM_VERTEX;
        q.ids = ids + off;
        q.n_ids = k - off < GR_BATCH ? k - off : GR_BATCH;
        q.limit = -1;
        rc = gr_ctx_check(c);
        if (rc == HT_OK)
            rc = run_scan(&r, &q, found);
        if (rc != HT_OK)
            return rc;
    }
    /* found is in ascending id order, as the store streams it */
    for (size_t i = 0; i < n; i++) {
        gr_elem *e = ptrs[i]->u.elem;
        size_t   lo = 0, hi = found->n;

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (found->t[mid].v.u.elem->id < e->id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < found->n && found->t[lo].v.u.elem->id == e->id)
            ptrs[i]->u.elem = found->t[lo].v.u.elem;
    }
    return HT_OK;
}

static int
is_stub(const gr_value *v)
{
    return v->kind == GR_VAL_ELEM && v->u.elem->props == NULL &&
           v->u.elem->kind == GR_ELEM_VERTEX;
}

int
gr_load_values(gr_ctx *c, gr_value *vals, size_t n)
{
    gr_value **ptrs;
    size_t     k = 0;

    for (size_t i = 0; i < n; i++)
        k += is_stub(&vals[i]);
    if (k == 0)
        return HT_OK;
    ptrs = ht_arena_alloc(c->a, k * sizeof(*ptrs));
    if (ptrs == NULL)
        return gr_ctx_oom(c);
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (is_stub(&vals[i]))
            ptrs[k++] = &vals[i];
    return load_ptrs(c, ptrs, k);
}

int
gr_load_stubs(gr_ctx *c, gr_stream *s)
{
    gr_value **ptrs;
    size_t     k = 0;

    for (size_t i = 0; i < s->n; i++)
        k += is_stub(&s->t[i].v);
    if (k == 0)
        return HT_OK;
    ptrs = ht_arena_alloc(c->a, k * sizeof(*ptrs));
    if (ptrs == NULL)
        return gr_ctx_oom(c);
    k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (is_stub(&s->t[i].v))
            ptrs[k++] = &s->t[i].v;
    return load_ptrs(c, ptrs, k);
}

int
gr_trav_fetch_vertex(gr_ctx *c, int64_t id, gr_elem **out)
{
    gr_runner r = {c, 0, 1};
    gr_stream *found = gr_stream_new(c);
    gr_query   q;
    int        rc;

    if (found == NULL)
        return HT_ENOMEM;
    memset(&q, 0, sizeof(q));
    q.kind = GR_ELEM_VERTEX;
    q.ids = &id;
    q.n_ids = 1;
    q.limit = 1;
    rc = run_scan(&r, &q, found);
    if (rc != HT_OK)
        return rc;
    *out = found->n ? found->t[0].v.u.elem : NULL;
    return HT_OK;
}

/* ---- the head ---------------------------------------------------------- */

/* A plain value (number, string, boolean) as JSON kept by the arena, or
 * *out NULL when it is not one. */
static int
plain_json(gr_ctx *c, const gr_value *v, json_t **out)
{
    json_t *j = NULL;
    int     rc;

    *out = NULL;
    if (v->kind != GR_VAL_INT && v->kind != GR_VAL_DOUBLE &&
        v->kind != GR_VAL_STRING && v->kind != GR_VAL_BOOL)
        return HT_OK;
    rc = gr_value_to_json_prop(v, &j);
    if (rc == HT_ENOMEM)
        return gr_ctx_oom(c);
    if (rc != HT_OK)
        return HT_OK;
    rc = gr_ctx_keep_json(c, j);
    if (rc == HT_OK)
        *out = j;
    return rc;
}

/* has(k, P) as a pushed predicate; *ok 0 when it cannot be pushed. */
static int
push_pred(gr_ctx *c, const char *key, const gr_pred *p, gr_qpred *out,
          int *ok)
{
    int rc;

    *ok = 0;
    memset(out, 0, sizeof(*out));
    out->key = key;
    out->op = (gr_pred_op) p->op;
    if (p->vals) {
        json_t *arr = json_array();

        if (arr == NULL || gr_ctx_keep_json(c, arr) != HT_OK)
            return arr ? HT_ENOMEM : gr_ctx_oom(c);
        for (size_t i = 0; i < p->vals->n; i++) {
            json_t *j;

            rc = plain_json(c, &p->vals->items[i], &j);
            if (rc != HT_OK)
                return rc;
            if (j == NULL)
                return HT_OK;
            if (json_array_append(arr, j) != 0)
                return gr_ctx_oom(c);
        }
        out->a = arr;
        *ok = 1;
        return HT_OK;
    }
    rc = plain_json(c, &p->a, &out->a);
    if (rc != HT_OK || out->a == NULL)
        return rc;
    if (p->op == GR_P_INSIDE || p->op == GR_P_OUTSIDE ||
        p->op == GR_P_BETWEEN) {
        rc = plain_json(c, &p->b, &out->b);
        if (rc != HT_OK || out->b == NULL)
            return rc;
    }
    *ok = 1;
    return HT_OK;
}

/* limit/range/skip composed onto the query's offset and limit. */
static void
compose_range(gr_query *q, int64_t lo, int64_t hi)
{
    int64_t lim = q->limit;

    if (lim >= 0)
        lim = lim > lo ? lim - lo : 0;
    if (hi >= 0 && (lim < 0 || hi - lo < lim))
        lim = hi - lo;
    if (q->limit >= 0 && lo > q->limit)
        lo = q->limit;
    q->offset += lo;
    q->limit = lim;
}

int
gr_head_query(gr_runner *r, const gr_op *ops, size_t n_ops, size_t *next,
              gr_query *out)
{
    gr_ctx        *c = r->c;
    const gr_step *src = ops[0].s;
    gr_query       q;
    const char   **has_keys;
    json_t       **has_values;
    gr_qpred      *preds;
    size_t         i;
    int            rc, ranged = 0;

    memset(&q, 0, sizeof(q));
    q.kind = src->kind == GR_S_V ? GR_ELEM_VERTEX : GR_ELEM_EDGE;
    q.limit = -1;
    has_keys = ht_arena_alloc(c->a, MAX_PUSHED * sizeof(*has_keys));
    has_values = ht_arena_alloc(c->a, MAX_PUSHED * sizeof(*has_values));
    preds = ht_arena_alloc(c->a, MAX_PUSHED * sizeof(*preds));
    if (has_keys == NULL || has_values == NULL || preds == NULL)
        return gr_ctx_oom(c);
    q.has_keys = has_keys;
    q.has_values = has_values;
    q.preds = preds;
    if (src->n_args) {
        int64_t *ids;

        rc = gr_collect_ids(c, src->args, src->n_args, &ids, &q.n_ids);
        if (rc != HT_OK)
            return rc;
        q.ids = ids;
    }
    for (i = 1; i < n_ops; i++) {
        const gr_step *s = ops[i].s;

        if (ranged && s->kind != GR_S_LIMIT && s->kind != GR_S_RANGE &&
            s->kind != GR_S_SKIP)
            break;
        if (s->kind == GR_S_HASLABEL && q.labels == NULL) {
            const char **labels = ht_arena_alloc(c->a, s->n_args *
                                                           sizeof(*labels));

            if (labels == NULL)
                return gr_ctx_oom(c);
            for (size_t k = 0; k < s->n_args; k++)
                labels[k] = s->args[k].u.str.s;
            q.labels = labels;
            q.n_labels = s->n_args;
        } else if (s->kind == GR_S_HASID && q.ids == NULL &&
                   s->args[0].kind != GR_VAL_PRED) {
            int64_t *ids;

            rc = gr_collect_ids(c, s->args, s->n_args, &ids, &q.n_ids);
            if (rc != HT_OK)
                return rc;
            q.ids = ids;
        } else if (s->kind == GR_S_HAS && s->n_args <= 2 &&
                   s->args[0].kind == GR_VAL_STRING && q.order_key == NULL &&
                   q.n_has < MAX_PUSHED && q.n_preds < MAX_PUSHED) {
            const gr_value *v = s->n_args == 2 ? &s->args[1] : NULL;
            json_t         *j = NULL;

            if (v && v->kind == GR_VAL_PRED && v->u.pred->op == GR_P_EQ)
                v = &v->u.pred->a;
            if (v && v->kind == GR_VAL_PRED) {
                int ok;

                rc = push_pred(c, s->args[0].u.str.s, v->u.pred,
                               &preds[q.n_preds], &ok);
                if (rc != HT_OK)
                    return rc;
                if (!ok)
                    break;
                q.n_preds++;
                continue;
            }
            if (v) {
                rc = plain_json(c, v, &j);
                if (rc != HT_OK)
                    return rc;
                if (j == NULL)
                    break; /* not a plain value: filter in memory */
            }
            has_keys[q.n_has] = s->args[0].u.str.s;
            has_values[q.n_has] = j;
            q.n_has++;
        } else if (s->kind == GR_S_ORDER && q.order_key == NULL &&
                   ops[i].n_by == 1 && ops[i].by[0]->n_args >= 1 &&
                   ops[i].by[0]->args[0].kind == GR_VAL_STRING) {
            const gr_step *by = ops[i].by[0];

            q.order_key = by->args[0].u.str.s;
            q.order_desc = by->n_args == 2 &&
                           by->args[1].u.obj == GR_OBJ_DESC;
        } else if (s->kind == GR_S_LIMIT) {
            compose_range(&q, 0, s->args[0].u.i < 0 ? -1 : s->args[0].u.i);
            ranged = 1;
        } else if (s->kind == GR_S_RANGE) {
            compose_range(&q, s->args[0].u.i, s->args[1].u.i);
            ranged = 1;
        } else if (s->kind == GR_S_SKIP) {
            compose_range(&q, s->args[0].u.i < 0 ? 0 : s->args[0].u.i, -1);
            ranged = 1;
        } else {
            break;
        }
    }
    if (q.ids != NULL && q.n_ids == 0) { /* g.V([]) matches nothing */
        q.limit = 0;
    }
    *next = i;
    *out = q;
    return HT_OK;
}

/* g.V() in the middle of a traversal (or first in __.V()): every input
 * traverser goes on to every match, from one scan. */
int
gr_step_source_mid(gr_runner *r, const gr_step *s, gr_stream *in,
                   gr_stream *out)
{
    gr_runner plain = {r->c, 0, 1};
    gr_stream *found = gr_stream_new(r->c);
    gr_query   q;
    int        rc;

    if (found == NULL)
        return HT_ENOMEM;
    if (in->n == 0)
        return HT_OK;
    memset(&q, 0, sizeof(q));
    q.kind = s->kind == GR_S_V ? GR_ELEM_VERTEX : GR_ELEM_EDGE;
    q.limit = -1;
    if (s->n_args) {
        int64_t *ids;

        rc = gr_collect_ids(r->c, s->args, s->n_args, &ids, &q.n_ids);
        if (rc != HT_OK)
            return rc;
        q.ids = ids;
        if (q.n_ids == 0)
            return HT_OK;
    }
    rc = run_scan(&plain, &q, found);
    for (size_t i = 0; rc == HT_OK && i < in->n; i++)
        for (size_t k = 0; rc == HT_OK && k < found->n; k++)
            rc = gr_trv_move(r, out, &in->t[i], found->t[k].v);
    return rc;
}

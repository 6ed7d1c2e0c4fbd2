/*
 * worker/gremlin/step_agg.c - the barrier steps: count, sum, min, max,
 * mean, fold, group, groupCount and order; and the hash index dedup and
 * group use, so neither is quadratic in the stream.
 *
 * Every barrier works per origin (see step.h): count() and fold() answer
 * for every origin, even an empty one (0, []), sum/min/max/mean only for
 * origins that had values, as in TinkerPop 3.5.
 */
#include "worker/gremlin/step.h"

#include <string.h>

/* ---- hashing ----------------------------------------------------------- */

static uint64_t
mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

uint64_t
gr_value_hash(const gr_value *v)
{
    uint64_t h = 0;

    switch (v->kind) {
    case GR_VAL_NULL: return 1;
    case GR_VAL_BOOL: return 2 + (uint64_t) v->u.b;
    case GR_VAL_INT:
    case GR_VAL_DOUBLE: { /* 1 == 1.0: hash numbers by their double */
        double d = gr_value_as_double(v);

        if (d == 0)
            d = 0; /* -0.0 */
        memcpy(&h, &d, sizeof(h));
        return mix(h);
    }
    case GR_VAL_STRING:
        h = 1469598103934665603ULL;
        for (size_t i = 0; i < v->u.str.len; i++)
            h = (h ^ (unsigned char) v->u.str.s[i]) * 1099511628211ULL;
        return h;
    case GR_VAL_LIST:
        h = 7;
        for (size_t i = 0; i < v->u.list->n; i++)
            h = h * 31 + gr_value_hash(&v->u.list->items[i]);
        return mix(h);
    case GR_VAL_RANGE:
        h = 7;
        for (int64_t i = 0; i < v->u.range.count; i++) {
            gr_value e = gr_int(v->u.range.from + i * v->u.range.step);

            h = h * 31 + gr_value_hash(&e);
        }
        return mix(h);
    case GR_VAL_MAP:
        for (size_t i = 0; i < v->u.map->n; i++)
            h += mix(gr_value_hash(&v->u.map->keys[i]) * 3 +
                     gr_value_hash(&v->u.map->vals[i]));
        return h;
    case GR_VAL_ELEM:
        return mix((uint64_t) v->u.elem->id * 2 + (uint64_t) v->u.elem->kind);
    case GR_VAL_OBJ: return mix(100 + (uint64_t) v->u.obj);
    default: return mix((uint64_t) (uintptr_t) v->u.trav);
    }
}

static int
vindex_grow(ht_arena *a, gr_vindex *ix)
{
    size_t  ns = ix->n_slots ? ix->n_slots * 2 : 64;
    size_t *slots = ht_arena_calloc(a, ns * sizeof(*slots));

    if (slots == NULL)
        return HT_ENOMEM;
    for (size_t k = 0; k < ix->n; k++) {
        size_t at = (size_t) gr_value_hash(&ix->keys[k]) & (ns - 1);

        while (slots[at])
            at = (at + 1) & (ns - 1);
        slots[at] = k + 1;
    }
    ix->slots = slots;
    ix->n_slots = ns;
    return HT_OK;
}

int
gr_vindex_put(ht_arena *a, gr_vindex *ix, const gr_value *v, size_t *at_out,
              int *added)
{
    size_t at;

    if ((ix->n + 1) * 2 > ix->n_slots && vindex_grow(a, ix) != HT_OK)
        return HT_ENOMEM;
    at = (size_t) gr_value_hash(v) & (ix->n_slots - 1);
    while (ix->slots[at]) {
        size_t k = ix->slots[at] - 1;

        if (gr_value_equals(&ix->keys[k], v)) {
            *at_out = k;
            *added = 0;
            return HT_OK;
        }
        at = (at + 1) & (ix->n_slots - 1);
    }
    if (ix->n == ix->cap) {
        size_t    cap = ix->cap ? ix->cap * 2 : 16;
        gr_value *nk = ht_arena_alloc(a, cap * sizeof(*nk));

        if (nk == NULL)
            return HT_ENOMEM;
        if (ix->n)
            memcpy(nk, ix->keys, ix->n * sizeof(*nk));
        ix->keys = nk;
        ix->cap = cap;
    }
    ix->keys[ix->n] = *v;
    ix->slots[at] = ix->n + 1;
    *at_out = ix->n++;
    *added = 1;
    return HT_OK;
}

/* ---- reducing ---------------------------------------------------------- */

static int
emit(gr_runner *r, gr_stream *out, size_t origin, gr_value v)
{
    gr_trv t;

    memset(&t, 0, sizeof(t));
    t.origin = origin;
    return gr_trv_move(r, out, &t, v);
}

static int
is_reducer(const gr_trav *t)
{
    gr_step_kind k = t->last->kind;

    return k == GR_S_COUNT || k == GR_S_SUM || k == GR_S_MIN ||
           k == GR_S_MAX || k == GR_S_MEAN || k == GR_S_FOLD ||
           k == GR_S_GROUP || k == GR_S_GROUPCOUNT;
}

static gr_value
list_value(gr_list *l)
{
    gr_value v;

    v.kind = GR_VAL_LIST;
    v.u.list = l;
    return v;
}

/* group() and groupCount(): one map per origin. */
static int
group_step(gr_runner *r, const gr_op *op, gr_stream *in, gr_stream *out)
{
    gr_ctx    *c = r->c;
    size_t     no = r->n_origins ? r->n_origins : 1;
    int        counting = op->s->kind == GR_S_GROUPCOUNT;
    gr_value  *vals, *keys;
    char      *found;
    gr_vindex  ix;   /* distinct (origin, key) pairs: the groups */
    size_t    *grp;  /* group of each traverser, or SIZE_MAX */
    gr_list  **members = NULL;
    int        rc;

    vals = ht_arena_alloc(c->a, (in->n ? in->n : 1) * sizeof(*vals));
    grp = ht_arena_alloc(c->a, (in->n ? in->n : 1) * sizeof(*grp));
    if (vals == NULL || grp == NULL)
        return gr_ctx_oom(c);
    for (size_t i = 0; i < in->n; i++)
        vals[i] = in->t[i].v;
    rc = gr_project(r, op->n_by ? op->by[0] : NULL, vals, in->n, &keys,
                    &found);
    if (rc != HT_OK)
        return rc;
    memset(&ix, 0, sizeof(ix));
    for (size_t i = 0; i < in->n; i++) {
        gr_list *pair;
        gr_value key;
        int      added;

        grp[i] = (size_t) -1;
        if (!found[i])
            continue;
        pair = gr_list_new(c->a, 2);
        if (pair == NULL)
            return gr_ctx_oom(c);
        pair->items[0] = gr_int((int64_t) (in->t[i].origin % no));
        pair->items[1] = keys[i];
        pair->n = 2;
        key = list_value(pair);
        if (gr_vindex_put(c->a, &ix, &key, &grp[i], &added) != HT_OK)
            return gr_ctx_oom(c);
    }
    /* the group values */
    {
        gr_value *gv = ht_arena_calloc(c->a, (ix.n ? ix.n : 1) * sizeof(*gv));
        gr_map  **maps = ht_arena_calloc(c->a, no * sizeof(*maps));

        if (gv == NULL || maps == NULL)
            return gr_ctx_oom(c);
        if (counting) {
            int64_t *n = ht_arena_calloc(c->a, (ix.n ? ix.n : 1) * sizeof(*n));

            if (n == NULL)
                return gr_ctx_oom(c);
            for (size_t i = 0; i < in->n; i++)
                if (grp[i] != (size_t) -1)
                    n[grp[i]]++;
            for (size_t g = 0; g < ix.n; g++)
                gv[g] = gr_int(n[g]);
        } else if (op->n_by >= 2 && op->by[1]->n_args &&
                   op->by[1]->args[0].kind == GR_VAL_TRAV) {
            const gr_trav *vt = op->by[1]->args[0].u.trav;
            gr_stream     *s = gr_stream_new(c), *res = NULL;
            int            reduces = is_reducer(vt);

            if (s == NULL)
                return HT_ENOMEM;
            /* members of group g run as origin g, so the child's barriers
             * reduce each group on its own */
            for (size_t i = 0; i < in->n; i++)
                if (grp[i] != (size_t) -1) {
                    gr_trv t = in->t[i];

                    t.origin = grp[i];
                    rc = gr_stream_push(c, s, t);
                    if (rc != HT_OK)
                        return rc;
                }
            rc = gr_run_grouped(r, vt, s, ix.n, &res);
            if (rc != HT_OK)
                return rc;
            members = ht_arena_calloc(c->a, (ix.n ? ix.n : 1) *
                                                sizeof(*members));
            if (members == NULL)
                return gr_ctx_oom(c);
            for (size_t i = 0; i < res->n; i++) {
                size_t g = res->t[i].origin;

                if (g >= ix.n)
                    continue;
                if (reduces) {
                    if (members[g] == NULL) {
                        gv[g] = res->t[i].v;
                        members[g] = (gr_list *) s; /* taken */
                    }
                    continue;
                }
                if (members[g] == NULL &&
                    (members[g] = gr_list_new(c->a, 0)) == NULL)
                    return gr_ctx_oom(c);
                if (gr_list_push(c->a, members[g], res->t[i].v) != HT_OK)
                    return gr_ctx_oom(c);
            }
            for (size_t g = 0; g < ix.n && !reduces; g++) {
                if (members[g] == NULL &&
                    (members[g] = gr_list_new(c->a, 0)) == NULL)
                    return gr_ctx_oom(c);
                gv[g] = list_value(members[g]);
            }
        } else {
            gr_value *pv = vals;
            char     *pf = NULL;

            if (op->n_by >= 2) {
                rc = gr_project(r, op->by[1], vals, in->n, &pv, &pf);
                if (rc != HT_OK)
                    return rc;
            } else {
                rc = gr_load_values(c, vals, in->n);
                if (rc != HT_OK)
                    return rc;
            }
            for (size_t g = 0; g < ix.n; g++) {
                gr_list *l = gr_list_new(c->a, 0);

                if (l == NULL)
                    return gr_ctx_oom(c);
                gv[g] = list_value(l);
            }
            for (size_t i = 0; i < in->n; i++)
                if (grp[i] != (size_t) -1 && (pf == NULL || pf[i]) &&
                    gr_list_push(c->a, gv[grp[i]].u.list, pv[i]) != HT_OK)
                    return gr_ctx_oom(c);
        }
        for (size_t g = 0; g < ix.n; g++) {
            size_t o = (size_t) ix.keys[g].u.list->items[0].u.i;

            if (maps[o] == NULL && (maps[o] = gr_map_new(c->a)) == NULL)
                return gr_ctx_oom(c);
            if (gr_map_put(c->a, maps[o], ix.keys[g].u.list->items[1],
                           gv[g]) != HT_OK)
                return gr_ctx_oom(c);
        }
        for (size_t o = 0; o < no; o++) {
            gr_value mv;

            if (maps[o] == NULL && (maps[o] = gr_map_new(c->a)) == NULL)
                return gr_ctx_oom(c);
            mv.kind = GR_VAL_MAP;
            mv.u.map = maps[o];
            rc = emit(r, out, o, mv);
            if (rc != HT_OK)
                return rc;
        }
    }
    return HT_OK;
}

int
gr_step_reduce(gr_runner *r, const gr_op *op, gr_stream *in, gr_stream *out)
{
    gr_ctx        *c = r->c;
    const gr_step *s = op->s;
    size_t         no = r->n_origins ? r->n_origins : 1;
    gr_value      *acc;
    int64_t       *n;
    int            rc;

    if (s->kind == GR_S_GROUP || s->kind == GR_S_GROUPCOUNT)
        return group_step(r, op, in, out);
    acc = ht_arena_alloc(c->a, no * sizeof(*acc));
    n = ht_arena_calloc(c->a, no * sizeof(*n));
    if (acc == NULL || n == NULL)
        return gr_ctx_oom(c);
    if (s->kind == GR_S_FOLD) {
        rc = gr_load_stubs(c, in);
        if (rc != HT_OK)
            return rc;
        for (size_t o = 0; o < no; o++) {
            gr_list *l = gr_list_new(c->a, 0);

            if (l == NULL)
                return gr_ctx_oom(c);
            acc[o] = list_value(l);
        }
    }
    for (size_t i = 0; i < in->n; i++) {
        const gr_value *v = &in->t[i].v;
        size_t          o = in->t[i].origin % no;
        int             cmp;

        switch (s->kind) {
        case GR_S_FOLD:
            if (gr_list_push(c->a, acc[o].u.list, *v) != HT_OK)
                return gr_ctx_oom(c);
            break;
        case GR_S_SUM: case GR_S_MEAN:
            if (!gr_value_is_number(v))
                return gr_step_error(c, s, "needs numbers, got %s",
                                     gr_value_type_name(v));
            if (n[o] == 0)
                acc[o] = s->kind == GR_S_MEAN ? gr_double(gr_value_as_double(v))
                                              : *v;
            else if (acc[o].kind == GR_VAL_INT && v->kind == GR_VAL_INT)
                acc[o].u.i = (int64_t) ((uint64_t) acc[o].u.i +
                                        (uint64_t) v->u.i);
            else
                acc[o] = gr_double(gr_value_as_double(&acc[o]) +
                                   gr_value_as_double(v));
            break;
        case GR_S_MIN: case GR_S_MAX:
            if (n[o] == 0) {
                acc[o] = *v;
                break;
            }
            if (gr_value_compare(v, &acc[o], &cmp) != HT_OK)
                return gr_step_error(c, s, "cannot compare %s with %s",
                                     gr_value_type_name(v),
                                     gr_value_type_name(&acc[o]));
            if ((s->kind == GR_S_MIN && cmp < 0) ||
                (s->kind == GR_S_MAX && cmp > 0))
                acc[o] = *v;
            break;
        default: break; /* count */
        }
        n[o]++;
    }
    for (size_t o = 0; o < no; o++) {
        gr_value v;

        if (s->kind == GR_S_COUNT)
            v = gr_int(n[o]);
        else if (s->kind == GR_S_FOLD)
            v = acc[o];
        else if (n[o] == 0)
            continue;
        else if (s->kind == GR_S_MEAN)
            v = gr_double(gr_value_as_double(&acc[o]) / (double) n[o]);
        else
            v = acc[o];
        rc = emit(r, out, o, v);
        if (rc != HT_OK)
            return rc;
    }
    return HT_OK;
}

/* ---- order ------------------------------------------------------------- */

/* The order of values of different kinds, as PostgreSQL orders jsonb
 * (so a pushed-down order and an in-memory one agree): null, strings,
 * numbers, booleans, lists, maps; then elements by id. */
static int
kind_rank(const gr_value *v)
{
    switch (v->kind) {
    case GR_VAL_NULL: return 0;
    case GR_VAL_STRING: return 1;
    case GR_VAL_INT: case GR_VAL_DOUBLE: return 2;
    case GR_VAL_BOOL: return 3;
    case GR_VAL_LIST: case GR_VAL_RANGE: return 4;
    case GR_VAL_MAP: return 5;
    case GR_VAL_ELEM: return 6;
    default: return 7;
    }
}

static int
order_cmp(const gr_value *x, const gr_value *y)
{
    int rx = kind_rank(x), ry = kind_rank(y), c = 0;

    if (rx != ry)
        return rx < ry ? -1 : 1;
    if (rx == 6)
        return (x->u.elem->id > y->u.elem->id) -
               (x->u.elem->id < y->u.elem->id);
    if (gr_value_compare(x, y, &c) != HT_OK)
        return 0;
    return c;
}

typedef struct order_ctx {
    const gr_stream *in;
    gr_value       **keys; /* keys[b][i] */
    const int       *desc;
    size_t           n_keys;
} order_ctx;

static int
before(const order_ctx *o, size_t a, size_t b)
{
    size_t oa = o->in->t[a].origin, ob = o->in->t[b].origin;

    if (oa != ob)
        return oa < ob;
    for (size_t k = 0; k < o->n_keys; k++) {
        int c = order_cmp(&o->keys[k][a], &o->keys[k][b]);

        if (c != 0)
            return o->desc[k] ? c > 0 : c < 0;
    }
    return a < b;
}

/* A stable merge sort of idx (qsort has no context argument). */
static void
msort(const order_ctx *o, size_t *idx, size_t *tmp, size_t n)
{
    size_t h = n / 2, i = 0, j = h, k = 0;

    if (n < 2)
        return;
    msort(o, idx, tmp, h);
    msort(o, idx + h, tmp, n - h);
    while (i < h && j < n)
        tmp[k++] = before(o, idx[j], idx[i]) ? idx[j++] : idx[i++];
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof(*idx));
}

int
gr_step_order(gr_runner *r, const gr_op *op, gr_stream *in)
{
    gr_ctx    *c = r->c;
    size_t     nk = op->n_by ? op->n_by : 1, n = in->n, k = 0;
    gr_value  *vals = ht_arena_alloc(c->a, (n ? n : 1) * sizeof(*vals));
    gr_value **keys = ht_arena_alloc(c->a, nk * sizeof(*keys));
    int       *desc = ht_arena_calloc(c->a, nk * sizeof(*desc));
    char      *keep = ht_arena_alloc(c->a, n ? n : 1);
    size_t    *idx = ht_arena_alloc(c->a, (n ? n : 1) * sizeof(*idx));
    size_t    *tmp = ht_arena_alloc(c->a, (n ? n : 1) * sizeof(*tmp));
    gr_trv    *sorted = ht_arena_alloc(c->a, (n ? n : 1) * sizeof(*sorted));
    order_ctx  o;
    int        rc;

    if (!vals || !keys || !desc || !keep || !idx || !tmp || !sorted)
        return gr_ctx_oom(c);
    memset(keep, 1, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        vals[i] = in->t[i].v;
    for (size_t b = 0; b < nk; b++) {
        const gr_step *by = op->n_by ? op->by[b] : NULL;
        char          *found;

        if (by && by->n_args) {
            const gr_value *last = &by->args[by->n_args - 1];

            desc[b] = last->kind == GR_VAL_OBJ && last->u.obj == GR_OBJ_DESC;
        }
        rc = gr_project(r, by, vals, n, &keys[b], &found);
        if (rc != HT_OK)
            return rc;
        for (size_t i = 0; i < n; i++)
            keep[i] &= found[i] != 0; /* no value to order by: left out */
    }
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            idx[k++] = i;
    o.in = in;
    o.keys = keys;
    o.desc = desc;
    o.n_keys = nk;
    msort(&o, idx, tmp, k);
    for (size_t i = 0; i < k; i++)
        sorted[i] = in->t[idx[i]];
    if (k)
        memcpy(in->t, sorted, k * sizeof(*sorted));
    in->n = k;
    return gr_ctx_tick(c, (int64_t) k);
}

/*
 * worker/gremlin/step.c - building and running traversals (see trav.h).
 *
 * A run is a sequence of whole-stream passes: the head becomes one store
 * query, then each later step turns the current stream (a gr_list of
 * values) into the next.  That keeps store calls batched and makes each
 * step a small function; level-2 steps (order, dedup, group...) slot in the
 * same way.  The host is asked whether to go on between batches.
 */
#include "worker/gremlin/trav.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define GR_X_STEP_NAME(id, name) name,
static const char *const step_names[] = {GR_STEP_LIST(GR_X_STEP_NAME)};

#define MAX_PUSHED_HAS 32

/* ---- building ---------------------------------------------------------- */

static int
arg_error(gr_ctx *c, const gr_node *at, const char *step, const char *what,
          const gr_value *got)
{
    return gr_ctx_throw(c, HT_EINVAL, "IllegalArgumentException",
                        "line %d, column %d: %s() %s, got %s", at->line,
                        at->col, step, what,
                        got ? gr_value_type_name(got) : "nothing");
}

/* Checks the arguments of a step before it is added. */
static int
check_args(gr_ctx *c, const gr_node *at, gr_step_kind kind,
           const gr_value *args, size_t n)
{
    const char *name = step_names[kind];

    switch (kind) {
    case GR_S_V:
    case GR_S_E:
    case GR_S_HASID:
        for (size_t i = 0; i < n; i++) {
            const gr_value *v = &args[i];

            if (v->kind == GR_VAL_LIST) {
                for (size_t k = 0; k < v->u.list->n; k++) {
                    const gr_value *w = &v->u.list->items[k];

                    if (w->kind != GR_VAL_INT && w->kind != GR_VAL_ELEM)
                        return arg_error(c, at, name, "expects ids", w);
                }
            } else if (v->kind != GR_VAL_INT && v->kind != GR_VAL_ELEM &&
                       v->kind != GR_VAL_RANGE) {
                return arg_error(c, at, name, "expects ids", v);
            }
        }
        if (kind == GR_S_HASID && n == 0)
            return arg_error(c, at, name, "expects at least one id", NULL);
        return HT_OK;
    case GR_S_HASLABEL:
        if (n == 0)
            return arg_error(c, at, name, "expects at least one label", NULL);
        /* fall through */
    case GR_S_VALUES:
    case GR_S_OUT:
    case GR_S_IN:
    case GR_S_BOTH:
    case GR_S_OUTE:
    case GR_S_INE:
    case GR_S_BOTHE:
        for (size_t i = 0; i < n; i++)
            if (args[i].kind != GR_VAL_STRING)
                return arg_error(c, at, name, "expects strings", &args[i]);
        return HT_OK;
    case GR_S_HAS:
        if (n < 1 || n > 3)
            return arg_error(c, at, name, "expects 1 to 3 arguments", NULL);
        for (size_t i = 0; i + 1 < n || i == 0; i++)
            if (args[i].kind != GR_VAL_STRING &&
                !(i == 0 && args[i].kind == GR_VAL_OBJ &&
                  (args[i].u.obj == GR_OBJ_T_LABEL ||
                   args[i].u.obj == GR_OBJ_T_ID)))
                return arg_error(c, at, name, "expects a property key",
                                 &args[i]);
        if (n >= 2) {
            const gr_value *v = &args[n - 1];

            if (v->kind == GR_VAL_ELEM || v->kind == GR_VAL_TRAV ||
                v->kind == GR_VAL_OBJ || v->kind == GR_VAL_EXC)
                return arg_error(c, at, name, "expects a value", v);
        }
        return HT_OK;
    case GR_S_LIMIT:
        if (n != 1 || args[0].kind != GR_VAL_INT)
            return arg_error(c, at, name, "expects one integer",
                             n ? &args[0] : NULL);
        return HT_OK;
    default:
        if (n != 0)
            return arg_error(c, at, name, "takes no arguments", &args[0]);
        return HT_OK;
    }
}

static int
new_trav(gr_ctx *c, const gr_node *at, const gr_step *prev, gr_step_kind kind,
         const gr_value *args, size_t n, gr_value *out)
{
    gr_step  *s;
    gr_trav  *t;
    gr_value *copy = NULL;
    int       rc = check_args(c, at, kind, args, n);

    if (rc != HT_OK)
        return rc;
    s = ht_arena_calloc(c->a, sizeof(*s));
    t = ht_arena_calloc(c->a, sizeof(*t));
    if (n) {
        copy = ht_arena_alloc(c->a, n * sizeof(*copy));
        if (copy)
            memcpy(copy, args, n * sizeof(*copy));
    }
    if (s == NULL || t == NULL || (n && copy == NULL))
        return gr_ctx_oom(c);
    s->prev = prev;
    s->kind = kind;
    s->args = copy;
    s->n_args = n;
    s->line = at->line;
    s->col = at->col;
    t->last = s;
    out->kind = GR_VAL_TRAV;
    out->u.trav = t;
    return HT_OK;
}

int
gr_trav_source(gr_ctx *c, const gr_node *at, gr_step_kind kind,
               const gr_value *args, size_t n, gr_value *out)
{
    return new_trav(c, at, NULL, kind, args, n, out);
}

/* ---- helpers ----------------------------------------------------------- */

static int
push(gr_ctx *c, gr_list *l, gr_value v)
{
    if (gr_list_push(c->a, l, v) != HT_OK)
        return gr_ctx_oom(c);
    return HT_OK;
}

static gr_value
elem_value(gr_elem *e)
{
    gr_value v = gr_null();

    v.kind = GR_VAL_ELEM;
    v.u.elem = e;
    return v;
}

/* A stub vertex: id and label known, properties loaded later. */
static int
stub_vertex(gr_ctx *c, int64_t id, const char *label, gr_elem **out)
{
    gr_elem *e = ht_arena_calloc(c->a, sizeof(*e));

    if (e == NULL)
        return gr_ctx_oom(c);
    e->kind = GR_ELEM_VERTEX;
    e->id = id;
    e->label = label;
    e->props = NULL;
    *out = e;
    return HT_OK;
}

/* Collects the ids of a step's arguments (ints, elements, lists, ranges). */
static int
collect_ids(gr_ctx *c, const gr_value *args, size_t n, int64_t **ids,
            size_t *n_ids)
{
    size_t   total = 0, k = 0;
    int64_t *v;

    for (size_t i = 0; i < n; i++)
        total += args[i].kind == GR_VAL_LIST    ? args[i].u.list->n
                 : args[i].kind == GR_VAL_RANGE ? (size_t) args[i].u.range.count
                                                : 1;
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

/* Sorts ids and drops repeats; returns the new count. */
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

/* ---- scanning the store ------------------------------------------------ */

typedef struct scan_state {
    gr_ctx  *c;
    gr_list *out;
    int      rc;   /* our own failure inside the callback, recorded in c */
    int64_t  seen;
} scan_state;

static int
scan_cb(void *arg, const gr_elem *e, ht_err *err)
{
    scan_state *st = arg;
    gr_elem    *copy;
    int         rc;

    if (++st->seen % GR_BATCH == 0) {
        rc = gr_ctx_check(st->c);
        if (rc == HT_OK)
            rc = gr_ctx_tick(st->c, GR_BATCH);
        if (rc != HT_OK)
            goto fail;
    }
    copy = ht_arena_alloc(st->c->a, sizeof(*copy));
    if (copy == NULL) {
        rc = gr_ctx_oom(st->c);
        goto fail;
    }
    *copy = *e;
    rc = push(st->c, st->out, elem_value(copy));
    if (rc != HT_OK)
        goto fail;
    return 0;
fail:
    st->rc = rc;
    return ht_err_set(err, rc, 0, st->c->err.exception, "%s",
                      st->c->err.msg);
}

/* Runs one store scan, appending to out. */
static int
run_scan(gr_ctx *c, const gr_query *q, gr_list *out)
{
    scan_state st = {c, out, 0, 0};
    ht_err     serr;
    int        rc;

    ht_err_clear(&serr);
    rc = c->job->ops->scan(c->job->graph, c->a, q, scan_cb, &st, &serr);
    if (rc >= 0)
        return HT_OK;
    if (st.rc != 0)
        return st.rc;
    return gr_ctx_store_error(c, rc, &serr);
}

/* Loads the properties of stub vertices in the stream, GR_BATCH ids per
 * store call.  Vertices that no longer exist keep empty properties. */
static int
load_stubs(gr_ctx *c, gr_list *stream)
{
    size_t   n = 0, k;
    int64_t *ids;
    gr_list *found;
    int      rc;

    for (size_t i = 0; i < stream->n; i++) {
        const gr_value *v = &stream->items[i];

        if (v->kind == GR_VAL_ELEM && v->u.elem->props == NULL &&
            v->u.elem->kind == GR_ELEM_VERTEX)
            n++;
    }
    if (n == 0)
        return HT_OK;
    ids = ht_arena_alloc(c->a, n * sizeof(*ids));
    found = gr_list_new(c->a, 0);
    if (ids == NULL || found == NULL)
        return gr_ctx_oom(c);
    k = 0;
    for (size_t i = 0; i < stream->n; i++) {
        const gr_value *v = &stream->items[i];

        if (v->kind == GR_VAL_ELEM && v->u.elem->props == NULL &&
            v->u.elem->kind == GR_ELEM_VERTEX)
            ids[k++] = v->u.elem->id;
    }
    n = sort_unique(ids, n);
    for (size_t off = 0; off < n; off += GR_BATCH) {
        gr_query q;

        memset(&q, 0, sizeof(q));
        q.kind = GR_ELEM_VERTEX;
        q.ids = ids + off;
        q.n_ids = n - off < GR_BATCH ? n - off : GR_BATCH;
        q.limit = -1;
        rc = gr_ctx_check(c);
        if (rc == HT_OK)
            rc = run_scan(c, &q, found);
        if (rc != HT_OK)
            return rc;
    }
    /* found is in ascending id order, as the store streams it */
    for (size_t i = 0; i < stream->n; i++) {
        gr_elem *e;
        size_t   lo = 0, hi = found->n;

        if (stream->items[i].kind != GR_VAL_ELEM)
            continue;
        e = stream->items[i].u.elem;
        if (e->props != NULL || e->kind != GR_ELEM_VERTEX)
            continue;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (found->items[mid].u.elem->id < e->id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < found->n && found->items[lo].u.elem->id == e->id)
            stream->items[i].u.elem = found->items[lo].u.elem;
    }
    return HT_OK;
}

int
gr_trav_fetch_vertex(gr_ctx *c, int64_t id, gr_elem **out)
{
    gr_list *found = gr_list_new(c->a, 0);
    gr_query q;
    int      rc;

    if (found == NULL)
        return gr_ctx_oom(c);
    memset(&q, 0, sizeof(q));
    q.kind = GR_ELEM_VERTEX;
    q.ids = &id;
    q.n_ids = 1;
    q.limit = 1;
    rc = run_scan(c, &q, found);
    if (rc != HT_OK)
        return rc;
    *out = found->n ? found->items[0].u.elem : NULL;
    return HT_OK;
}

/* ---- in-memory filters ------------------------------------------------- */

/* Whether an element's property key equals v (or exists, v NULL). */
static int
prop_matches(gr_ctx *c, const gr_elem *e, const char *key, const gr_value *v,
             int *out)
{
    json_t  *j = e->props ? json_object_get(e->props, key) : NULL;
    gr_value pv;

    if (j == NULL) {
        *out = 0;
        return HT_OK;
    }
    if (v == NULL) {
        *out = 1;
        return HT_OK;
    }
    if (gr_value_from_json(c->a, j, &pv) != HT_OK)
        return gr_ctx_oom(c);
    *out = gr_value_equals(&pv, v);
    return HT_OK;
}

static int
label_in(const char *label, const gr_value *labels, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(labels[i].u.str.s, label) == 0)
            return 1;
    return 0;
}

static int
need_elem(gr_ctx *c, const gr_step *s, const gr_value *v, int vertex_only)
{
    if (v->kind == GR_VAL_ELEM &&
        (!vertex_only || v->u.elem->kind == GR_ELEM_VERTEX))
        return HT_OK;
    return gr_ctx_throw(c, HT_EINVAL, "IllegalArgumentException",
                        "line %d, column %d: %s() needs %s, got %s", s->line,
                        s->col, step_names[s->kind],
                        vertex_only ? "vertices" : "vertices or edges",
                        gr_value_type_name(v));
}

/* One filter step over the stream, in place. */
static int
filter_step(gr_ctx *c, const gr_step *s, gr_list *stream)
{
    size_t k = 0;
    int    rc;

    if (s->kind == GR_S_HAS) {
        rc = load_stubs(c, stream);
        if (rc != HT_OK)
            return rc;
    }
    for (size_t i = 0; i < stream->n; i++) {
        const gr_value *v = &stream->items[i];
        const gr_elem  *e;
        int             keep = 0;

        rc = need_elem(c, s, v, 0);
        if (rc != HT_OK)
            return rc;
        e = v->u.elem;
        if (s->kind == GR_S_HASLABEL) {
            keep = label_in(e->label, s->args, s->n_args);
        } else if (s->kind == GR_S_HASID) {
            int64_t *ids;
            size_t   n;

            rc = collect_ids(c, s->args, s->n_args, &ids, &n);
            if (rc != HT_OK)
                return rc;
            for (size_t j = 0; j < n && !keep; j++)
                keep = ids[j] == e->id;
        } else { /* has(k), has(k, v), has(label, k, v) */
            const gr_value *key = &s->args[s->n_args == 3 ? 1 : 0];
            const gr_value *want = s->n_args >= 2 ? &s->args[s->n_args - 1]
                                                  : NULL;

            keep = s->n_args != 3 || strcmp(s->args[0].u.str.s, e->label) == 0;
            if (keep && key->kind == GR_VAL_OBJ) {
                gr_value have = key->u.obj == GR_OBJ_T_ID
                                    ? gr_int(e->id)
                                    : gr_str(e->label, strlen(e->label));

                keep = want == NULL || gr_value_equals(&have, want);
            } else if (keep) {
                rc = prop_matches(c, e, key->u.str.s, want, &keep);
                if (rc != HT_OK)
                    return rc;
            }
        }
        if (keep)
            stream->items[k++] = *v;
    }
    stream->n = k;
    return gr_ctx_tick(c, (int64_t) stream->n);
}

/* ---- adjacency --------------------------------------------------------- */

typedef struct adj_pair {
    int64_t  src;  /* the vertex the edge was reached from */
    size_t   seq;  /* arrival order, to keep the store's order per vertex */
    gr_elem *edge;
} adj_pair;

typedef struct adj_state {
    gr_ctx   *c;
    gr_dir    dir;
    adj_pair *pairs;
    size_t    n, cap;
    int       rc;
} adj_state;

static int
adj_cb(void *arg, const gr_elem *e, ht_err *err)
{
    adj_state *st = arg;
    gr_elem   *copy;
    int        rc;

    if (st->n == st->cap) {
        size_t    cap = st->cap ? st->cap * 2 : 64;
        adj_pair *np = ht_arena_alloc(st->c->a, cap * sizeof(*np));

        if (np == NULL) {
            rc = gr_ctx_oom(st->c);
            goto fail;
        }
        if (st->n)
            memcpy(np, st->pairs, st->n * sizeof(*np));
        st->pairs = np;
        st->cap = cap;
    }
    copy = ht_arena_alloc(st->c->a, sizeof(*copy));
    if (copy == NULL) {
        rc = gr_ctx_oom(st->c);
        goto fail;
    }
    *copy = *e;
    st->pairs[st->n].src = st->dir == GR_DIR_OUT ? e->out_v : e->in_v;
    st->pairs[st->n].seq = st->n;
    st->pairs[st->n].edge = copy;
    st->n++;
    if (st->n % GR_BATCH == 0) {
        rc = gr_ctx_tick(st->c, GR_BATCH);
        if (rc != HT_OK)
            goto fail;
    }
    return 0;
fail:
    st->rc = rc;
    return ht_err_set(err, rc, 0, st->c->err.exception, "%s",
                      st->c->err.msg);
}

static int
cmp_pair(const void *x, const void *y)
{
    const adj_pair *a = x, *b = y;

    if (a->src != b->src)
        return (a->src > b->src) - (a->src < b->src);
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* All edges at the stream's vertices in one direction, sorted by source. */
static int
fetch_adjacent(gr_ctx *c, const int64_t *ids, size_t n, gr_dir dir,
               const gr_step *s, adj_state *st)
{
    const char **labels = NULL;
    int          rc;

    if (s->n_args) {
        labels = ht_arena_alloc(c->a, s->n_args * sizeof(*labels));
        if (labels == NULL)
            return gr_ctx_oom(c);
        for (size_t i = 0; i < s->n_args; i++)
            labels[i] = s->args[i].u.str.s;
    }
    memset(st, 0, sizeof(*st));
    st->c = c;
    st->dir = dir;
    for (size_t off = 0; off < n; off += GR_BATCH) {
        ht_err serr;
        size_t k = n - off < GR_BATCH ? n - off : GR_BATCH;

        rc = gr_ctx_check(c);
        if (rc != HT_OK)
            return rc;
        ht_err_clear(&serr);
        rc = c->job->ops->adjacent(c->job->graph, c->a, ids + off, k, dir,
                                   labels, s->n_args, adj_cb, st, &serr);
        if (rc < 0)
            return st->rc != 0 ? st->rc : gr_ctx_store_error(c, rc, &serr);
    }
    if (st->n)
        qsort(st->pairs, st->n, sizeof(*st->pairs), cmp_pair);
    return HT_OK;
}

/* Emits, for vertex id, its edges (or the vertices at their far ends). */
static int
emit_adjacent(gr_ctx *c, const adj_state *st, int64_t id, int want_edges,
              gr_list *out)
{
    size_t lo = 0, hi = st->n;
    int    rc;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (st->pairs[mid].src < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < st->n && st->pairs[lo].src == id; lo++) {
        gr_elem *e = st->pairs[lo].edge, *v = NULL;

        if (want_edges) {
            rc = push(c, out, elem_value(e));
        } else {
            int out_end = st->dir == GR_DIR_OUT;

            rc = stub_vertex(c, out_end ? e->in_v : e->out_v,
                             out_end ? e->in_label : e->out_label, &v);
            if (rc == HT_OK)
                rc = push(c, out, elem_value(v));
        }
        if (rc != HT_OK)
            return rc;
    }
    return HT_OK;
}

/* out/in/both and outE/inE/bothE. */
static int
adjacent_step(gr_ctx *c, const gr_step *s, gr_list *stream, gr_list *out)
{
    int       want_edges = s->kind == GR_S_OUTE || s->kind == GR_S_INE ||
                     s->kind == GR_S_BOTHE;
    gr_dir    dir = (s->kind == GR_S_OUT || s->kind == GR_S_OUTE) ? GR_DIR_OUT
                    : (s->kind == GR_S_IN || s->kind == GR_S_INE) ? GR_DIR_IN
                                                                  : GR_DIR_BOTH;
    adj_state outs, ins;
    int64_t  *ids;
    size_t    n;
    int       rc;

    if (stream->n == 0)
        return HT_OK;
    ids = ht_arena_alloc(c->a, stream->n * sizeof(*ids));
    if (ids == NULL)
        return gr_ctx_oom(c);
    for (size_t i = 0; i < stream->n; i++) {
        rc = need_elem(c, s, &stream->items[i], 1);
        if (rc != HT_OK)
            return rc;
        ids[i] = stream->items[i].u.elem->id;
    }
    n = sort_unique(ids, stream->n);
    memset(&outs, 0, sizeof(outs));
    memset(&ins, 0, sizeof(ins));
    /* both() is out() then in() per vertex, as TinkerPop orders it; two
     * calls keep "which end matched" unambiguous for the store */
    if (dir != GR_DIR_IN) {
        rc = fetch_adjacent(c, ids, n, GR_DIR_OUT, s, &outs);
        if (rc != HT_OK)
            return rc;
    }
    if (dir != GR_DIR_OUT) {
        rc = fetch_adjacent(c, ids, n, GR_DIR_IN, s, &ins);
        if (rc != HT_OK)
            return rc;
    }
    for (size_t i = 0; i < stream->n; i++) {
        int64_t id = stream->items[i].u.elem->id;

        rc = emit_adjacent(c, &outs, id, want_edges, out);
        if (rc == HT_OK)
            rc = emit_adjacent(c, &ins, id, want_edges, out);
        if (rc != HT_OK)
            return rc;
    }
    return gr_ctx_tick(c, (int64_t) out->n);
}

/* ---- the other steps --------------------------------------------------- */

/* values(keys...): property values in each element's property order. */
static int
values_step(gr_ctx *c, const gr_step *s, gr_list *stream, gr_list *out)
{
    int rc = load_stubs(c, stream);

    if (rc != HT_OK)
        return rc;
    for (size_t i = 0; i < stream->n; i++) {
        const char *key;
        json_t     *j;
        gr_elem    *e;

        rc = need_elem(c, s, &stream->items[i], 0);
        if (rc != HT_OK)
            return rc;
        e = stream->items[i].u.elem;
        if (e->props == NULL)
            continue;
        json_object_foreach(e->props, key, j) {
            gr_value v;
            int      want = s->n_args == 0;

            for (size_t k = 0; k < s->n_args && !want; k++)
                want = strcmp(s->args[k].u.str.s, key) == 0;
            if (!want)
                continue;
            if (gr_value_from_json(c->a, j, &v) != HT_OK)
                return gr_ctx_oom(c);
            rc = push(c, out, v);
            if (rc != HT_OK)
                return rc;
        }
    }
    return gr_ctx_tick(c, (int64_t) out->n);
}

static int
map_step(gr_ctx *c, const gr_step *s, gr_list *stream, gr_list *out)
{
    int rc;

    for (size_t i = 0; i < stream->n; i++) {
        gr_elem *e, *v = NULL;
        gr_value r;

        rc = need_elem(c, s, &stream->items[i], 0);
        if (rc != HT_OK)
            return rc;
        e = stream->items[i].u.elem;
        switch (s->kind) {
        case GR_S_ID: r = gr_int(e->id); break;
        case GR_S_LABEL: r = gr_str(e->label, strlen(e->label)); break;
        default: /* outV, inV */
            if (e->kind != GR_ELEM_EDGE)
                return gr_ctx_throw(c, HT_EINVAL, "IllegalArgumentException",
                                    "line %d, column %d: %s() needs edges, "
                                    "got Vertex", s->line, s->col,
                                    step_names[s->kind]);
            rc = s->kind == GR_S_OUTV ? stub_vertex(c, e->out_v, e->out_label, &v)
                                      : stub_vertex(c, e->in_v, e->in_label, &v);
            if (rc != HT_OK)
                return rc;
            r = elem_value(v);
        }
        rc = push(c, out, r);
        if (rc != HT_OK)
            return rc;
    }
    return gr_ctx_tick(c, (int64_t) out->n);
}

static int
drop_step(gr_ctx *c, const gr_step *s, gr_list *stream)
{
    for (size_t i = 0; i < stream->n; i++) {
        const gr_elem *e;
        ht_err         serr;
        int            rc = need_elem(c, s, &stream->items[i], 0);

        if (rc != HT_OK)
            return rc;
        if ((i + 1) % GR_BATCH == 0 && (rc = gr_ctx_check(c)) != HT_OK)
            return rc;
        e = stream->items[i].u.elem;
        ht_err_clear(&serr);
        rc = c->job->ops->remove(c->job->graph, e->kind, e->id, &serr);
        /* an element already removed (with its vertex) is not an error */
        if (rc < 0 && rc != HT_ENOTFOUND)
            return gr_ctx_store_error(c, rc, &serr);
    }
    stream->n = 0;
    return gr_ctx_tick(c, (int64_t) stream->n);
}

/* ---- running ----------------------------------------------------------- */

/*
 * The head: the source and the filters that follow it, pushed into one
 * query while they can be (each kind once; nothing after limit).  Returns
 * the index of the first step not absorbed.
 */
static int
run_head(gr_ctx *c, const gr_step **steps, size_t n_steps, size_t *next,
         gr_list *stream)
{
    const gr_step *src = steps[0];
    gr_query       q;
    const char   **has_keys;
    json_t       **has_values;
    size_t         i = 0;
    int            rc;

    memset(&q, 0, sizeof(q));
    q.kind = src->kind == GR_S_V ? GR_ELEM_VERTEX : GR_ELEM_EDGE;
    q.limit = -1;
    has_keys = ht_arena_alloc(c->a, MAX_PUSHED_HAS * sizeof(*has_keys));
    has_values = ht_arena_alloc(c->a, MAX_PUSHED_HAS * sizeof(*has_values));
    if (has_keys == NULL || has_values == NULL)
        return gr_ctx_oom(c);
    q.has_keys = has_keys;
    q.has_values = has_values;
    if (src->n_args) {
        int64_t *ids;

        rc = collect_ids(c, src->args, src->n_args, &ids, &q.n_ids);
        if (rc != HT_OK)
            return rc;
        q.ids = ids;
    }
    for (i = 1; i < n_steps; i++) {
        const gr_step *s = steps[i];

        if (s->kind == GR_S_HASLABEL && q.labels == NULL) {
            const char **labels = ht_arena_alloc(c->a, s->n_args *
                                                           sizeof(*labels));

            if (labels == NULL)
                return gr_ctx_oom(c);
            for (size_t k = 0; k < s->n_args; k++)
                labels[k] = s->args[k].u.str.s;
            q.labels = labels;
            q.n_labels = s->n_args;
        } else if (s->kind == GR_S_HASID && q.ids == NULL) {
            int64_t *ids;

            rc = collect_ids(c, s->args, s->n_args, &ids, &q.n_ids);
            if (rc != HT_OK)
                return rc;
            q.ids = ids;
        } else if (s->kind == GR_S_HAS && s->n_args <= 2 &&
                   s->args[0].kind == GR_VAL_STRING &&
                   q.n_has < MAX_PUSHED_HAS) {
            json_t *j = NULL;

            if (s->n_args == 2) {
                rc = gr_value_to_json_prop(&s->args[1], &j);
                if (rc == HT_ENOMEM)
                    return gr_ctx_oom(c);
                if (rc != HT_OK)
                    break; /* not a plain value: filter in memory */
                rc = gr_ctx_keep_json(c, j);
                if (rc != HT_OK)
                    return rc;
            }
            has_keys[q.n_has] = s->args[0].u.str.s;
            has_values[q.n_has] = j;
            q.n_has++;
        } else if (s->kind == GR_S_LIMIT) {
            q.limit = s->args[0].u.i < 0 ? -1 : s->args[0].u.i;
            i++;
            break;
        } else {
            break;
        }
    }
    if (q.ids != NULL && q.n_ids == 0) { /* g.V([]) matches nothing */
        if (i < n_steps && steps[i]->kind == GR_S_COUNT) {
            i++;
            rc = push(c, stream, gr_int(0));
            if (rc != HT_OK)
                return rc;
        }
        *next = i;
        return HT_OK;
    }
    rc = gr_ctx_check(c);
    if (rc != HT_OK)
        return rc;
    if (i < n_steps && steps[i]->kind == GR_S_COUNT) {
        ht_err  serr;
        int64_t count;

        ht_err_clear(&serr);
        rc = c->job->ops->count(c->job->graph, &q, &count, &serr);
        if (rc < 0)
            return gr_ctx_store_error(c, rc, &serr);
        *next = i + 1;
        return push(c, stream, gr_int(count));
    }
    *next = i;
    return run_scan(c, &q, stream);
}

static int
run(gr_ctx *c, gr_trav *t)
{
    const gr_step **steps;
    const gr_step  *s;
    gr_list        *stream;
    size_t          n = 0, i;
    int             rc;

    for (s = t->last; s; s = s->prev)
        n++;
    steps = ht_arena_alloc(c->a, n * sizeof(*steps));
    stream = gr_list_new(c->a, 0);
    if (steps == NULL || stream == NULL)
        return gr_ctx_oom(c);
    i = n;
    for (s = t->last; s; s = s->prev)
        steps[--i] = s;
    rc = run_head(c, steps, n, &i, stream);
    for (; rc == HT_OK && i < n; i++) {
        gr_list *next_stream;

        s = steps[i];
        rc = gr_ctx_check(c);
        if (rc != HT_OK)
            break;
        switch (s->kind) {
        case GR_S_HASLABEL:
        case GR_S_HAS:
        case GR_S_HASID:
            rc = filter_step(c, s, stream);
            continue;
        case GR_S_LIMIT:
            if (s->args[0].u.i >= 0 && (uint64_t) s->args[0].u.i < stream->n)
                stream->n = (size_t) s->args[0].u.i;
            continue;
        case GR_S_COUNT: {
            int64_t count = (int64_t) stream->n;

            stream->n = 0;
            rc = push(c, stream, gr_int(count));
            continue;
        }
        case GR_S_DROP:
            rc = drop_step(c, s, stream);
            continue;
        default:
            break;
        }
        next_stream = gr_list_new(c->a, 0);
        if (next_stream == NULL)
            return gr_ctx_oom(c);
        switch (s->kind) {
        case GR_S_OUT: case GR_S_IN: case GR_S_BOTH:
        case GR_S_OUTE: case GR_S_INE: case GR_S_BOTHE:
            rc = adjacent_step(c, s, stream, next_stream);
            break;
        case GR_S_VALUES:
            rc = values_step(c, s, stream, next_stream);
            break;
        case GR_S_ID: case GR_S_LABEL: case GR_S_OUTV: case GR_S_INV:
            rc = map_step(c, s, stream, next_stream);
            break;
        default:
            /* a source step in the middle (g.V().V()) */
            rc = gr_ctx_throw(c, HT_EINVAL, "UnsupportedSyntax",
                              "line %d, column %d: step '%s' is not supported "
                              "here", s->line, s->col, step_names[s->kind]);
        }
        stream = next_stream;
    }
    if (rc == HT_OK)
        rc = load_stubs(c, stream);
    if (rc != HT_OK)
        return rc;
    t->res = stream;
    t->pos = 0;
    return HT_OK;
}

int
gr_trav_drain(gr_ctx *c, gr_trav *t, gr_list **out)
{
    gr_list *l = NULL;
    int      rc;

    if (t->res == NULL && (rc = run(c, t)) != HT_OK)
        return rc;
    l = gr_list_new(c->a, 0);
    if (l == NULL)
        return gr_ctx_oom(c);
    l->items = t->res->items + t->pos;
    l->n = l->cap = t->res->n - t->pos;
    t->pos = t->res->n;
    *out = l;
    return HT_OK;
}

static int
lookup_step(const char *name, gr_step_kind *out)
{
    for (int i = 0; i < GR_STEP_COUNT; i++)
        if (strcmp(step_names[i], name) == 0) {
            *out = (gr_step_kind) i;
            return 1;
        }
    return 0;
}

int
gr_trav_call(gr_ctx *c, const gr_node *at, gr_trav *t, const char *name,
             const gr_value *args, size_t n, gr_value *out)
{
    gr_step_kind kind;
    int          rc;

    if (strcmp(name, "toList") == 0 || strcmp(name, "next") == 0 ||
        strcmp(name, "hasNext") == 0 || strcmp(name, "iterate") == 0) {
        if (n != 0)
            return gr_ctx_throw(c, HT_EINVAL, "IllegalArgumentException",
                                "line %d, column %d: %s() takes no arguments",
                                at->line, at->col, name);
        if (t->res == NULL && (rc = run(c, t)) != HT_OK)
            return rc;
        if (name[0] == 't') {
            gr_list *l = NULL;

            rc = gr_trav_drain(c, t, &l);
            if (rc != HT_OK)
                return rc;
            out->kind = GR_VAL_LIST;
            out->u.list = l;
        } else if (strcmp(name, "next") == 0) {
            if (t->pos >= t->res->n)
                return gr_ctx_throw(c, HT_EINVAL, "NoSuchElementException",
                                    "line %d, column %d: the traversal has "
                                    "no more elements", at->line, at->col);
            *out = t->res->items[t->pos++];
        } else if (name[0] == 'h') {
            *out = gr_bool(t->pos < t->res->n);
        } else {
            t->pos = t->res->n;
            out->kind = GR_VAL_TRAV;
            out->u.trav = t;
        }
        return HT_OK;
    }
    if (!lookup_step(name, &kind) || kind == GR_S_V || kind == GR_S_E)
        return gr_ctx_throw(c, HT_EINVAL, "UnsupportedSyntax",
                            "line %d, column %d: step '%s' is not supported",
                            at->line, at->col, name);
    return new_trav(c, at, t->last, kind, args, n, out);
}

/*
 * tests/gremlin/mem_graph.c - the in-memory graph (see mem_graph.h).
 *
 * Elements are kept in two arrays in insertion order; scans sort matches by
 * id, as the store contract asks.  Scans and adjacency lend their
 * elements for the callback only (as the PostgreSQL store does); new
 * elements are copies whose property objects the arena releases.
 */
#include "tests/gremlin/mem_graph.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

typedef struct mem_elem {
    int64_t id;
    char   *label;
    json_t *props;
    int64_t out_v, in_v; /* edges */
} mem_elem;

typedef struct mem_set {
    mem_elem *v, *e;
    size_t    nv, ne;
    int64_t   next_vid, next_eid;
} mem_set;

struct mem_graph {
    mem_set         work, committed;
    mem_graph_stats stats;
};

static void
set_clear(mem_set *s)
{
    for (size_t i = 0; i < s->nv; i++) {
        free(s->v[i].label);
        json_decref(s->v[i].props);
    }
    for (size_t i = 0; i < s->ne; i++) {
        free(s->e[i].label);
        json_decref(s->e[i].props);
    }
    free(s->v);
    free(s->e);
    memset(s, 0, sizeof(*s));
}

static void
copy_elems(mem_elem **dst, const mem_elem *src, size_t n)
{
    size_t cap = 1;

    while (cap < n)
        cap *= 2;  /* add() grows arrays at powers of two */
    *dst = n ? ht_xmalloc(cap * sizeof(**dst)) : NULL;
    for (size_t i = 0; i < n; i++) {
        (*dst)[i] = src[i];
        (*dst)[i].label = ht_xstrdup(src[i].label);
        (*dst)[i].props = json_deep_copy(src[i].props);
        HT_ASSERT((*dst)[i].props != NULL);
    }
}

static void
set_copy(mem_set *dst, const mem_set *src)
{
    set_clear(dst);
    copy_elems(&dst->v, src->v, src->nv);
    copy_elems(&dst->e, src->e, src->ne);
    dst->nv = src->nv;
    dst->ne = src->ne;
    dst->next_vid = src->next_vid;
    dst->next_eid = src->next_eid;
}

mem_graph *
mem_graph_new(void)
{
    mem_graph *g = ht_xcalloc(1, sizeof(*g));

    g->work.next_vid = g->committed.next_vid = 1;
    g->work.next_eid = g->committed.next_eid = 1;
    return g;
}

void
mem_graph_free(mem_graph *g)
{
    if (g == NULL)
        return;
    set_clear(&g->work);
    set_clear(&g->committed);
    free(g);
}

mem_graph_stats *
mem_graph_stats_of(mem_graph *g)
{
    return &g->stats;
}

size_t
mem_graph_committed_vertices(const mem_graph *g)
{
    return g->committed.nv;
}

size_t
mem_graph_vertices(const mem_graph *g)
{
    return g->work.nv;
}

size_t
mem_graph_edges(const mem_graph *g)
{
    return g->work.ne;
}

/* Ids are mostly ascending (assigned in order): binary search first, a
 * linear look when explicit ids broke the order. */
static mem_elem *
find(mem_elem *arr, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (arr[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n && arr[lo].id == id)
        return &arr[lo];
    for (size_t i = 0; i < n; i++)
        if (arr[i].id == id)
            return &arr[i];
    return NULL;
}

static void
json_release(void *j)
{
    json_decref(j);
}

/* The element as the interpreter sees it (strings and props in arena). */
static int
export(ht_arena *a, const mem_graph *g, gr_elem_kind kind, const mem_elem *m,
       gr_elem *out, ht_err *err)
{
    json_t *props = json_deep_copy(m->props);

    memset(out, 0, sizeof(*out));
    if (props == NULL)
        return ht_err_set(err, HT_ENOMEM, 0, NULL, "out of memory");
    if (ht_arena_defer(a, json_release, props) != 0) {
        json_decref(props);
        return ht_err_set(err, HT_ENOMEM, 0, NULL, "arena full");
    }
    out->kind = kind;
    out->id = m->id;
    out->label = ht_arena_strdup(a, m->label);
    out->props = props;
    if (out->label == NULL)
        return ht_err_set(err, HT_ENOMEM, 0, NULL, "arena full");
    if (kind == GR_ELEM_EDGE) {
        const mem_elem *o = find(g->work.v, g->work.nv, m->out_v);
        const mem_elem *i = find(g->work.v, g->work.nv, m->in_v);

        out->out_v = m->out_v;
        out->in_v = m->in_v;
        out->out_label = ht_arena_strdup(a, o ? o->label : "vertex");
        out->in_label = ht_arena_strdup(a, i ? i->label : "vertex");
        if (out->out_label == NULL || out->in_label == NULL)
            return ht_err_set(err, HT_ENOMEM, 0, NULL, "arena full");
    }
    return HT_OK;
}

/* The element as scan and adjacent hand it out: borrowed (gremlin.h),
 * valid during the callback only.  Its label and props are copies
 * dropped right after the callback (lent_free), so an interpreter that
 * keeps them without copying fails under AddressSanitizer. */
static int
lend(const mem_graph *g, gr_elem_kind kind, const mem_elem *m, gr_elem *out,
     ht_err *err)
{
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    out->id = m->id;
    out->label = strdup(m->label);
    out->props = json_deep_copy(m->props);
    if (kind == GR_ELEM_EDGE) {
        const mem_elem *o = find(g->work.v, g->work.nv, m->out_v);
        const mem_elem *i = find(g->work.v, g->work.nv, m->in_v);

        out->out_v = m->out_v;
        out->in_v = m->in_v;
        out->out_label = strdup(o ? o->label : "vertex");
        out->in_label = strdup(i ? i->label : "vertex");
    }
    if (out->label == NULL || out->props == NULL ||
        (kind == GR_ELEM_EDGE &&
         (out->out_label == NULL || out->in_label == NULL)))
        return ht_err_set(err, HT_ENOMEM, 0, NULL, "out of memory");
    return HT_OK;
}

static void
lent_free(gr_elem *e)
{
    free((char *) e->label);
    free((char *) e->out_label);
    free((char *) e->in_label);
    json_decref(e->props);
}

static void
add(mem_elem **arr, size_t *n, int64_t id, const char *label, json_t *props,
    int64_t out_v, int64_t in_v)
{
    /* room for a power of two elements at least (see copy_elems) */
    if ((*n & (*n - 1)) == 0)
        *arr = ht_xrealloc(*arr, (*n ? *n * 2 : 1) * sizeof(**arr));
    (*arr)[*n].id = id;
    (*arr)[*n].label = ht_xstrdup(label);
    (*arr)[*n].props = props ? json_deep_copy(props) : json_object();
    HT_ASSERT((*arr)[*n].props != NULL);
    (*arr)[*n].out_v = out_v;
    (*arr)[*n].in_v = in_v;
    (*n)++;
}

static int
mg_add_vertex(void *gp, ht_arena *a, const char *label, int64_t id,
              json_t *props, gr_elem *out, ht_err *err)
{
    mem_graph *g = gp;

    if (id == 0)
        id = g->work.next_vid;
    if (find(g->work.v, g->work.nv, id))
        return ht_err_set(err, HT_ECONFLICT, 0, NULL,
                          "The vertex with id %lld already exists",
                          (long long) id);
    if (id >= g->work.next_vid)
        g->work.next_vid = id + 1;
    add(&g->work.v, &g->work.nv, id, label, props, 0, 0);
    return export(a, g, GR_ELEM_VERTEX, &g->work.v[g->work.nv - 1], out, err);
}

static int
mg_add_edge(void *gp, ht_arena *a, const char *label, int64_t out_v,
            int64_t in_v, json_t *props, gr_elem *out, ht_err *err)
{
    mem_graph *g = gp;

    if (!find(g->work.v, g->work.nv, out_v) ||
        !find(g->work.v, g->work.nv, in_v))
        return ht_err_set(err, HT_ENOTFOUND, 0, NULL, "no such vertex");
    add(&g->work.e, &g->work.ne, g->work.next_eid++, label, props, out_v,
        in_v);
    return export(a, g, GR_ELEM_EDGE, &g->work.e[g->work.ne - 1], out, err);
}

/* JSON values ordered as PostgreSQL orders jsonb: null, strings,
 * numbers, booleans, arrays, objects; *same 0 when the types differ. */
static int
jrank(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_NULL: return 0;
    case JSON_STRING: return 1;
    case JSON_INTEGER: case JSON_REAL: return 2;
    case JSON_TRUE: case JSON_FALSE: return 3;
    case JSON_ARRAY: return 4;
    default: return 5;
    }
}

static int
jcmp(const json_t *a, const json_t *b, int *same)
{
    int ra = jrank(a), rb = jrank(b);

    *same = ra == rb;
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (ra == 2) {
        if (json_is_integer(a) && json_is_integer(b))
            return (json_integer_value(a) > json_integer_value(b)) -
                   (json_integer_value(a) < json_integer_value(b));
        return (json_number_value(a) > json_number_value(b)) -
               (json_number_value(a) < json_number_value(b));
    }
    if (ra == 1) {
        size_t la = json_string_length(a), lb = json_string_length(b);
        int    c = memcmp(json_string_value(a), json_string_value(b),
                          la < lb ? la : lb);

        if (c == 0)
            c = (la > lb) - (la < lb);
        return (c > 0) - (c < 0);
    }
    if (ra == 3)
        return json_is_true(a) - json_is_true(b);
    if (ra == 0)
        return 0;
    *same = 0; /* arrays and objects: not ordered here */
    return json_equal(a, b) ? 0 : 1;
}

static int
jeq(const json_t *a, const json_t *b)
{
    int same, c = jcmp(a, b, &same);

    if (jrank(a) >= 4)
        return json_equal(a, b);
    return same && c == 0;
}

static int
pred_holds(const gr_qpred *p, const json_t *v)
{
    int s1 = 0, s2 = 0, c1 = 0, c2 = 0;

    if (p->op == GR_P_WITHIN || p->op == GR_P_WITHOUT) {
        size_t  i;
        json_t *w;
        int     found = 0;

        json_array_foreach(p->a, i, w) if (jeq(v, w)) found = 1;
        return p->op == GR_P_WITHIN ? found : !found;
    }
    if (p->op == GR_P_EQ)
        return jeq(v, p->a);
    if (p->op == GR_P_NEQ)
        return !jeq(v, p->a);
    c1 = jcmp(v, p->a, &s1);
    if (p->b)
        c2 = jcmp(v, p->b, &s2);
    switch (p->op) {
    case GR_P_LT: return s1 && c1 < 0;
    case GR_P_LTE: return s1 && c1 <= 0;
    case GR_P_GT: return s1 && c1 > 0;
    case GR_P_GTE: return s1 && c1 >= 0;
    case GR_P_INSIDE: return s1 && s2 && c1 > 0 && c2 < 0;
    case GR_P_OUTSIDE: return (s1 && c1 < 0) || (s2 && c2 > 0);
    case GR_P_BETWEEN: return s1 && s2 && c1 >= 0 && c2 < 0;
    default: return 0;
    }
}

static int
matches(const gr_query *q, const mem_elem *m)
{
    int ok = q->ids == NULL;

    if (q->ids) { /* sorted by select_sorted */
        size_t lo = 0, hi = q->n_ids;

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (q->ids[mid] < m->id)
                lo = mid + 1;
            else
                hi = mid;
        }
        ok = lo < q->n_ids && q->ids[lo] == m->id;
    }
    if (!ok)
        return 0;
    ok = q->labels == NULL;
    for (size_t i = 0; q->labels && i < q->n_labels && !ok; i++)
        ok = strcmp(q->labels[i], m->label) == 0;
    if (!ok)
        return 0;
    for (size_t i = 0; i < q->n_has; i++) {
        json_t *v = json_object_get(m->props, q->has_keys[i]);

        if (v == NULL)
            return 0;
        if (q->has_values[i] && !jeq(v, q->has_values[i]))
            return 0;
    }
    for (size_t i = 0; i < q->n_preds; i++) {
        json_t *v = json_object_get(m->props, q->preds[i].key);

        if (v == NULL || !pred_holds(&q->preds[i], v))
            return 0;
    }
    if (q->order_key && json_object_get(m->props, q->order_key) == NULL)
        return 0;
    return 1;
}

static int
cmp_ptr_id(const void *x, const void *y)
{
    const mem_elem *a = *(mem_elem *const *) x, *b = *(mem_elem *const *) y;

    return (a->id > b->id) - (a->id < b->id);
}

/* qsort has no context: the order of the scan being sorted */
static const gr_query *sort_q;

static int
cmp_ordered(const void *x, const void *y)
{
    const mem_elem *a = *(mem_elem *const *) x, *b = *(mem_elem *const *) y;
    int             same,
        c = jcmp(json_object_get(a->props, sort_q->order_key),
                 json_object_get(b->props, sort_q->order_key), &same);

    if (c != 0)
        return sort_q->order_desc ? -c : c;
    return (a->id > b->id) - (a->id < b->id);
}

/* Matching elements sorted by id (caller frees the array). */
static int
cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *) x, b = *(const int64_t *) y;

    return (a > b) - (a < b);
}

static mem_elem **
select_sorted(mem_graph *g, const gr_query *q0, size_t *n_out)
{
    mem_elem  *arr = q0->kind == GR_ELEM_VERTEX ? g->work.v : g->work.e;
    size_t     n = q0->kind == GR_ELEM_VERTEX ? g->work.nv : g->work.ne, k = 0;
    mem_elem **sel = ht_xmalloc((n ? n : 1) * sizeof(*sel));
    int64_t   *ids = NULL;
    gr_query   qs = *q0, *q = &qs;

    if (q0->ids) {
        ids = ht_xmalloc((q0->n_ids ? q0->n_ids : 1) * sizeof(*ids));
        if (q0->n_ids)
            memcpy(ids, q0->ids, q0->n_ids * sizeof(*ids));
        qsort(ids, q0->n_ids, sizeof(*ids), cmp_i64);
        qs.ids = ids;
    }
    for (size_t i = 0; i < n; i++)
        if (matches(q, &arr[i]))
            sel[k++] = &arr[i];
    free(ids);
    q->ids = q0->ids;
    if (q->order_key) {
        sort_q = q;
        qsort(sel, k, sizeof(*sel), cmp_ordered);
    } else {
        qsort(sel, k, sizeof(*sel), cmp_ptr_id);
    }
    if (q->offset > 0) {
        size_t off = (uint64_t) q->offset < k ? (size_t) q->offset : k;

        memmove(sel, sel + off, (k - off) * sizeof(*sel));
        k -= off;
    }
    if (q->limit >= 0 && (uint64_t) q->limit < k)
        k = (size_t) q->limit;
    *n_out = k;
    return sel;
}

static void
note_query(mem_graph *g, const gr_query *q)
{
    g->stats.last_limit = q->limit;
    g->stats.last_n_has = q->n_has;
    g->stats.last_n_labels = q->n_labels;
    g->stats.last_n_preds = q->n_preds;
    g->stats.last_offset = q->offset;
    g->stats.last_ordered = q->order_key != NULL;
}

static int
mg_scan(void *gp, ht_arena *a, const gr_query *q, gr_elem_cb cb, void *arg,
        ht_err *err)
{
    mem_graph *g = gp;
    size_t     n;
    mem_elem **sel;
    int        rc = HT_OK;

    g->stats.scans++;
    note_query(g, q);
    sel = select_sorted(g, q, &n);
    (void) a;
    for (size_t i = 0; i < n; i++) {
        gr_elem e;

        rc = lend(g, q->kind, sel[i], &e, err);
        if (rc == HT_OK)
            rc = cb(arg, &e, err);
        lent_free(&e);
        if (rc != 0)
            break;
    }
    free(sel);
    return rc < 0 ? rc : HT_OK;
}

static int
mg_count(void *gp, const gr_query *q, int64_t *out, ht_err *err)
{
    mem_graph *g = gp;
    size_t     n;
    mem_elem **sel;

    g->stats.counts++;
    note_query(g, q);
    sel = select_sorted(g, q, &n);
    free(sel);
    *out = (int64_t) n;
    return HT_OK;
}

/* ids sorted */
static int
in_ids(const int64_t *ids, size_t n, int64_t id)
{
    return bsearch(&id, ids, n, sizeof(*ids), cmp_i64) != NULL;
}

static int
mg_adjacent(void *gp, ht_arena *a, const int64_t *vids, size_t n, gr_dir dir,
            const char **labels, size_t n_labels, gr_elem_cb cb, void *arg,
            ht_err *err)
{
    mem_graph *g = gp;
    gr_query   q;
    size_t     k;
    mem_elem **sel;
    int64_t   *ids;
    int        rc = HT_OK;

    if (n == 0)
        return HT_OK;
    g->stats.adjacents++;
    if (n > g->stats.max_adjacent_batch)
        g->stats.max_adjacent_batch = n;
    memset(&q, 0, sizeof(q));
    q.kind = GR_ELEM_EDGE;
    q.labels = labels;
    q.n_labels = n_labels;
    q.limit = -1;
    ids = ht_xmalloc(n * sizeof(*ids));
    memcpy(ids, vids, n * sizeof(*ids));
    qsort(ids, n, sizeof(*ids), cmp_i64);
    /* the edges at ids first, then only those sorted */
    sel = ht_xmalloc((g->work.ne ? g->work.ne : 1) * sizeof(*sel));
    k = 0;
    for (size_t i = 0; i < g->work.ne; i++) {
        mem_elem *m = &g->work.e[i];

        if (((dir & GR_DIR_OUT) && in_ids(ids, n, m->out_v)) ||
            ((dir & GR_DIR_IN) && in_ids(ids, n, m->in_v)))
            if (matches(&q, m))
                sel[k++] = m;
    }
    qsort(sel, k, sizeof(*sel), cmp_ptr_id);
    (void) a;
    for (size_t i = 0; i < k && rc == 0; i++) {
        int ends = 0;
        gr_elem e;

        if ((dir & GR_DIR_OUT) && in_ids(ids, n, sel[i]->out_v))
            ends++;
        if ((dir & GR_DIR_IN) && in_ids(ids, n, sel[i]->in_v))
            ends++;
        while (ends-- > 0 && rc == 0) {
            rc = lend(g, GR_ELEM_EDGE, sel[i], &e, err);
            if (rc == HT_OK)
                rc = cb(arg, &e, err);
            lent_free(&e);
        }
    }
    free(ids);
    free(sel);
    return rc < 0 ? rc : HT_OK;
}

static int
mg_set_property(void *gp, gr_elem_kind kind, int64_t id, const char *key,
                json_t *value, ht_err *err)
{
    mem_graph *g = gp;
    mem_elem  *m = kind == GR_ELEM_VERTEX ? find(g->work.v, g->work.nv, id)
                                          : find(g->work.e, g->work.ne, id);

    if (m == NULL)
        return ht_err_set(err, HT_ENOTFOUND, 0, NULL, "no such element");
    if (value == NULL)
        (void) json_object_del(m->props, key);
    else if (json_object_set_new(m->props, key, json_deep_copy(value)) != 0)
        return ht_err_set(err, HT_ENOMEM, 0, NULL, "out of memory");
    return HT_OK;
}

static void
drop_at(mem_elem *arr, size_t *n, size_t i)
{
    free(arr[i].label);
    json_decref(arr[i].props);
    memmove(&arr[i], &arr[i + 1], (*n - i - 1) * sizeof(*arr));
    (*n)--;
}

static int
mg_remove(void *gp, gr_elem_kind kind, int64_t id, ht_err *err)
{
    mem_graph *g = gp;
    mem_elem  *arr = kind == GR_ELEM_VERTEX ? g->work.v : g->work.e;
    size_t    *n = kind == GR_ELEM_VERTEX ? &g->work.nv : &g->work.ne;
    mem_elem  *m = find(arr, *n, id);

    if (m == NULL)
        return ht_err_set(err, HT_ENOTFOUND, 0, NULL, "no such element");
    drop_at(arr, n, (size_t) (m - arr));
    if (kind == GR_ELEM_VERTEX)
        for (size_t i = g->work.ne; i > 0; i--)
            if (g->work.e[i - 1].out_v == id || g->work.e[i - 1].in_v == id)
                drop_at(g->work.e, &g->work.ne, i - 1);
    return HT_OK;
}

static int
mg_commit(void *gp, ht_err *err)
{
    mem_graph *g = gp;

    g->stats.commits++;
    set_copy(&g->committed, &g->work);
    return HT_OK;
}

static int
mg_rollback(void *gp, ht_err *err)
{
    mem_graph *g = gp;

    g->stats.rollbacks++;
    set_copy(&g->work, &g->committed);
    return HT_OK;
}

const gr_graph_ops mem_graph_ops = {
    mg_add_vertex, mg_add_edge, mg_scan,   mg_count,  mg_adjacent,
    mg_set_property, mg_remove, mg_commit, mg_rollback,
};

static json_t *
props_of(const char *json)
{
    json_t *j = json_loads(json, 0, NULL);

    HT_ASSERT(j != NULL);
    return j;
}

void
mem_graph_load_modern(mem_graph *g)
{
    static const struct {
        int64_t     id;
        const char *label, *props;
    } vs[] = {
        {1, "person", "{\"name\":\"marko\",\"age\":29}"},
        {2, "person", "{\"name\":\"vadas\",\"age\":27}"},
        {3, "software", "{\"name\":\"lop\",\"lang\":\"java\"}"},
        {4, "person", "{\"name\":\"josh\",\"age\":32}"},
        {5, "software", "{\"name\":\"ripple\",\"lang\":\"java\"}"},
        {6, "person", "{\"name\":\"peter\",\"age\":35}"},
    };
    static const struct {
        int64_t     id, out_v, in_v;
        const char *label;
        double      weight;
    } es[] = {
        {7, 1, 2, "knows", 0.5},    {8, 1, 4, "knows", 1.0},
        {9, 1, 3, "created", 0.4},  {10, 4, 5, "created", 1.0},
        {11, 4, 3, "created", 0.4}, {12, 6, 3, "created", 0.2},
    };

    for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
        json_t *p = props_of(vs[i].props);

        add(&g->work.v, &g->work.nv, vs[i].id, vs[i].label, p, 0, 0);
        json_decref(p);
    }
    for (size_t i = 0; i < sizeof(es) / sizeof(es[0]); i++) {
        json_t *p = json_pack("{s:f}", "weight", es[i].weight);

        HT_ASSERT(p != NULL);
        add(&g->work.e, &g->work.ne, es[i].id, es[i].label, p, es[i].out_v,
            es[i].in_v);
        json_decref(p);
    }
    g->work.next_vid = 7;
    g->work.next_eid = 13;
    set_copy(&g->committed, &g->work);
}

void
mem_graph_load_big(mem_graph *g, size_t n_vertices, size_t fanout)
{
    int64_t base = g->work.next_vid;

    for (size_t i = 0; i < n_vertices; i++) {
        json_t *p = json_object();

        HT_ASSERT(p != NULL);
        HT_ASSERT(json_object_set_new(p, "name", json_sprintf("n%zu", i)) ==
                  0);
        HT_ASSERT(json_object_set_new(p, "i", json_integer((json_int_t) i)) ==
                  0);
        add(&g->work.v, &g->work.nv, base + (int64_t) i, "node", p, 0, 0);
        json_decref(p);
    }
    for (size_t i = 0; i < n_vertices; i++)
        for (size_t k = 1; k <= fanout; k++)
            add(&g->work.e, &g->work.ne, g->work.next_eid++, "link", NULL,
                base + (int64_t) i,
                base + (int64_t) ((i * 7 + k) % n_vertices));
    g->work.next_vid = base + (int64_t) n_vertices;
    set_copy(&g->committed, &g->work);
}

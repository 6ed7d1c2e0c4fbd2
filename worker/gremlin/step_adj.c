/*
 * worker/gremlin/step_adj.c - adjacency (out/in/both, outE/inE/bothE) and
 * the mutating steps (addV, addE, property, drop).
 *
 * Adjacency asks ops->adjacent for up to GR_BATCH distinct vertices per
 * call and hands each traverser its vertex's edges in the store's order;
 * both() is out() then in() per vertex, as TinkerPop orders it.  Mutations
 * run inside the job's transaction like graph.addVertex does.
 */
#include "worker/gremlin/step.h"

#include <stdlib.h>
#include <string.h>

typedef struct adj_pair {
    int64_t  src;  /* the vertex the edge was reached from */
    size_t   seq;  /* arrival order, to keep the store's order per vertex */
    gr_elem *edge;
} adj_pair;

typedef struct adj_state {
    gr_ctx   *c;
    gr_dir    dir;
    int       bare;  /* keep the edges' ends only, not their properties */
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
    if (st->bare) { /* out()/in()/both(): only the far ends are used */
        gr_elem b = *e;

        b.props = NULL;
        b.label = "";
        copy = gr_elem_copy(st->c->a, &b);
    } else {
        copy = gr_elem_copy(st->c->a, e); /* e is the store's, borrowed */
    }
    if (copy == NULL) {
        rc = gr_ctx_oom(st->c);
        goto fail;
    }
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

static int
cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *) x, b = *(const int64_t *) y;

    return (a > b) - (a < b);
}

/* All edges at ids in one direction, sorted by source vertex. */
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
    st->bare = s->kind == GR_S_OUT || s->kind == GR_S_IN ||
               s->kind == GR_S_BOTH;
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

static int
emit_adjacent(gr_runner *r, const adj_state *st, const gr_trv *t,
              int want_edges, gr_stream *out)
{
    int64_t id = t->v.u.elem->id;
    size_t  lo = 0, hi = st->n;
    int     rc;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (st->pairs[mid].src < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < st->n && st->pairs[lo].src == id; lo++) {
        gr_elem *e = st->pairs[lo].edge, *v;

        if (want_edges) {
            rc = gr_trv_move(r, out, t, gr_elem_value(e));
            if (rc == HT_OK)
                out->t[out->n - 1].from_v = id;
        } else {
            int far_in = st->dir == GR_DIR_OUT;

            v = ht_arena_calloc(r->c->a, sizeof(*v));
            if (v == NULL)
                return gr_ctx_oom(r->c);
            v->kind = GR_ELEM_VERTEX;
            v->id = far_in ? e->in_v : e->out_v;
            v->label = far_in ? e->in_label : e->out_label;
            rc = gr_trv_move(r, out, t, gr_elem_value(v));
        }
        if (rc != HT_OK)
            return rc;
    }
    return HT_OK;
}

int
gr_step_adjacent(gr_runner *r, const gr_step *s, gr_stream *in, gr_stream *out)
{
    gr_ctx   *c = r->c;
    int       want_edges = s->kind == GR_S_OUTE || s->kind == GR_S_INE ||
                     s->kind == GR_S_BOTHE;
    gr_dir    dir = (s->kind == GR_S_OUT || s->kind == GR_S_OUTE) ? GR_DIR_OUT
                    : (s->kind == GR_S_IN || s->kind == GR_S_INE) ? GR_DIR_IN
                                                                  : GR_DIR_BOTH;
    adj_state outs, ins;
    int64_t  *ids;
    size_t    n = 0;
    int       rc;

    if (in->n == 0)
        return HT_OK;
    ids = ht_arena_alloc(c->a, in->n * sizeof(*ids));
    if (ids == NULL)
        return gr_ctx_oom(c);
    for (size_t i = 0; i < in->n; i++) {
        rc = gr_need_elem(c, s, &in->t[i].v, 1);
        if (rc != HT_OK)
            return rc;
        ids[i] = in->t[i].v.u.elem->id;
    }
    qsort(ids, in->n, sizeof(*ids), cmp_i64);
    for (size_t i = 0; i < in->n; i++)
        if (n == 0 || ids[i] != ids[n - 1])
            ids[n++] = ids[i];
    memset(&outs, 0, sizeof(outs));
    memset(&ins, 0, sizeof(ins));
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
    for (size_t i = 0; i < in->n; i++) {
        rc = emit_adjacent(r, &outs, &in->t[i], want_edges, out);
        if (rc == HT_OK)
            rc = emit_adjacent(r, &ins, &in->t[i], want_edges, out);
        if (rc != HT_OK)
            return rc;
    }
    return HT_OK;
}

/* ---- mutations --------------------------------------------------------- */

static int
prop_json(gr_ctx *c, const gr_step *s, const gr_value *v, json_t **out)
{
    int rc = gr_value_to_json_prop(v, out);

    if (rc == HT_ENOMEM)
        return gr_ctx_oom(c);
    if (rc != HT_OK)
        return gr_step_error(c, s, "cannot store a %s",
                             gr_value_type_name(v));
    return gr_ctx_keep_json(c, *out);
}

/* addV(label) and the property(k, v) steps right after it, which become
 * the new vertex's properties (one insert per vertex, not 1 + n). */
int
gr_step_addv(gr_runner *r, const gr_op *ops, size_t n_ops, size_t *i,
             gr_stream *in, gr_stream *out)
{
    gr_ctx        *c = r->c;
    const gr_step *s = ops[*i].s;
    const char    *label = s->n_args ? s->args[0].u.str.s : "vertex";
    json_t        *props = json_object();
    int            rc;

    if (props == NULL)
        return gr_ctx_oom(c);
    rc = gr_ctx_keep_json(c, props);
    if (rc != HT_OK)
        return rc;
    if (s->n_args && s->args[0].u.str.len == 0)
        return gr_step_error(c, s, "expects a non-empty label");
    while (*i + 1 < n_ops && ops[*i + 1].s->kind == GR_S_PROPERTY) {
        const gr_step *p = ops[++*i].s;
        json_t        *j;

        rc = prop_json(c, p, &p->args[1], &j);
        if (rc != HT_OK)
            return rc;
        if (json_object_set(props, p->args[0].u.str.s, j) != 0)
            return gr_ctx_oom(c);
    }
    for (size_t k = 0; k < in->n; k++) {
        gr_elem e, *copy;
        ht_err  serr;

        ht_err_clear(&serr);
        memset(&e, 0, sizeof(e));
        rc = c->job->ops->add_vertex(c->job->graph, c->a, label, 0, props, &e,
                                     &serr);
        if (rc < 0)
            return gr_ctx_store_error(c, rc, &serr);
        copy = ht_arena_alloc(c->a, sizeof(*copy));
        if (copy == NULL)
            return gr_ctx_oom(c);
        *copy = e;
        rc = gr_trv_move(r, out, &in->t[k], gr_elem_value(copy));
        if (rc != HT_OK)
            return rc;
        if ((k + 1) % GR_BATCH == 0 && (rc = gr_ctx_check(c)) != HT_OK)
            return rc;
    }
    return HT_OK;
}

/* The vertex ids from()/to() name for each traverser (0: none). */
static int
resolve_end(gr_runner *r, const gr_step *m, gr_stream *in, int64_t **out)
{
    gr_ctx  *c = r->c;
    int64_t *ids = ht_arena_calloc(c->a, (in->n ? in->n : 1) * sizeof(*ids));
    int      rc;

    if (ids == NULL)
        return gr_ctx_oom(c);
    *out = ids;
    if (m == NULL) {
        for (size_t i = 0; i < in->n; i++)
            if (in->t[i].v.kind == GR_VAL_ELEM &&
                in->t[i].v.u.elem->kind == GR_ELEM_VERTEX)
                ids[i] = in->t[i].v.u.elem->id;
        return HT_OK;
    }
    if (m->args[0].kind == GR_VAL_ELEM) {
        for (size_t i = 0; i < in->n; i++)
            ids[i] = m->args[0].u.elem->id;
        return HT_OK;
    }
    if (m->args[0].kind == GR_VAL_STRING) {
        for (size_t i = 0; i < in->n; i++) {
            gr_value v;

            if (gr_path_select(&in->t[i], m->args[0].u.str.s, &v) &&
                v.kind == GR_VAL_ELEM && v.u.elem->kind == GR_ELEM_VERTEX)
                ids[i] = v.u.elem->id;
        }
        return HT_OK;
    }
    {
        gr_stream *res = NULL;

        rc = gr_run_child(r, m->args[0].u.trav, in, &res);
        if (rc != HT_OK)
            return rc;
        for (size_t i = res->n; i > 0; i--) { /* the first result wins */
            const gr_trv *t = &res->t[i - 1];

            if (t->origin < in->n && t->v.kind == GR_VAL_ELEM &&
                t->v.u.elem->kind == GR_ELEM_VERTEX)
                ids[t->origin] = t->v.u.elem->id;
        }
    }
    return HT_OK;
}

int
gr_step_adde(gr_runner *r, const gr_op *op, gr_stream *in, gr_stream *out)
{
    gr_ctx        *c = r->c;
    const gr_step *s = op->s;
    int64_t       *from, *to;
    int            rc = resolve_end(r, op->from, in, &from);

    if (rc == HT_OK)
        rc = resolve_end(r, op->to, in, &to);
    if (rc != HT_OK)
        return rc;
    for (size_t k = 0; k < in->n; k++) {
        gr_elem e, *copy;
        ht_err  serr;

        if (from[k] == 0 || to[k] == 0)
            return gr_step_error(c, s, "needs a vertex at both ends (from() "
                                       "and to())");
        ht_err_clear(&serr);
        memset(&e, 0, sizeof(e));
        rc = c->job->ops->add_edge(c->job->graph, c->a, s->args[0].u.str.s,
                                   from[k], to[k], NULL, &e, &serr);
        if (rc == HT_ENOTFOUND)
            return gr_step_error(c, s, "an end vertex does not exist");
        if (rc < 0)
            return gr_ctx_store_error(c, rc, &serr);
        copy = ht_arena_alloc(c->a, sizeof(*copy));
        if (copy == NULL)
            return gr_ctx_oom(c);
        *copy = e;
        rc = gr_trv_move(r, out, &in->t[k], gr_elem_value(copy));
        if (rc != HT_OK)
            return rc;
    }
    return HT_OK;
}

int
gr_step_property(gr_runner *r, const gr_step *s, gr_stream *in)
{
    gr_ctx     *c = r->c;
    const char *key = s->args[0].u.str.s;
    json_t     *j;
    int         rc = gr_load_stubs(c, in);

    if (rc == HT_OK)
        rc = prop_json(c, s, &s->args[1], &j);
    if (rc != HT_OK)
        return rc;
    for (size_t i = 0; i < in->n; i++) {
        gr_elem *e, *ne;
        json_t  *copy;
        ht_err   serr;

        rc = gr_need_elem(c, s, &in->t[i].v, 0);
        if (rc != HT_OK)
            return rc;
        e = in->t[i].v.u.elem;
        ht_err_clear(&serr);
        rc = c->job->ops->set_property(c->job->graph, e->kind, e->id, key, j,
                                       &serr);
        if (rc < 0 && rc != HT_ENOTFOUND)
            return gr_ctx_store_error(c, rc, &serr);
        /* the traverser's view follows, on copies: elements are shared */
        copy = e->props ? json_copy(e->props) : json_object();
        ne = ht_arena_alloc(c->a, sizeof(*ne));
        if (copy == NULL || ne == NULL) {
            json_decref(copy);
            return gr_ctx_oom(c);
        }
        rc = gr_ctx_keep_json(c, copy);
        if (rc != HT_OK)
            return rc;
        if (json_object_set(copy, key, j) != 0)
            return gr_ctx_oom(c);
        *ne = *e;
        ne->props = copy;
        in->t[i].v.u.elem = ne;
    }
    return HT_OK;
}

int
gr_step_drop(gr_runner *r, const gr_step *s, gr_stream *in)
{
    gr_ctx *c = r->c;

    for (size_t i = 0; i < in->n; i++) {
        const gr_elem *e;
        ht_err         serr;
        int            rc = gr_need_elem(c, s, &in->t[i].v, 0);

        if (rc != HT_OK)
            return rc;
        if ((i + 1) % GR_BATCH == 0 && (rc = gr_ctx_check(c)) != HT_OK)
            return rc;
        e = in->t[i].v.u.elem;
        ht_err_clear(&serr);
        rc = c->job->ops->remove(c->job->graph, e->kind, e->id, &serr);
        /* an element already removed (with its vertex) is not an error */
        if (rc < 0 && rc != HT_ENOTFOUND)
            return gr_ctx_store_error(c, rc, &serr);
    }
    in->n = 0;
    return HT_OK;
}

/*
 * worker/gremlin/step_pipe.c - running a top-level traversal in batches,
 * so counting, filtering and mapping over millions of elements need
 * bounded memory.
 *
 * The ops right after the head (or after the one start traverser of
 * g.addV()) that work traverser by traverser - filters, maps, adjacency,
 * where/not/coalesce, as/select/path, limit/range/skip - form the
 * streamed part.  The head's scan hands its elements over in batches of
 * GR_BATCH; each batch goes through the streamed ops one op at a time,
 * at most GR_BATCH input traversers per pass, every pass in a scratch
 * arena of its own that is freed as soon as what it produced has moved
 * on.  What leaves the streamed part goes to one sink:
 *   - the results (copied into the job arena), or nowhere for iterate();
 *   - count(), which only adds up; sum/min/max, which reduce each batch
 *     and then the partial answers;
 *   - the first barrier (order, dedup, fold, group, tail, repeat, drop,
 *     ...): its input is copied into the job arena, and the rest of the
 *     traversal runs on it as one stream (step_run.c), as before.
 * limit/range/skip count across batches, and once one of them can pass
 * nothing more the scan stops.  Order is kept: each streamed op emits in
 * the order of its input, batch after batch.
 *
 * Mutating steps are barriers on purpose: a scan must not see the rows
 * its own traversal is changing.  Not here: the steps themselves
 * (step_*.c), the head's query (step_store.c).
 */
#include "worker/gremlin/step.h"

#include <string.h>

#define SCRATCH_BLOCK         65536
#define SCRATCH_LIMIT_DEFAULT ((size_t) 64 << 20)

typedef enum {
    SINK_RESULT,  /* the traversal's results */
    SINK_DISCARD, /* iterate(): nothing is kept */
    SINK_KEEP,    /* the input of the first barrier */
    SINK_COUNT,   /* count() */
    SINK_REDUCE   /* sum(), min(), max(): partial answers */
} sink_kind;

typedef struct pipe {
    gr_runner   *r;
    const gr_op *ops;
    size_t       from, to; /* the streamed ops: ops[from..to) */
    sink_kind    sink;
    ht_arena    *job;      /* the job arena: what survives a batch */
    size_t       scratch_limit;
    gr_stream   *acc;      /* KEEP, REDUCE (in job) */
    gr_list     *res;      /* RESULT (in job) */
    int64_t      count;    /* COUNT */
    int64_t     *seen;     /* range ops: traversers seen, per op */
    int          cut;      /* some range op at index >= cut_at is done */
    size_t       cut_at;   /* the highest such op */
    /* the head's scan */
    ht_arena    *batch_arena;
    gr_stream   *batch;
    int          rc;       /* the error a scan callback recorded */
} pipe;

/* Whether op passes traverser by traverser (its output for one input
 * does not depend on the others), so it can run a batch at a time. */
static int
streams(gr_step_kind k)
{
    switch (k) {
    case GR_S_HASLABEL: case GR_S_HAS: case GR_S_HASID: case GR_S_HASNOT:
    case GR_S_IS: case GR_S_LIMIT: case GR_S_RANGE: case GR_S_SKIP:
    case GR_S_SIMPLEPATH: case GR_S_WHERE: case GR_S_NOT: case GR_S_AS:
    case GR_S_IDENTITY: case GR_S_COALESCE:
    case GR_S_OUT: case GR_S_IN: case GR_S_BOTH:
    case GR_S_OUTE: case GR_S_INE: case GR_S_BOTHE:
    case GR_S_VALUES: case GR_S_VALUEMAP: case GR_S_ELEMENTMAP:
    case GR_S_PROPERTIES: case GR_S_ID: case GR_S_LABEL:
    case GR_S_OUTV: case GR_S_INV: case GR_S_OTHERV: case GR_S_BOTHV:
    case GR_S_CONSTANT: case GR_S_UNFOLD: case GR_S_PATH: case GR_S_SELECT:
        return 1;
    default:
        return 0;
    }
}

static int
is_range(gr_step_kind k)
{
    return k == GR_S_LIMIT || k == GR_S_RANGE || k == GR_S_SKIP;
}

/* ---- sinks ------------------------------------------------------------- */

static int
sink(pipe *p, gr_stream *in)
{
    gr_runner *r = p->r;
    gr_ctx    *c = r->c;
    gr_stream *part;
    int        rc = HT_OK;

    switch (p->sink) {
    case SINK_DISCARD:
        return HT_OK;
    case SINK_COUNT:
        p->count += (int64_t) in->n;
        return HT_OK;
    case SINK_REDUCE:
        part = gr_stream_new(c);
        if (part == NULL)
            return HT_ENOMEM;
        rc = gr_step_reduce(r, &p->ops[p->to], in, part);
        for (size_t i = 0; rc == HT_OK && i < part->n; i++)
            rc = gr_trv_copy_push(c, p->job, p->acc, &part->t[i], 0);
        return rc;
    case SINK_KEEP:
        for (size_t i = 0; rc == HT_OK && i < in->n; i++)
            rc = gr_trv_copy_push(c, p->job, p->acc, &in->t[i], r->paths);
        return rc;
    case SINK_RESULT:
        rc = gr_load_stubs(c, in);
        for (size_t i = 0; rc == HT_OK && i < in->n; i++) {
            gr_value v;

            if (gr_value_copy(p->job, &in->t[i].v, &v) != HT_OK ||
                gr_list_push(p->job, p->res, v) != HT_OK)
                rc = gr_ctx_oom(c);
        }
        return rc;
    }
    return HT_OK;
}

/* ---- the streamed ops -------------------------------------------------- */

/* limit/range/skip at the top level (one origin), counting across
 * batches; filters in in place. */
static int
range_pass(pipe *p, size_t k, gr_stream *in)
{
    const gr_step *s = p->ops[k].s;
    int64_t       *seen = &p->seen[k - p->from];
    int64_t        lo = 0, hi = -1;
    size_t         n = 0;

    if (s->kind == GR_S_LIMIT) {
        hi = s->args[0].u.i;
    } else if (s->kind == GR_S_RANGE) {
        lo = s->args[0].u.i;
        hi = s->args[1].u.i;
    } else {
        lo = s->args[0].u.i;
    }
    for (size_t i = 0; i < in->n; i++) {
        int64_t at = (*seen)++;

        if (at >= lo && (hi < 0 || at < hi))
            in->t[n++] = in->t[i];
    }
    in->n = n;
    if (hi >= 0 && *seen >= hi && (!p->cut || k > p->cut_at)) {
        p->cut = 1;
        p->cut_at = k;
    }
    return gr_ctx_tick(p->r->c, (int64_t) n);
}

/* Runs ops[k..to) over in (in the current arena) and hands what comes
 * out to the sink: GR_BATCH traversers per pass, each pass's output in a
 * scratch arena freed once it has gone on. */
static int
push_through(pipe *p, size_t k, gr_stream *in)
{
    gr_ctx *c = p->r->c;
    int     rc;

    if (k == p->to)
        return sink(p, in);
    if (is_range(p->ops[k].s->kind)) {
        rc = range_pass(p, k, in);
        if (rc != HT_OK || in->n == 0)
            return rc;
        return push_through(p, k + 1, in);
    }
    for (size_t off = 0; off < in->n; off += GR_BATCH) {
        size_t     len = in->n - off < GR_BATCH ? in->n - off : GR_BATCH;
        ht_arena  *parent = c->a, *pass;
        gr_stream *sub, *out = NULL;

        if (p->cut && p->cut_at >= k)
            break; /* a limit downstream has all it can pass */
        pass = ht_arena_new(SCRATCH_BLOCK, p->scratch_limit);
        c->a = pass;
        sub = ht_arena_calloc(pass, sizeof(*sub));
        if (sub != NULL)
            sub->t = ht_arena_alloc(pass, len * sizeof(*sub->t));
        if (sub == NULL || sub->t == NULL) {
            rc = gr_ctx_oom(c);
        } else {
            memcpy(sub->t, in->t + off, len * sizeof(*sub->t));
            sub->n = sub->cap = len;
            rc = gr_run_ops(p->r, p->ops, k + 1, k, sub, &out);
            if (rc == HT_OK)
                rc = push_through(p, k + 1, out);
        }
        c->a = parent;
        ht_arena_free(pass);
        if (rc != HT_OK)
            return rc;
    }
    return HT_OK;
}

/* ---- the head's scan --------------------------------------------------- */

static int
new_batch(pipe *p)
{
    gr_ctx *c = p->r->c;

    p->batch_arena = ht_arena_new(SCRATCH_BLOCK, p->scratch_limit);
    p->batch = ht_arena_calloc(p->batch_arena, sizeof(*p->batch));
    if (p->batch != NULL)
        p->batch->t = ht_arena_alloc(p->batch_arena,
                                     GR_BATCH * sizeof(*p->batch->t));
    if (p->batch == NULL || p->batch->t == NULL)
        return gr_ctx_oom(c);
    p->batch->cap = GR_BATCH;
    return HT_OK;
}

/* Sends the filled batch on and starts a new one (c->a is the batch's
 * arena on entry and the new batch's on return). */
static int
flush(pipe *p)
{
    gr_ctx *c = p->r->c;
    int     rc = gr_ctx_check(c);

    if (rc == HT_OK)
        rc = gr_ctx_tick(c, (int64_t) p->batch->n);
    if (rc == HT_OK)
        rc = push_through(p, p->from, p->batch);
    ht_arena_free(p->batch_arena);
    p->batch_arena = NULL;
    p->batch = NULL;
    if (rc == HT_OK)
        rc = new_batch(p);
    c->a = p->batch_arena ? p->batch_arena : p->job;
    return rc;
}

/* e is the store's (borrowed): copied into the batch. */
static int
head_cb(void *arg, const gr_elem *e, ht_err *err)
{
    pipe    *p = arg;
    gr_ctx  *c = p->r->c;
    ht_arena *saved = c->a;
    gr_elem *copy;
    gr_trv   none;
    int      rc;

    if (p->cut)
        return 1; /* nothing more can reach the sink */
    c->a = p->batch_arena;
    copy = gr_elem_copy(c->a, e);
    if (copy == NULL) {
        rc = gr_ctx_oom(c);
    } else {
        memset(&none, 0, sizeof(none));
        rc = gr_trv_move(p->r, p->batch, &none, gr_elem_value(copy));
    }
    if (rc == HT_OK && p->batch->n >= GR_BATCH)
        rc = flush(p);
    c->a = saved;
    if (rc != HT_OK) {
        p->rc = rc;
        return ht_err_set(err, rc, 0, c->err.exception, "%s", c->err.msg);
    }
    return p->cut ? 1 : 0;
}

static int
run_scan(pipe *p, const gr_query *q)
{
    gr_ctx *c = p->r->c;
    int     rc = new_batch(p);

    if (rc == HT_OK)
        rc = gr_store_scan(c, q, head_cb, p, &p->rc);
    if (rc == HT_OK && p->batch->n > 0 && !p->cut) {
        c->a = p->batch_arena;
        rc = gr_ctx_tick(c, (int64_t) p->batch->n);
        if (rc == HT_OK)
            rc = push_through(p, p->from, p->batch);
        c->a = p->job;
    }
    ht_arena_free(p->batch_arena);
    p->batch_arena = NULL;
    return rc;
}

/* ---- the traversal ----------------------------------------------------- */

static int
set_results(gr_ctx *c, gr_trav *t, gr_stream *res, int keep)
{
    gr_list *l;
    int      rc = keep ? gr_load_stubs(c, res) : HT_OK;

    if (rc != HT_OK)
        return rc;
    l = gr_list_new(c->a, keep ? res->n : 0);
    if (l == NULL)
        return gr_ctx_oom(c);
    for (size_t k = 0; keep && k < res->n; k++)
        l->items[k] = res->t[k].v;
    l->n = keep ? res->n : 0;
    t->res = l;
    t->pos = 0;
    return HT_OK;
}

int
gr_trav_run(gr_ctx *c, gr_trav *t, int keep)
{
    gr_runner r = {c, t->last && t->last->paths, 1};
    gr_stream *start = gr_stream_new(c), *cur = NULL, *res = NULL;
    gr_op     *ops;
    size_t     n_ops, i = 0, next;
    gr_query   q;
    pipe       p;
    int        scan = 0, rc;
    gr_trv     none;

    if (start == NULL)
        return HT_ENOMEM;
    rc = gr_build_ops(c, t, &ops, &n_ops);
    if (rc != HT_OK)
        return rc;
    memset(&none, 0, sizeof(none));
    if (n_ops && !ops[0].s->anon &&
        (ops[0].s->kind == GR_S_V || ops[0].s->kind == GR_S_E)) {
        rc = gr_head_query(&r, ops, n_ops, &i, &q);
        if (rc == HT_OK)
            rc = gr_ctx_check(c);
        if (rc != HT_OK)
            return rc;
        if (i < n_ops && ops[i].s->kind == GR_S_COUNT) { /* pushed too */
            int64_t count;

            rc = gr_store_count(c, &q, &count);
            if (rc == HT_OK) {
                none.v = gr_int(count);
                rc = gr_stream_push(c, start, none);
            }
            if (rc != HT_OK)
                return rc;
            i++;
        } else {
            scan = q.limit != 0;
        }
    } else if (n_ops && !ops[0].s->anon) { /* g.addV(), g.addE(): one start */
        rc = gr_stream_push(c, start, none);
        if (rc != HT_OK)
            return rc;
    }

    memset(&p, 0, sizeof(p));
    p.r = &r;
    p.ops = ops;
    p.job = c->a;
    p.scratch_limit = c->job->scratch_limit ? c->job->scratch_limit
                                            : SCRATCH_LIMIT_DEFAULT;
    p.from = i;
    for (p.to = i; p.to < n_ops && streams(ops[p.to].s->kind); p.to++)
        ;
    if (p.to == n_ops)
        p.sink = keep ? SINK_RESULT : SINK_DISCARD;
    else if (ops[p.to].s->kind == GR_S_COUNT)
        p.sink = SINK_COUNT;
    else if (ops[p.to].s->kind == GR_S_SUM || ops[p.to].s->kind == GR_S_MIN ||
             ops[p.to].s->kind == GR_S_MAX)
        p.sink = SINK_REDUCE;
    else
        p.sink = SINK_KEEP;
    p.acc = gr_stream_new(c);
    p.res = gr_list_new(c->a, 0);
    p.seen = ht_arena_calloc(c->a, (p.to - p.from + 1) * sizeof(*p.seen));
    if (p.acc == NULL || p.res == NULL || p.seen == NULL)
        return gr_ctx_oom(c);

    rc = scan ? run_scan(&p, &q) : push_through(&p, p.from, start);
    c->a = p.job;
    if (rc != HT_OK)
        return rc;

    switch (p.sink) {
    case SINK_RESULT:
        t->res = p.res;
        t->pos = 0;
        return HT_OK;
    case SINK_DISCARD:
        return set_results(c, t, start, 0);
    case SINK_COUNT:
        cur = gr_stream_new(c);
        if (cur == NULL)
            return HT_ENOMEM;
        rc = gr_trv_move(&r, cur, &none, gr_int(p.count));
        next = p.to + 1;
        break;
    case SINK_REDUCE: /* the partial answers reduce to the answer */
        cur = gr_stream_new(c);
        if (cur == NULL)
            return HT_ENOMEM;
        rc = gr_step_reduce(&r, &ops[p.to], p.acc, cur);
        next = p.to + 1;
        break;
    default:
        cur = p.acc;
        next = p.to;
    }
    if (rc == HT_OK)
        rc = gr_ctx_tick(c, 1);
    if (rc == HT_OK)
        rc = gr_run_ops(&r, ops, n_ops, next, cur, &res);
    if (rc != HT_OK)
        return rc;
    return set_results(c, t, res, keep);
}

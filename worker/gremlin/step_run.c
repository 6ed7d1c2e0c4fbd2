/*
 * worker/gremlin/step_run.c - running ops: steps grouped with their
 * modulators into ops, then one whole-stream pass per op (see step.h);
 * step_pipe.c drives the top level in batches through these passes.
 *
 * Child traversals (where, not, by, coalesce, repeat's body, until, emit)
 * run once over the whole stream, never once per traverser, so the store
 * still sees batches.  The host is asked whether to go on before every op
 * and every repeat() round; loops are also bounded by the step budget.
 */
#include "worker/gremlin/step.h"

#include <string.h>


/* ---- ops --------------------------------------------------------------- */

static int
modulates_by(gr_step_kind k)
{
    return k == GR_S_ORDER || k == GR_S_GROUP || k == GR_S_GROUPCOUNT ||
           k == GR_S_DEDUP || k == GR_S_PATH || k == GR_S_SELECT;
}

static int
no_target(gr_ctx *c, const gr_step *s, const char *what)
{
    return gr_ctx_throw(c, HT_EINVAL, "IllegalArgumentException",
                        "line %d, column %d: %s() must follow %s", s->line,
                        s->col, gr_step_names[s->kind], what);
}

int
gr_build_ops(gr_ctx *c, const gr_trav *t, gr_op **out, size_t *n_out)
{
    const gr_step *s, **steps;
    gr_op         *ops, pending;
    size_t         n = 0, k = 0, i;
    int            have_pending = 0;

    for (s = t->last; s; s = s->prev)
        n++;
    steps = ht_arena_alloc(c->a, (n ? n : 1) * sizeof(*steps));
    ops = ht_arena_calloc(c->a, (n ? n : 1) * sizeof(*ops));
    if (steps == NULL || ops == NULL)
        return gr_ctx_oom(c);
    i = n;
    for (s = t->last; s; s = s->prev)
        steps[--i] = s;
    memset(&pending, 0, sizeof(pending));
    for (i = 0; i < n; i++) {
        gr_op *last = k ? &ops[k - 1] : NULL;

        s = steps[i];
        switch (s->kind) {
        case GR_S_BY:
            if (last == NULL || !modulates_by(last->s->kind))
                return no_target(c, s, "order, group, groupCount, dedup, "
                                       "path or select");
            if (last->n_by == GR_MAX_BY)
                return no_target(c, s, "at most 8 by() of one step:");
            last->by[last->n_by++] = s;
            continue;
        case GR_S_FROM:
        case GR_S_TO:
            if (last == NULL || last->s->kind != GR_S_ADDE)
                return no_target(c, s, "addE");
            if (s->kind == GR_S_FROM)
                last->from = s;
            else
                last->to = s;
            continue;
        case GR_S_TIMES:
        case GR_S_UNTIL:
        case GR_S_EMIT: {
            gr_op *o = last && last->s->kind == GR_S_REPEAT && !have_pending
                           ? last
                           : &pending;

            if (o == &pending)
                have_pending = 1;
            if (s->kind == GR_S_TIMES)
                o->times = s;
            else if (s->kind == GR_S_UNTIL) {
                o->until = s;
                o->until_first = o == &pending;
            } else {
                o->emit = s;
                o->emit_first = o == &pending;
            }
            continue;
        }
        default:
            break;
        }
        if (have_pending && s->kind != GR_S_REPEAT)
            return no_target(c, pending.until  ? pending.until
                                : pending.emit ? pending.emit
                                               : pending.times,
                             "or precede repeat");
        if (have_pending) {
            ops[k] = pending;
            have_pending = 0;
            memset(&pending, 0, sizeof(pending));
        }
        ops[k++].s = s;
    }
    if (have_pending)
        return no_target(c, pending.until  ? pending.until
                            : pending.emit ? pending.emit
                                           : pending.times,
                         "or precede repeat");
    *out = ops;
    *n_out = k;
    return HT_OK;
}

/* ---- children ---------------------------------------------------------- */

int
gr_run_child(gr_runner *r, const gr_trav *t, const gr_stream *in,
             gr_stream **out)
{
    gr_runner cr = {r->c, r->paths || (t->last && t->last->paths), in->n};
    gr_stream *s = gr_stream_new(r->c);
    gr_op     *ops;
    size_t     n_ops;
    int        rc;

    if (s == NULL)
        return HT_ENOMEM;
    rc = gr_build_ops(r->c, t, &ops, &n_ops);
    if (rc != HT_OK)
        return rc;
    for (size_t i = 0; i < in->n; i++) {
        gr_trv tv = in->t[i];

        tv.origin = i;
        rc = gr_stream_push(r->c, s, tv);
        if (rc != HT_OK)
            return rc;
    }
    return gr_run_ops(&cr, ops, n_ops, 0, s, out);
}

int
gr_run_grouped(gr_runner *r, const gr_trav *t, gr_stream *in, size_t n_origins,
               gr_stream **out)
{
    gr_runner cr = {r->c, r->paths || (t->last && t->last->paths), n_origins};
    gr_op *ops;
    size_t n_ops;
    int    rc = gr_build_ops(r->c, t, &ops, &n_ops);

    if (rc != HT_OK)
        return rc;
    return gr_run_ops(&cr, ops, n_ops, 0, in, out);
}

/* Which input traversers the child produced anything for (in arena). */
static int
child_hits(gr_runner *r, const gr_trav *t, const gr_stream *in, char **hits)
{
    gr_stream *res = NULL;
    char      *h = ht_arena_calloc(r->c->a, in->n ? in->n : 1);
    int        rc;

    if (h == NULL)
        return gr_ctx_oom(r->c);
    rc = gr_run_child(r, t, in, &res);
    if (rc != HT_OK)
        return rc;
    for (size_t i = 0; i < res->n; i++)
        if (res->t[i].origin < in->n)
            h[res->t[i].origin] = 1;
    *hits = h;
    return HT_OK;
}

int
gr_project(gr_runner *r, const gr_step *by, const gr_value *in, size_t n,
           gr_value **out, char **found)
{
    gr_ctx         *c = r->c;
    gr_value       *o = ht_arena_alloc(c->a, (n ? n : 1) * sizeof(*o));
    char           *f = ht_arena_calloc(c->a, n ? n : 1);
    const gr_value *how = by && by->n_args ? &by->args[0] : NULL;
    int             rc;

    if (o == NULL || f == NULL)
        return gr_ctx_oom(c);
    if (how && how->kind == GR_VAL_OBJ && how->u.obj != GR_OBJ_T_ID &&
        how->u.obj != GR_OBJ_T_LABEL)
        how = NULL; /* by(asc): identity */
    if (how && how->kind == GR_VAL_TRAV) {
        gr_stream *s = gr_stream_new(c), *res = NULL;

        if (s == NULL)
            return HT_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            gr_trv tv;

            memset(&tv, 0, sizeof(tv));
            tv.v = in[i];
            rc = gr_stream_push(c, s, tv);
            if (rc != HT_OK)
                return rc;
        }
        rc = gr_run_child(r, how->u.trav, s, &res);
        if (rc != HT_OK)
            return rc;
        for (size_t i = 0; i < res->n; i++) {
            size_t k = res->t[i].origin;

            if (k < n && !f[k]) {
                f[k] = 1;
                o[k] = res->t[i].v;
            }
        }
        *out = o;
        *found = f;
        return HT_OK;
    }
    if (how && how->kind == GR_VAL_STRING) {
        gr_value *copy = ht_arena_alloc(c->a, (n ? n : 1) * sizeof(*copy));

        if (copy == NULL)
            return gr_ctx_oom(c);
        if (n)
            memcpy(copy, in, n * sizeof(*copy));
        rc = gr_load_values(c, copy, n);
        if (rc != HT_OK)
            return rc;
        in = copy;
    }
    for (size_t i = 0; i < n; i++) {
        const gr_value *v = &in[i];

        if (how == NULL) {
            o[i] = *v;
            f[i] = 1;
        } else if (how->kind == GR_VAL_OBJ && v->kind == GR_VAL_ELEM) {
            const gr_elem *e = v->u.elem;

            o[i] = how->u.obj == GR_OBJ_T_ID ? gr_int(e->id)
                                             : gr_str(e->label, strlen(e->label));
            f[i] = 1;
        } else if (how->kind == GR_VAL_STRING && v->kind == GR_VAL_ELEM) {
            json_t *j = v->u.elem->props
                            ? json_object_get(v->u.elem->props, how->u.str.s)
                            : NULL;

            if (j != NULL) {
                if (gr_value_from_json(c->a, j, &o[i]) != HT_OK)
                    return gr_ctx_oom(c);
                f[i] = 1;
            }
        } else if (how->kind == GR_VAL_STRING && v->kind == GR_VAL_MAP) {
            gr_value *m = gr_map_get(v->u.map, *how);

            if (m != NULL) {
                o[i] = *m;
                f[i] = 1;
            }
        }
    }
    *out = o;
    *found = f;
    return HT_OK;
}

/* ---- where, not, coalesce, as ------------------------------------------ */

static int
keep_hits(gr_runner *r, const gr_trav *t, gr_stream *in, int want)
{
    char  *hits;
    size_t k = 0;
    int    rc = child_hits(r, t, in, &hits);

    if (rc != HT_OK)
        return rc;
    for (size_t i = 0; i < in->n; i++)
        if ((hits[i] != 0) == want)
            in->t[k++] = in->t[i];
    in->n = k;
    return HT_OK;
}

static int
coalesce_step(gr_runner *r, const gr_step *s, gr_stream *in, gr_stream **out)
{
    gr_ctx    *c = r->c;
    char      *done = ht_arena_calloc(c->a, in->n ? in->n : 1);
    gr_stream *acc = gr_stream_new(c), *res;
    size_t     k;
    int        rc;

    if (done == NULL || acc == NULL)
        return gr_ctx_oom(c);
    for (size_t a = 0; a < s->n_args; a++) {
        gr_stream *rest = gr_stream_new(c);
        size_t    *map = ht_arena_alloc(c->a, (in->n ? in->n : 1) *
                                                  sizeof(*map));

        if (rest == NULL || map == NULL)
            return gr_ctx_oom(c);
        for (size_t i = 0; i < in->n; i++)
            if (!done[i]) {
                map[rest->n] = i;
                rc = gr_stream_push(c, rest, in->t[i]);
                if (rc != HT_OK)
                    return rc;
            }
        if (rest->n == 0)
            break;
        rc = gr_run_child(r, s->args[a].u.trav, rest, &res);
        if (rc != HT_OK)
            return rc;
        for (size_t i = 0; i < res->n; i++) {
            size_t o = map[res->t[i].origin];

            done[o] = 2; /* this round's */
            res->t[i].origin = o;
            rc = gr_stream_push(c, acc, res->t[i]);
            if (rc != HT_OK)
                return rc;
        }
        for (size_t i = 0; i < in->n; i++)
            if (done[i] == 2)
                done[i] = 1;
    }
    /* back in input order: a counting sort on the input index */
    {
        size_t *start = ht_arena_calloc(c->a, (in->n + 1) * sizeof(*start));
        gr_stream *o = gr_stream_new(c);

        if (start == NULL || o == NULL)
            return gr_ctx_oom(c);
        for (size_t i = 0; i < acc->n; i++)
            start[acc->t[i].origin + 1]++;
        for (size_t i = 0; i < in->n; i++)
            start[i + 1] += start[i];
        o->t = ht_arena_alloc(c->a, (acc->n ? acc->n : 1) * sizeof(*o->t));
        if (o->t == NULL)
            return gr_ctx_oom(c);
        o->n = o->cap = acc->n;
        for (size_t i = 0; i < acc->n; i++) {
            size_t from = acc->t[i].origin;

            k = start[from]++;
            o->t[k] = acc->t[i];
            o->t[k].origin = in->t[from].origin;
        }
        *out = o;
    }
    return HT_OK;
}

static int
as_step(gr_runner *r, const gr_step *s, gr_stream *in)
{
    for (size_t i = 0; i < in->n && r->paths; i++) {
        gr_path *p = ht_arena_alloc(r->c->a, sizeof(*p));
        const gr_path *old = in->t[i].path;
        size_t         n = old ? old->n_labels : 0;

        if (p == NULL)
            return gr_ctx_oom(r->c);
        if (old == NULL) { /* a traverser with no path yet (a barrier's) */
            memset(p, 0, sizeof(*p));
            p->v = in->t[i].v;
        } else {
            *p = *old;
        }
        p->labels = ht_arena_alloc(r->c->a, (n + s->n_args) *
                                                sizeof(*p->labels));
        if (p->labels == NULL)
            return gr_ctx_oom(r->c);
        if (n)
            memcpy(p->labels, old->labels, n * sizeof(*p->labels));
        for (size_t k = 0; k < s->n_args; k++)
            p->labels[n + k] = s->args[k].u.str.s;
        p->n_labels = n + s->n_args;
        in->t[i].path = p;
    }
    return HT_OK;
}

/* ---- repeat ------------------------------------------------------------ */

/* Splits cur by the until/times/emit checks: leavers go to out, emitted
 * copies to out, the rest to *next.  first: the checks placed before
 * repeat() (at the start of a round) or those after it. */
static int
repeat_checks(gr_runner *r, const gr_op *op, int first, int64_t loops,
              gr_stream *cur, gr_stream *out, gr_stream *next)
{
    gr_ctx *c = r->c;
    char   *until = NULL, *emit = NULL;
    int     rc;
    int     do_until = op->until && op->until_first == first;
    int     do_emit = op->emit && op->emit_first == first;

    if (do_until) {
        rc = child_hits(r, op->until->args[0].u.trav, cur, &until);
        if (rc != HT_OK)
            return rc;
    }
    if (do_emit && op->emit->n_args) {
        rc = child_hits(r, op->emit->args[0].u.trav, cur, &emit);
        if (rc != HT_OK)
            return rc;
    }
    for (size_t i = 0; i < cur->n; i++) {
        if ((until && until[i]) ||
            (op->times && loops >= op->times->args[0].u.i)) {
            rc = gr_stream_push(c, out, cur->t[i]);
        } else {
            rc = HT_OK;
            if (do_emit && (emit == NULL || emit[i]))
                rc = gr_stream_push(c, out, cur->t[i]);
            if (rc == HT_OK)
                rc = gr_stream_push(c, next, cur->t[i]);
        }
        if (rc != HT_OK)
            return rc;
    }
    return HT_OK;
}

static int
repeat_step(gr_runner *r, const gr_op *op, gr_stream *in, gr_stream **out)
{
    gr_ctx    *c = r->c;
    gr_stream *res = gr_stream_new(c), *cur = in;
    int64_t    loops = 0;
    int        rc;

    if (res == NULL)
        return HT_ENOMEM;
    while (cur->n > 0) {
        gr_stream *next = gr_stream_new(c), *body = NULL;
        gr_op     *ops = NULL;
        size_t     n_ops = 0;

        if (next == NULL)
            return HT_ENOMEM;
        rc = gr_ctx_check(c);
        if (rc == HT_OK)
            rc = repeat_checks(r, op, 1, loops, cur, res, next);
        if (rc != HT_OK)
            return rc;
        if (next->n == 0)
            break;
        rc = gr_build_ops(c, op->s->args[0].u.trav, &ops, &n_ops);
        if (rc == HT_OK)
            rc = gr_run_ops(r, ops, n_ops, 0, next, &body);
        if (rc != HT_OK)
            return rc;
        loops++;
        rc = gr_ctx_tick(c, 1 + (int64_t) body->n);
        if (rc != HT_OK)
            return rc;
        cur = gr_stream_new(c);
        if (cur == NULL)
            return HT_ENOMEM;
        rc = repeat_checks(r, op, 0, loops, body, res, cur);
        if (rc != HT_OK)
            return rc;
    }
    *out = res;
    return HT_OK;
}

/* ---- the pass loop ----------------------------------------------------- */

int
gr_run_ops(gr_runner *r, const gr_op *ops, size_t n, size_t i, gr_stream *in,
        gr_stream **out)
{
    gr_ctx    *c = r->c;
    gr_stream *cur = in;
    int        rc = HT_OK;

    for (; i < n; i++) {
        const gr_op   *op = &ops[i];
        const gr_step *s = op->s;
        gr_stream     *next = NULL;

        rc = gr_ctx_check(c);
        if (rc != HT_OK)
            return rc;
        switch (s->kind) {
        case GR_S_HASLABEL: case GR_S_HAS: case GR_S_HASID:
        case GR_S_HASNOT: case GR_S_IS:
            rc = gr_step_filter(r, s, cur);
            break;
        case GR_S_LIMIT: case GR_S_RANGE: case GR_S_SKIP: case GR_S_TAIL:
            rc = gr_step_range(r, s, cur);
            break;
        case GR_S_ORDER: rc = gr_step_order(r, op, cur); break;
        case GR_S_DEDUP: rc = gr_step_dedup(r, op, cur); break;
        case GR_S_SIMPLEPATH: rc = gr_step_simplepath(r, cur); break;
        case GR_S_WHERE:
            rc = s->args[0].kind == GR_VAL_TRAV
                     ? keep_hits(r, s->args[0].u.trav, cur, 1)
                     : gr_step_where(r, s, cur);
            break;
        case GR_S_NOT: rc = keep_hits(r, s->args[0].u.trav, cur, 0); break;
        case GR_S_AS: rc = as_step(r, s, cur); break;
        case GR_S_IDENTITY: break;
        case GR_S_PROPERTY: rc = gr_step_property(r, s, cur); break;
        case GR_S_DROP: rc = gr_step_drop(r, s, cur); break;
        case GR_S_COUNT: case GR_S_SUM: case GR_S_MIN: case GR_S_MAX:
        case GR_S_MEAN: case GR_S_FOLD: case GR_S_GROUP:
        case GR_S_GROUPCOUNT:
            next = gr_stream_new(c);
            rc = next ? gr_step_reduce(r, op, cur, next) : HT_ENOMEM;
            break;
        case GR_S_REPEAT: rc = repeat_step(r, op, cur, &next); break;
        case GR_S_COALESCE: rc = coalesce_step(r, s, cur, &next); break;
        case GR_S_V: case GR_S_E:
            next = gr_stream_new(c);
            rc = next ? gr_step_source_mid(r, s, cur, next) : HT_ENOMEM;
            break;
        case GR_S_ADDV:
            next = gr_stream_new(c);
            rc = next ? gr_step_addv(r, ops, n, &i, cur, next) : HT_ENOMEM;
            break;
        case GR_S_ADDE:
            next = gr_stream_new(c);
            rc = next ? gr_step_adde(r, op, cur, next) : HT_ENOMEM;
            break;
        case GR_S_OUT: case GR_S_IN: case GR_S_BOTH:
        case GR_S_OUTE: case GR_S_INE: case GR_S_BOTHE:
            next = gr_stream_new(c);
            rc = next ? gr_step_adjacent(r, s, cur, next) : HT_ENOMEM;
            break;
        default:
            next = gr_stream_new(c);
            rc = next ? gr_step_map(r, op, cur, next) : HT_ENOMEM;
        }
        if (rc != HT_OK)
            return rc;
        if (next)
            cur = next;
        rc = gr_ctx_tick(c, (int64_t) cur->n);
        if (rc != HT_OK)
            return rc;
    }
    *out = cur;
    return HT_OK;
}

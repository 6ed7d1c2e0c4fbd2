/*
 * worker/gremlin/step_filter.c - steps that keep or drop traversers: has*,
 * is, where(P), simplePath, dedup, limit/range/skip/tail (per origin).
 */
#include "worker/gremlin/step.h"

#include <string.h>

int
gr_path_select(const gr_trv *t, const char *label, gr_value *out)
{
    for (const gr_path *p = t->path; p; p = p->prev)
        for (size_t i = 0; i < p->n_labels; i++)
            if (strcmp(p->labels[i], label) == 0) {
                *out = p->v;
                return 1;
            }
    return 0;
}

/* Whether the property (or T.id / T.label) of e passes want (NULL: just
 * exists; a value: equals; a predicate: passes). */
static int
prop_passes(gr_ctx *c, const gr_elem *e, const gr_value *key,
            const gr_value *want, int *out)
{
    gr_value have;

    if (key->kind == GR_VAL_OBJ) {
        have = key->u.obj == GR_OBJ_T_ID ? gr_int(e->id)
                                         : gr_str(e->label, strlen(e->label));
    } else {
        json_t *j = e->props ? json_object_get(e->props, key->u.str.s) : NULL;

        if (j == NULL) {
            *out = 0;
            return HT_OK;
        }
        if (gr_value_from_json(c->a, j, &have) != HT_OK)
            return gr_ctx_oom(c);
    }
    if (want == NULL)
        *out = 1;
    else if (want->kind == GR_VAL_PRED)
        *out = gr_pred_test(want->u.pred, &have);
    else
        *out = gr_value_equals(&have, want);
    return HT_OK;
}

int
gr_step_filter(gr_runner *r, const gr_step *s, gr_stream *in)
{
    gr_ctx  *c = r->c;
    int64_t *ids = NULL;
    size_t   n_ids = 0, k = 0;
    int      rc = HT_OK;

    if (s->kind == GR_S_HAS || s->kind == GR_S_HASNOT)
        rc = gr_load_stubs(c, in);
    if (rc == HT_OK && s->kind == GR_S_HASID && s->args[0].kind != GR_VAL_PRED)
        rc = gr_collect_ids(c, s->args, s->n_args, &ids, &n_ids);
    if (rc != HT_OK)
        return rc;
    for (size_t i = 0; i < in->n; i++) {
        const gr_value *v = &in->t[i].v;
        const gr_elem  *e;
        int             keep = 0;

        if (s->kind == GR_S_IS) {
            keep = s->args[0].kind == GR_VAL_PRED
                       ? gr_pred_test(s->args[0].u.pred, v)
                       : gr_value_equals(v, &s->args[0]);
            if (keep)
                in->t[k++] = in->t[i];
            continue;
        }
        rc = gr_need_elem(c, s, v, 0);
        if (rc != HT_OK)
            return rc;
        e = v->u.elem;
        switch (s->kind) {
        case GR_S_HASLABEL:
            for (size_t j = 0; j < s->n_args && !keep; j++)
                keep = strcmp(s->args[j].u.str.s, e->label) == 0;
            break;
        case GR_S_HASID:
            if (ids == NULL) {
                gr_value id = gr_int(e->id);

                keep = gr_pred_test(s->args[0].u.pred, &id);
            }
            for (size_t j = 0; j < n_ids && !keep; j++)
                keep = ids[j] == e->id;
            break;
        case GR_S_HASNOT: {
            gr_value key = s->args[0];

            rc = prop_passes(c, e, &key, NULL, &keep);
            keep = !keep;
            break;
        }
        default: { /* has(k), has(k, v|P), has(label, k, v|P) */
            const gr_value *key = &s->args[s->n_args == 3 ? 1 : 0];
            const gr_value *want = s->n_args >= 2 ? &s->args[s->n_args - 1]
                                                  : NULL;

            keep = s->n_args != 3 || strcmp(s->args[0].u.str.s, e->label) == 0;
            if (keep)
                rc = prop_passes(c, e, key, want, &keep);
        }
        }
        if (rc != HT_OK)
            return rc;
        if (keep)
            in->t[k++] = in->t[i];
    }
    in->n = k;
    return HT_OK;
}

int
gr_step_range(gr_runner *r, const gr_step *s, gr_stream *in)
{
    gr_ctx  *c = r->c;
    size_t   no = r->n_origins ? r->n_origins : 1, k = 0;
    int64_t *seen = ht_arena_calloc(c->a, no * sizeof(*seen));
    int64_t *total = NULL, lo = 0, hi = -1;

    if (seen == NULL)
        return gr_ctx_oom(c);
    switch (s->kind) {
    case GR_S_LIMIT: hi = s->args[0].u.i; break;
    case GR_S_RANGE: lo = s->args[0].u.i; hi = s->args[1].u.i; break;
    case GR_S_SKIP: lo = s->args[0].u.i; break;
    default: /* tail: the last n of each origin */
        total = ht_arena_calloc(c->a, no * sizeof(*total));
        if (total == NULL)
            return gr_ctx_oom(c);
        for (size_t i = 0; i < in->n; i++)
            total[in->t[i].origin % no]++;
        break;
    }
    for (size_t i = 0; i < in->n; i++) {
        size_t  o = in->t[i].origin % no;
        int64_t at = seen[o]++;
        int     keep;

        if (total) {
            int64_t want = s->n_args ? s->args[0].u.i : 1;

            keep = at >= total[o] - want;
        } else {
            keep = at >= lo && (hi < 0 || at < hi);
        }
        if (keep)
            in->t[k++] = in->t[i];
    }
    in->n = k;
    return HT_OK;
}

int
gr_step_simplepath(gr_runner *r, gr_stream *in)
{
    size_t k = 0;

    (void) r;
    for (size_t i = 0; i < in->n; i++) {
        int simple = 1;

        for (const gr_path *p = in->t[i].path; p && simple; p = p->prev)
            for (const gr_path *q = p->prev; q && simple; q = q->prev)
                simple = !gr_value_equals(&p->v, &q->v);
        if (simple)
            in->t[k++] = in->t[i];
    }
    in->n = k;
    return HT_OK;
}

/* where(P) and where('a', P): P's operand names a path label. */
int
gr_step_where(gr_runner *r, const gr_step *s, gr_stream *in)
{
    const gr_pred *p = s->args[s->n_args - 1].u.pred;
    size_t         k = 0;

    (void) r;
    for (size_t i = 0; i < in->n; i++) {
        gr_value left = in->t[i].v, right;
        gr_pred  q = *p;
        int      keep = 1;

        if (s->n_args == 2)
            keep = gr_path_select(&in->t[i], s->args[0].u.str.s, &left);
        if (keep && p->a.kind == GR_VAL_STRING && p->vals == NULL) {
            keep = gr_path_select(&in->t[i], p->a.u.str.s, &right);
            q.a = right;
        }
        if (keep)
            keep = gr_pred_test(&q, &left);
        if (keep)
            in->t[k++] = in->t[i];
    }
    in->n = k;
    return HT_OK;
}

int
gr_step_dedup(gr_runner *r, const gr_op *op, gr_stream *in)
{
    gr_ctx   *c = r->c;
    gr_value *vals = ht_arena_alloc(c->a, (in->n ? in->n : 1) * sizeof(*vals));
    gr_value *keys;
    char     *found;
    gr_vindex ix;
    size_t    k = 0;
    int       rc;

    if (vals == NULL)
        return gr_ctx_oom(c);
    for (size_t i = 0; i < in->n; i++)
        vals[i] = in->t[i].v;
    rc = gr_project(r, op->n_by ? op->by[0] : NULL, vals, in->n, &keys,
                    &found);
    if (rc != HT_OK)
        return rc;
    memset(&ix, 0, sizeof(ix));
    for (size_t i = 0; i < in->n; i++) {
        gr_value key = found[i] ? keys[i] : gr_null();
        size_t   at;
        int      added;

        if (r->n_origins > 1) { /* dedup per origin: key [origin, value] */
            gr_list *pair = gr_list_new(c->a, 2);

            if (pair == NULL)
                return gr_ctx_oom(c);
            pair->items[0] = gr_int((int64_t) in->t[i].origin);
            pair->items[1] = key;
            pair->n = 2;
            key.kind = GR_VAL_LIST;
            key.u.list = pair;
        }
        if (gr_vindex_put(c->a, &ix, &key, &at, &added) != HT_OK)
            return gr_ctx_oom(c);
        if (added)
            in->t[k++] = in->t[i];
    }
    in->n = k;
    return HT_OK;
}

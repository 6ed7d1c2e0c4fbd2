/*
 * worker/gremlin/step_map.c - steps that map each traverser to values:
 * values, valueMap, elementMap, properties, id, label, outV/inV/otherV/
 * bothV, constant, unfold, path and select.
 *
 * Maps are script maps (gr_map), so valueMap()['name'] works in a script
 * and the result writer prints them as JSON objects.  A path is the map
 * {"labels": [[...], ...], "objects": [...]}, as HugeGraph prints one.
 */
#include "worker/gremlin/step.h"

#include <string.h>

static int
put(gr_ctx *c, gr_map *m, const char *key, gr_value v)
{
    if (gr_map_put(c->a, m, gr_str(key, strlen(key)), v) != HT_OK)
        return gr_ctx_oom(c);
    return HT_OK;
}

static int
wanted(const gr_step *s, size_t from, const char *key)
{
    if (s->n_args <= from)
        return 1;
    for (size_t k = from; k < s->n_args; k++)
        if (s->args[k].kind == GR_VAL_STRING &&
            strcmp(s->args[k].u.str.s, key) == 0)
            return 1;
    return 0;
}

static int
end_stub(gr_ctx *c, int64_t id, const char *label, gr_value *out)
{
    gr_elem *v = ht_arena_calloc(c->a, sizeof(*v));

    if (v == NULL)
        return gr_ctx_oom(c);
    v->kind = GR_ELEM_VERTEX;
    v->id = id;
    v->label = label;
    *out = gr_elem_value(v);
    return HT_OK;
}

static int
id_label_map(gr_ctx *c, int64_t id, const char *label, gr_value *out)
{
    gr_map *m = gr_map_new(c->a);
    int     rc;

    if (m == NULL)
        return gr_ctx_oom(c);
    rc = put(c, m, "id", gr_int(id));
    if (rc == HT_OK)
        rc = put(c, m, "label", gr_str(label, strlen(label)));
    out->kind = GR_VAL_MAP;
    out->u.map = m;
    return rc;
}

/* valueMap, elementMap, properties, values of one element. */
static int
props_step(gr_runner *r, const gr_step *s, const gr_trv *t, gr_stream *out)
{
    gr_ctx        *c = r->c;
    const gr_elem *e = t->v.u.elem;
    gr_map        *m = NULL;
    const char    *key;
    json_t        *j;
    size_t         from = 0;
    int            rc = HT_OK;

    if (s->kind == GR_S_VALUEMAP || s->kind == GR_S_ELEMENTMAP) {
        int tokens = s->kind == GR_S_ELEMENTMAP;

        if (s->n_args && s->args[0].kind == GR_VAL_BOOL) {
            tokens = s->args[0].u.b;
            from = 1;
        }
        m = gr_map_new(c->a);
        if (m == NULL)
            return gr_ctx_oom(c);
        if (tokens) {
            rc = put(c, m, "id", gr_int(e->id));
            if (rc == HT_OK)
                rc = put(c, m, "label", gr_str(e->label, strlen(e->label)));
        }
        if (rc == HT_OK && s->kind == GR_S_ELEMENTMAP &&
            e->kind == GR_ELEM_EDGE) {
            gr_value in, outv;

            rc = id_label_map(c, e->in_v, e->in_label, &in);
            if (rc == HT_OK)
                rc = id_label_map(c, e->out_v, e->out_label, &outv);
            if (rc == HT_OK)
                rc = put(c, m, "IN", in);
            if (rc == HT_OK)
                rc = put(c, m, "OUT", outv);
        }
        if (rc != HT_OK)
            return rc;
    }
    if (e->props)
        json_object_foreach(e->props, key, j) {
            gr_value v;

            if (!wanted(s, from, key))
                continue;
            if (gr_value_from_json(c->a, j, &v) != HT_OK)
                return gr_ctx_oom(c);
            if (s->kind == GR_S_VALUES) {
                rc = gr_trv_move(r, out, t, v);
            } else if (s->kind == GR_S_PROPERTIES) {
                gr_map  *p = gr_map_new(c->a);
                gr_value pv;

                if (p == NULL)
                    return gr_ctx_oom(c);
                rc = put(c, p, "key", gr_str(key, strlen(key)));
                if (rc == HT_OK)
                    rc = put(c, p, "value", v);
                pv.kind = GR_VAL_MAP;
                pv.u.map = p;
                if (rc == HT_OK)
                    rc = gr_trv_move(r, out, t, pv);
            } else if (s->kind == GR_S_VALUEMAP && e->kind == GR_ELEM_VERTEX) {
                gr_list *l = gr_list_new(c->a, 1);
                gr_value lv;

                if (l == NULL)
                    return gr_ctx_oom(c);
                l->items[0] = v;
                l->n = 1;
                lv.kind = GR_VAL_LIST;
                lv.u.list = l;
                rc = put(c, m, key, lv);
            } else {
                rc = put(c, m, key, v);
            }
            if (rc != HT_OK)
                return rc;
        }
    if (m != NULL) {
        gr_value mv;

        mv.kind = GR_VAL_MAP;
        mv.u.map = m;
        rc = gr_trv_move(r, out, t, mv);
    }
    return rc;
}

static int
path_step(gr_runner *r, const gr_op *op, gr_stream *in, gr_stream *out)
{
    gr_ctx *c = r->c;
    int     rc;

    for (size_t i = 0; i < in->n; i++) {
        gr_list *labels, *objs;
        gr_map  *m = gr_map_new(c->a);
        gr_value lv, ov, mv;
        size_t   n = 0, k;

        for (const gr_path *p = in->t[i].path; p; p = p->prev)
            n++;
        labels = gr_list_new(c->a, n);
        objs = gr_list_new(c->a, n);
        if (m == NULL || labels == NULL || objs == NULL)
            return gr_ctx_oom(c);
        labels->n = objs->n = n;
        k = n;
        for (const gr_path *p = in->t[i].path; p; p = p->prev) {
            gr_list *ls = gr_list_new(c->a, p->n_labels);

            if (ls == NULL)
                return gr_ctx_oom(c);
            for (size_t j = 0; j < p->n_labels; j++)
                ls->items[j] = gr_str(p->labels[j], strlen(p->labels[j]));
            ls->n = p->n_labels;
            k--;
            labels->items[k].kind = GR_VAL_LIST;
            labels->items[k].u.list = ls;
            objs->items[k] = p->v;
        }
        rc = gr_load_values(c, objs->items, objs->n);
        for (size_t b = 0; rc == HT_OK && b < op->n_by; b++) {
            /* by() modulators apply round robin over the objects */
            size_t    cnt = 0;
            gr_value *sel, *proj;
            char     *found;

            sel = ht_arena_alloc(c->a, (n ? n : 1) * sizeof(*sel));
            if (sel == NULL)
                return gr_ctx_oom(c);
            for (size_t j = b; j < n; j += op->n_by)
                sel[cnt++] = objs->items[j];
            rc = gr_project(r, op->by[b], sel, cnt, &proj, &found);
            cnt = 0;
            for (size_t j = b; rc == HT_OK && j < n; j += op->n_by, cnt++)
                if (found[cnt])
                    objs->items[j] = proj[cnt];
        }
        if (rc != HT_OK)
            return rc;
        lv.kind = GR_VAL_LIST;
        lv.u.list = labels;
        ov.kind = GR_VAL_LIST;
        ov.u.list = objs;
        rc = put(c, m, "labels", lv);
        if (rc == HT_OK)
            rc = put(c, m, "objects", ov);
        mv.kind = GR_VAL_MAP;
        mv.u.map = m;
        if (rc == HT_OK)
            rc = gr_trv_move(r, out, &in->t[i], mv);
        if (rc != HT_OK)
            return rc;
    }
    return HT_OK;
}

static int
select_step(gr_runner *r, const gr_op *op, gr_stream *in, gr_stream *out)
{
    gr_ctx        *c = r->c;
    const gr_step *s = op->s;
    int            rc;

    for (size_t i = 0; i < in->n; i++) {
        gr_value *vals = ht_arena_alloc(c->a, s->n_args * sizeof(*vals));
        int       all = 1;

        if (vals == NULL)
            return gr_ctx_oom(c);
        for (size_t k = 0; k < s->n_args && all; k++) {
            const gr_value *cur = &in->t[i].v;
            gr_value       *mv;

            if (gr_path_select(&in->t[i], s->args[k].u.str.s, &vals[k]))
                continue;
            mv = cur->kind == GR_VAL_MAP ? gr_map_get(cur->u.map, s->args[k])
                                         : NULL;
            if (mv)
                vals[k] = *mv;
            else
                all = 0;
        }
        if (!all)
            continue;
        for (size_t k = 0; k < s->n_args && op->n_by; k++) {
            gr_value *proj;
            char     *found;

            rc = gr_project(r, op->by[k % op->n_by], &vals[k], 1, &proj,
                            &found);
            if (rc != HT_OK)
                return rc;
            if (!found[0]) {
                all = 0;
                break;
            }
            vals[k] = proj[0];
        }
        if (!all)
            continue;
        if (s->n_args == 1) {
            rc = gr_trv_move(r, out, &in->t[i], vals[0]);
        } else {
            gr_map  *m = gr_map_new(c->a);
            gr_value mv;

            if (m == NULL)
                return gr_ctx_oom(c);
            for (size_t k = 0; k < s->n_args; k++)
                if (gr_map_put(c->a, m, s->args[k], vals[k]) != HT_OK)
                    return gr_ctx_oom(c);
            mv.kind = GR_VAL_MAP;
            mv.u.map = m;
            rc = gr_trv_move(r, out, &in->t[i], mv);
        }
        if (rc != HT_OK)
            return rc;
    }
    return HT_OK;
}

static int
unfold_one(gr_runner *r, const gr_trv *t, gr_stream *out)
{
    gr_ctx         *c = r->c;
    const gr_value *v = &t->v;
    int             rc = HT_OK;

    switch (v->kind) {
    case GR_VAL_LIST:
        for (size_t i = 0; i < v->u.list->n && rc == HT_OK; i++)
            rc = gr_trv_move(r, out, t, v->u.list->items[i]);
        return rc;
    case GR_VAL_RANGE:
        for (int64_t i = 0; i < v->u.range.count && rc == HT_OK; i++)
            rc = gr_trv_move(r, out, t,
                             gr_int(v->u.range.from + i * v->u.range.step));
        return rc;
    case GR_VAL_MAP: /* each entry as a one-key map */
        for (size_t i = 0; i < v->u.map->n && rc == HT_OK; i++) {
            gr_map  *m = gr_map_new(c->a);
            gr_value mv;

            if (m == NULL ||
                gr_map_put(c->a, m, v->u.map->keys[i], v->u.map->vals[i]) !=
                    HT_OK)
                return gr_ctx_oom(c);
            mv.kind = GR_VAL_MAP;
            mv.u.map = m;
            rc = gr_trv_move(r, out, t, mv);
        }
        return rc;
    default: return gr_trv_move(r, out, t, *v);
    }
}

int
gr_step_map(gr_runner *r, const gr_op *op, gr_stream *in, gr_stream *out)
{
    gr_ctx        *c = r->c;
    const gr_step *s = op->s;
    int            rc = HT_OK;

    switch (s->kind) {
    case GR_S_PATH: return path_step(r, op, in, out);
    case GR_S_SELECT: return select_step(r, op, in, out);
    case GR_S_VALUES: case GR_S_VALUEMAP: case GR_S_ELEMENTMAP:
    case GR_S_PROPERTIES:
        rc = gr_load_stubs(c, in);
        break;
    case GR_S_CONSTANT: case GR_S_UNFOLD: case GR_S_ID: case GR_S_LABEL:
    case GR_S_OUTV: case GR_S_INV: case GR_S_OTHERV: case GR_S_BOTHV:
        break;
    default:
        return gr_ctx_throw(c, HT_EINVAL, "UnsupportedSyntax",
                            "line %d, column %d: step '%s' is not supported "
                            "here", s->line, s->col, gr_step_names[s->kind]);
    }
    for (size_t i = 0; rc == HT_OK && i < in->n; i++) {
        const gr_trv *t = &in->t[i];
        gr_elem      *e;
        gr_value      v;

        if (s->kind == GR_S_CONSTANT) {
            rc = gr_trv_move(r, out, t, s->args[0]);
            continue;
        }
        if (s->kind == GR_S_UNFOLD) {
            rc = unfold_one(r, t, out);
            continue;
        }
        rc = gr_need_elem(c, s, &t->v, 0);
        if (rc != HT_OK)
            return rc;
        e = t->v.u.elem;
        switch (s->kind) {
        case GR_S_ID: rc = gr_trv_move(r, out, t, gr_int(e->id)); break;
        case GR_S_LABEL:
            rc = gr_trv_move(r, out, t, gr_str(e->label, strlen(e->label)));
            break;
        case GR_S_OUTV: case GR_S_INV: case GR_S_OTHERV: case GR_S_BOTHV:
            if (e->kind != GR_ELEM_EDGE)
                return gr_step_error(c, s, "needs edges, got Vertex");
            if (s->kind == GR_S_OTHERV && t->from_v == 0)
                return gr_step_error(c, s, "needs an edge reached from a "
                                           "vertex");
            if (s->kind == GR_S_OUTV || s->kind == GR_S_BOTHV ||
                (s->kind == GR_S_OTHERV && t->from_v == e->in_v)) {
                rc = end_stub(c, e->out_v, e->out_label, &v);
                if (rc == HT_OK)
                    rc = gr_trv_move(r, out, t, v);
            }
            if (rc == HT_OK &&
                (s->kind == GR_S_INV || s->kind == GR_S_BOTHV ||
                 (s->kind == GR_S_OTHERV && t->from_v != e->in_v))) {
                rc = end_stub(c, e->in_v, e->in_label, &v);
                if (rc == HT_OK)
                    rc = gr_trv_move(r, out, t, v);
            }
            break;
        default: rc = props_step(r, s, t, out);
        }
    }
    return rc;
}

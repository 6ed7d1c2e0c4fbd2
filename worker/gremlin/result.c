/*
 * worker/gremlin/result.c - the program's value as task_result JSON text,
 * in the shape HugeGraph writes it (see gremlin-subset.md "Results").
 *
 * A traversal or any collection becomes an array; null becomes [] (what
 * HugeGraph stores for a script ending in a loop); a plain value stays
 * itself.  The two result limits are enforced here: the number of items
 * in the top-level array, and the size of the text, which is written
 * through a callback that stops at the limit instead of building an
 * unbounded string first.
 */
#include "worker/gremlin/eval.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "worker/gremlin/trav.h"

#define DEFAULT_MAX_ITEMS 800000
#define DEFAULT_MAX_BYTES (16u * 1024 * 1024)

/* Compact, key order as inserted, decimals with 15 significant digits (so
 * 0.1 + 0.2 reads 0.3, as Groovy's BigDecimal prints it). */
#define DUMP_FLAGS                                                          \
    (JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER |                 \
     JSON_REAL_PRECISION(15))

static int to_json(gr_ctx *c, const gr_value *v, int depth, size_t *left,
                   json_t **out);

static int
elem_json(const gr_elem *e, json_t **out)
{
    json_t *o = json_object();
    json_t *props = e->props ? json_incref(e->props) : json_object();
    int     bad = o == NULL || props == NULL;

    if (!bad && e->kind == GR_ELEM_VERTEX)
        bad = json_object_set_new(o, "id", json_integer(e->id)) ||
              json_object_set_new(o, "label", json_string(e->label)) ||
              json_object_set_new(o, "type", json_string("vertex"));
    else if (!bad)
        bad = json_object_set_new(o, "id", json_integer(e->id)) ||
              json_object_set_new(o, "label", json_string(e->label)) ||
              json_object_set_new(o, "type", json_string("edge")) ||
              json_object_set_new(o, "outV", json_integer(e->out_v)) ||
              json_object_set_new(o, "outVLabel", json_string(e->out_label)) ||
              json_object_set_new(o, "inV", json_integer(e->in_v)) ||
              json_object_set_new(o, "inVLabel", json_string(e->in_label));
    if (!bad) {
        bad = json_object_set_new(o, "properties", props) != 0;
        props = NULL; /* set_new took it, even on failure */
    }
    json_decref(props);
    if (bad) {
        json_decref(o);
        return HT_ENOMEM;
    }
    *out = o;
    return HT_OK;
}

static int
list_json(gr_ctx *c, const gr_value *items, size_t n, int depth, size_t *left,
          json_t **out)
{
    json_t *a = json_array();
    int     rc;

    if (a == NULL)
        return gr_ctx_oom(c);
    for (size_t i = 0; i < n; i++) {
        json_t *j;

        rc = to_json(c, &items[i], depth + 1, left, &j);
        if (rc != HT_OK) {
            json_decref(a);
            return rc;
        }
        if (json_array_append_new(a, j) != 0) {
            json_decref(a);
            return gr_ctx_oom(c);
        }
    }
    *out = a;
    return HT_OK;
}

static int
too_many(gr_ctx *c)
{
    return gr_ctx_fatal(c, HT_ELIMIT, "LimitExceedException",
                        "result has more items, nested ones included, than "
                        "the limit of max_result_items");
}

static int
to_json(gr_ctx *c, const gr_value *v, int depth, size_t *left, json_t **out)
{
    json_t     *j = NULL;
    const char *s;
    size_t      len;
    int         rc;

    if (depth > GR_MAX_DEPTH)
        return gr_ctx_fatal(c, HT_ELIMIT, "LimitExceedException",
                            "result nested deeper than %d levels",
                            GR_MAX_DEPTH);
    /* Every value counts against max_result_items, nested ones too, so a
     * list of huge ranges cannot build a huge JSON tree first. */
    if (v->kind == GR_VAL_RANGE) {
        if ((uint64_t) v->u.range.count >= *left)
            return too_many(c);
        *left -= (size_t) v->u.range.count;
    }
    if (*left == 0)
        return too_many(c);
    (*left)--;
    switch (v->kind) {
    case GR_VAL_NULL: j = json_null(); break;
    case GR_VAL_BOOL: j = json_boolean(v->u.b); break;
    case GR_VAL_INT: j = json_integer(v->u.i); break;
    case GR_VAL_DOUBLE:
        j = isfinite(v->u.d) ? json_real(v->u.d) : json_null();
        break;
    case GR_VAL_STRING: j = json_stringn(v->u.str.s, v->u.str.len); break;
    case GR_VAL_ELEM:
        if (elem_json(v->u.elem, &j) != HT_OK)
            return gr_ctx_oom(c);
        break;
    case GR_VAL_LIST:
        return list_json(c, v->u.list->items, v->u.list->n, depth, left, out);
    case GR_VAL_TRAV: {
        gr_list *l = NULL;

        rc = gr_trav_drain(c, v->u.trav, &l);
        if (rc != HT_OK)
            return rc;
        return list_json(c, l->items, l->n, depth, left, out);
    }
    case GR_VAL_RANGE:
        j = json_array();
        for (int64_t i = 0; j && i < v->u.range.count; i++)
            if (json_array_append_new(
                    j, json_integer(v->u.range.from + i * v->u.range.step))) {
                json_decref(j);
                j = NULL;
            }
        break;
    case GR_VAL_MAP:
        j = json_object();
        for (size_t i = 0; j && i < v->u.map->n; i++) {
            json_t *item;

            if (gr_value_to_string(c->a, &v->u.map->keys[i], &s, &len) !=
                HT_OK) {
                json_decref(j);
                return gr_ctx_oom(c);
            }
            rc = to_json(c, &v->u.map->vals[i], depth + 1, left, &item);
            if (rc != HT_OK) {
                json_decref(j);
                return rc;
            }
            if (json_object_setn_new(j, s, len, item) != 0) {
                json_decref(j);
                j = NULL;
            }
        }
        break;
    default: /* graph, g, T.label, exceptions: their text */
        if (gr_value_to_string(c->a, v, &s, &len) != HT_OK)
            return gr_ctx_oom(c);
        j = json_stringn(s, len);
    }
    if (j == NULL)
        return gr_ctx_oom(c);
    *out = j;
    return HT_OK;
}

typedef struct dump_buf {
    char  *s;
    size_t n, cap, max;
    int    over;
} dump_buf;

static int
dump_cb(const char *buf, size_t size, void *data)
{
    dump_buf *d = data;

    if (d->n + size > d->max) {
        d->over = 1;
        return -1;
    }
    if (d->n + size + 1 > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4096;
        char  *ns;

        while (cap < d->n + size + 1)
            cap *= 2;
        ns = realloc(d->s, cap);
        if (ns == NULL)
            return -1;
        d->s = ns;
        d->cap = cap;
    }
    memcpy(d->s + d->n, buf, size);
    d->n += size;
    d->s[d->n] = '\0';
    return 0;
}

int
gr_result_write(gr_ctx *c, const gr_value *v, char **out)
{
    size_t   max_items = c->job->max_result_items ? c->job->max_result_items
                                                  : DEFAULT_MAX_ITEMS;
    size_t   max_bytes = c->job->max_result_bytes ? c->job->max_result_bytes
                                                  : DEFAULT_MAX_BYTES;
    gr_value val = *v;
    json_t  *j = NULL;
    dump_buf d = {NULL, 0, 0, max_bytes, 0};
    size_t   items = 0;
    size_t   left;
    int      rc;

    if (val.kind == GR_VAL_TRAV) {
        gr_list *l = NULL;

        rc = gr_trav_drain(c, val.u.trav, &l);
        if (rc != HT_OK)
            return rc;
        val.kind = GR_VAL_LIST;
        val.u.list = l;
    }
    if (val.kind == GR_VAL_NULL) {
        *out = ht_arena_strdup(c->a, "[]");
        return *out ? HT_OK : gr_ctx_oom(c);
    }
    if (val.kind == GR_VAL_LIST)
        items = val.u.list->n;
    else if (val.kind == GR_VAL_RANGE)
        items = (size_t) val.u.range.count;
    else if (val.kind == GR_VAL_MAP)
        items = val.u.map->n;
    if (items > max_items)
        return gr_ctx_fatal(c, HT_ELIMIT, "LimitExceedException",
                            "result has %zu items, more than the limit of %zu "
                            "(max_result_items)", items, max_items);
    left = max_items + 1; /* the top-level value itself counts once */
    rc = to_json(c, &val, 0, &left, &j);
    if (rc != HT_OK)
        return rc;
    if (json_dump_callback(j, dump_cb, &d, DUMP_FLAGS) != 0) {
        json_decref(j);
        free(d.s);
        if (d.over)
            return gr_ctx_fatal(c, HT_ELIMIT, "LimitExceedException",
                                "result is larger than the limit of %zu bytes "
                                "(max_result_bytes)", max_bytes);
        return gr_ctx_oom(c);
    }
    json_decref(j);
    *out = ht_arena_strndup(c->a, d.s ? d.s : "", d.n);
    free(d.s);
    return *out ? HT_OK : gr_ctx_oom(c);
}

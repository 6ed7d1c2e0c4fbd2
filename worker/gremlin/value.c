/*
 * worker/gremlin/value.c - script values (see value.h).
 *
 * Growing arrays in an arena leave their old storage behind; doubling keeps
 * that waste under the final size, which the arena cap accounts for.
 */
#include "worker/gremlin/value.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define GR_X_VALUE_NAME(id, name) name,
static const char *const value_names[] = {GR_VALUE_LIST(GR_X_VALUE_NAME)};
#define GR_X_OBJ_NAME(id, name) name,
static const char *const obj_names[] = {GR_OBJ_LIST(GR_X_OBJ_NAME)};

gr_value
gr_null(void)
{
    gr_value v;

    memset(&v, 0, sizeof(v));
    v.kind = GR_VAL_NULL;
    return v;
}

gr_value
gr_bool(int b)
{
    gr_value v = gr_null();

    v.kind = GR_VAL_BOOL;
    v.u.b = b != 0;
    return v;
}

gr_value
gr_int(int64_t i)
{
    gr_value v = gr_null();

    v.kind = GR_VAL_INT;
    v.u.i = i;
    return v;
}

gr_value
gr_double(double d)
{
    gr_value v = gr_null();

    v.kind = GR_VAL_DOUBLE;
    v.u.d = d;
    return v;
}

gr_value
gr_obj_value(gr_obj obj)
{
    gr_value v = gr_null();

    v.kind = GR_VAL_OBJ;
    v.u.obj = obj;
    return v;
}

gr_value
gr_str(const char *s, size_t len)
{
    gr_value v = gr_null();

    v.kind = GR_VAL_STRING;
    v.u.str.s = s;
    v.u.str.len = len;
    return v;
}

int
gr_str_dup(ht_arena *a, const char *s, size_t len, gr_value *out)
{
    char *c = ht_arena_strndup(a, s, len);

    if (c == NULL)
        return HT_ENOMEM;
    *out = gr_str(c, len);
    return HT_OK;
}

gr_list *
gr_list_new(ht_arena *a, size_t cap)
{
    gr_list *l = ht_arena_calloc(a, sizeof(*l));

    if (l == NULL)
        return NULL;
    if (cap) {
        l->items = ht_arena_alloc(a, cap * sizeof(gr_value));
        if (l->items == NULL)
            return NULL;
        l->cap = cap;
    }
    return l;
}

gr_map *
gr_map_new(ht_arena *a)
{
    return ht_arena_calloc(a, sizeof(gr_map));
}

int
gr_list_push(ht_arena *a, gr_list *l, gr_value v)
{
    if (l->n == l->cap) {
        size_t    cap = l->cap ? l->cap * 2 : 8;
        gr_value *ni = ht_arena_alloc(a, cap * sizeof(*ni));

        if (ni == NULL)
            return HT_ENOMEM;
        if (l->n)
            memcpy(ni, l->items, l->n * sizeof(*ni));
        l->items = ni;
        l->cap = cap;
    }
    l->items[l->n++] = v;
    return HT_OK;
}

gr_value *
gr_map_get(const gr_map *m, gr_value key)
{
    for (size_t i = 0; i < m->n; i++)
        if (gr_value_equals(&m->keys[i], &key))
            return &m->vals[i];
    return NULL;
}

int
gr_map_put(ht_arena *a, gr_map *m, gr_value key, gr_value v)
{
    gr_value *slot = gr_map_get(m, key);

    if (slot) {
        *slot = v;
        return HT_OK;
    }
    if (m->n == m->cap) {
        size_t    cap = m->cap ? m->cap * 2 : 4;
        gr_value *nk = ht_arena_alloc(a, cap * sizeof(*nk));
        gr_value *nv = ht_arena_alloc(a, cap * sizeof(*nv));

        if (nk == NULL || nv == NULL)
            return HT_ENOMEM;
        if (m->n) {
            memcpy(nk, m->keys, m->n * sizeof(*nk));
            memcpy(nv, m->vals, m->n * sizeof(*nv));
        }
        m->keys = nk;
        m->vals = nv;
        m->cap = cap;
    }
    m->keys[m->n] = key;
    m->vals[m->n] = v;
    m->n++;
    return HT_OK;
}

const char *
gr_value_type_name(const gr_value *v)
{
    if (v->kind == GR_VAL_ELEM)
        return v->u.elem->kind == GR_ELEM_VERTEX ? "Vertex" : "Edge";
    if ((int) v->kind < 0 || v->kind >= GR_VAL_COUNT)
        return "?";
    return value_names[v->kind];
}

int
gr_value_is_number(const gr_value *v)
{
    return v->kind == GR_VAL_INT || v->kind == GR_VAL_DOUBLE;
}

double
gr_value_as_double(const gr_value *v)
{
    return v->kind == GR_VAL_INT ? (double) v->u.i : v->u.d;
}

int
gr_value_truthy(const gr_value *v)
{
    switch (v->kind) {
    case GR_VAL_NULL: return 0;
    case GR_VAL_BOOL: return v->u.b;
    case GR_VAL_INT: return v->u.i != 0;
    case GR_VAL_DOUBLE: return v->u.d != 0.0;
    case GR_VAL_STRING: return v->u.str.len != 0;
    case GR_VAL_LIST: return v->u.list->n != 0;
    case GR_VAL_MAP: return v->u.map->n != 0;
    case GR_VAL_RANGE: return v->u.range.count != 0;
    default: return 1;
    }
}

int
gr_value_equals(const gr_value *x, const gr_value *y)
{
    if (gr_value_is_number(x) && gr_value_is_number(y)) {
        if (x->kind == GR_VAL_INT && y->kind == GR_VAL_INT)
            return x->u.i == y->u.i;
        return gr_value_as_double(x) == gr_value_as_double(y);
    }
    if (x->kind == GR_VAL_RANGE || y->kind == GR_VAL_RANGE) {
        /* compare a range with a list item by item */
        const gr_value *r = x->kind == GR_VAL_RANGE ? x : y;
        const gr_value *o = r == x ? y : x;

        if (o->kind == GR_VAL_RANGE)
            return r->u.range.count == o->u.range.count &&
                   (r->u.range.count == 0 ||
                    (r->u.range.from == o->u.range.from &&
                     r->u.range.step == o->u.range.step));
        if (o->kind != GR_VAL_LIST ||
            o->u.list->n != (size_t) r->u.range.count)
            return 0;
        for (size_t i = 0; i < o->u.list->n; i++) {
            gr_value e = gr_int(r->u.range.from +
                                (int64_t) i * r->u.range.step);

            if (!gr_value_equals(&e, &o->u.list->items[i]))
                return 0;
        }
        return 1;
    }
    if (x->kind != y->kind)
        return 0;
    switch (x->kind) {
    case GR_VAL_NULL: return 1;
    case GR_VAL_BOOL: return x->u.b == y->u.b;
    case GR_VAL_STRING:
        return x->u.str.len == y->u.str.len &&
               memcmp(x->u.str.s, y->u.str.s, x->u.str.len) == 0;
    case GR_VAL_LIST:
        if (x->u.list->n != y->u.list->n)
            return 0;
        for (size_t i = 0; i < x->u.list->n; i++)
            if (!gr_value_equals(&x->u.list->items[i], &y->u.list->items[i]))
                return 0;
        return 1;
    case GR_VAL_MAP:
        if (x->u.map->n != y->u.map->n)
            return 0;
        for (size_t i = 0; i < x->u.map->n; i++) {
            gr_value *o = gr_map_get(y->u.map, x->u.map->keys[i]);

            if (o == NULL || !gr_value_equals(&x->u.map->vals[i], o))
                return 0;
        }
        return 1;
    case GR_VAL_ELEM:
        return x->u.elem->kind == y->u.elem->kind &&
               x->u.elem->id == y->u.elem->id;
    case GR_VAL_OBJ: return x->u.obj == y->u.obj;
    default: return x->u.trav == y->u.trav; /* identity */
    }
}

int
gr_value_compare(const gr_value *x, const gr_value *y, int *out)
{
    if (gr_value_is_number(x) && gr_value_is_number(y)) {
        if (x->kind == GR_VAL_INT && y->kind == GR_VAL_INT) {
            *out = (x->u.i > y->u.i) - (x->u.i < y->u.i);
        } else {
            double a = gr_value_as_double(x), b = gr_value_as_double(y);

            *out = (a > b) - (a < b);
        }
        return HT_OK;
    }
    if (x->kind == GR_VAL_STRING && y->kind == GR_VAL_STRING) {
        size_t n = x->u.str.len < y->u.str.len ? x->u.str.len : y->u.str.len;
        int    c = memcmp(x->u.str.s, y->u.str.s, n);

        if (c == 0)
            c = (x->u.str.len > y->u.str.len) - (x->u.str.len < y->u.str.len);
        *out = (c > 0) - (c < 0);
        return HT_OK;
    }
    if (x->kind == GR_VAL_BOOL && y->kind == GR_VAL_BOOL) {
        *out = x->u.b - y->u.b;
        return HT_OK;
    }
    return HT_EINVAL;
}

/* A growing text buffer in the arena. */
typedef struct tbuf {
    ht_arena *a;
    char     *s;
    size_t    n, cap;
} tbuf;

static int
tput(tbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char  *ns;

        while (cap < b->n + n + 1)
            cap *= 2;
        ns = ht_arena_alloc(b->a, cap);
        if (ns == NULL)
            return HT_ENOMEM;
        if (b->n)
            memcpy(ns, b->s, b->n);
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
    return HT_OK;
}

static int
tputs(tbuf *b, const char *s)
{
    return tput(b, s, strlen(s));
}

/* Decimals as Groovy shows them: 0.5, 3.0, 1.0E20 spelled 1e+20. */
static void
format_double(double d, char *buf, size_t size)
{
    if (isnan(d)) {
        (void) snprintf(buf, size, "NaN");
        return;
    }
    if (isinf(d)) {
        (void) snprintf(buf, size, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    (void) snprintf(buf, size, "%.15g", d);
    if (strpbrk(buf, ".e") == NULL && strlen(buf) + 2 < size)
        strcat(buf, ".0");
}

static int
to_string(tbuf *b, const gr_value *v)
{
    char num[64];
    int  rc = HT_OK;

    switch (v->kind) {
    case GR_VAL_NULL: return tputs(b, "null");
    case GR_VAL_BOOL: return tputs(b, v->u.b ? "true" : "false");
    case GR_VAL_INT:
        (void) snprintf(num, sizeof(num), "%" PRId64, v->u.i);
        return tputs(b, num);
    case GR_VAL_DOUBLE:
        format_double(v->u.d, num, sizeof(num));
        return tputs(b, num);
    case GR_VAL_STRING: return tput(b, v->u.str.s, v->u.str.len);
    case GR_VAL_LIST:
        rc = tputs(b, "[");
        for (size_t i = 0; rc == HT_OK && i < v->u.list->n; i++) {
            if (i)
                rc = tputs(b, ", ");
            if (rc == HT_OK)
                rc = to_string(b, &v->u.list->items[i]);
        }
        return rc == HT_OK ? tputs(b, "]") : rc;
    case GR_VAL_RANGE:
        rc = tputs(b, "[");
        for (int64_t i = 0; rc == HT_OK && i < v->u.range.count; i++) {
            (void) snprintf(num, sizeof(num), "%s%" PRId64, i ? ", " : "",
                            v->u.range.from + i * v->u.range.step);
            rc = tputs(b, num);
        }
        return rc == HT_OK ? tputs(b, "]") : rc;
    case GR_VAL_MAP:
        if (v->u.map->n == 0)
            return tputs(b, "[:]");
        rc = tputs(b, "[");
        for (size_t i = 0; rc == HT_OK && i < v->u.map->n; i++) {
            if (i)
                rc = tputs(b, ", ");
            if (rc == HT_OK)
                rc = to_string(b, &v->u.map->keys[i]);
            if (rc == HT_OK)
                rc = tputs(b, ":");
            if (rc == HT_OK)
                rc = to_string(b, &v->u.map->vals[i]);
        }
        return rc == HT_OK ? tputs(b, "]") : rc;
    case GR_VAL_ELEM: {
        const gr_elem *e = v->u.elem;

        if (e->kind == GR_ELEM_VERTEX)
            (void) snprintf(num, sizeof(num), "v[%" PRId64 "]", e->id);
        else
            (void) snprintf(num, sizeof(num),
                            "e[%" PRId64 "][%" PRId64 "-", e->id, e->out_v);
        rc = tputs(b, num);
        if (rc == HT_OK && e->kind == GR_ELEM_EDGE) {
            rc = tputs(b, e->label);
            (void) snprintf(num, sizeof(num), "->%" PRId64 "]", e->in_v);
            if (rc == HT_OK)
                rc = tputs(b, num);
        }
        return rc;
    }
    case GR_VAL_OBJ:
        return tputs(b, (int) v->u.obj >= 0 && v->u.obj < GR_OBJ_COUNT
                            ? obj_names[v->u.obj]
                            : "?");
    case GR_VAL_PRED: {
        const gr_pred *p = v->u.pred;

        rc = tputs(b, gr_pred_name(p->op));
        if (rc == HT_OK)
            rc = tputs(b, "(");
        if (rc == HT_OK && p->vals) {
            gr_value l;

            l.kind = GR_VAL_LIST;
            l.u.list = p->vals;
            rc = to_string(b, &l);
        } else if (rc == HT_OK) {
            rc = to_string(b, &p->a);
            if (rc == HT_OK && (p->op == GR_P_INSIDE || p->op == GR_P_OUTSIDE ||
                                p->op == GR_P_BETWEEN)) {
                rc = tputs(b, ", ");
                if (rc == HT_OK)
                    rc = to_string(b, &p->b);
            }
        }
        return rc == HT_OK ? tputs(b, ")") : rc;
    }
    case GR_VAL_EXC:
        rc = tputs(b, v->u.exc->kind);
        if (rc == HT_OK)
            rc = tputs(b, ": ");
        return rc == HT_OK ? tputs(b, v->u.exc->message) : rc;
    default:
        return tputs(b, "[Traversal]");
    }
}

int
gr_value_to_string(ht_arena *a, const gr_value *v, const char **s,
                   size_t *len)
{
    tbuf b = {a, NULL, 0, 0};
    int  rc;

    if (v->kind == GR_VAL_STRING) {
        *s = v->u.str.s;
        *len = v->u.str.len;
        return HT_OK;
    }
    rc = to_string(&b, v);
    if (rc == HT_OK && b.s == NULL)
        rc = tput(&b, "", 0);
    if (rc != HT_OK)
        return rc;
    *s = b.s;
    *len = b.n;
    return HT_OK;
}

int
gr_value_from_json(ht_arena *a, const json_t *j, gr_value *out)
{
    int rc;

    switch (json_typeof(j)) {
    case JSON_NULL: *out = gr_null(); return HT_OK;
    case JSON_TRUE: *out = gr_bool(1); return HT_OK;
    case JSON_FALSE: *out = gr_bool(0); return HT_OK;
    case JSON_INTEGER: *out = gr_int(json_integer_value(j)); return HT_OK;
    case JSON_REAL: *out = gr_double(json_real_value(j)); return HT_OK;
    case JSON_STRING:
        return gr_str_dup(a, json_string_value(j), json_string_length(j),
                          out);
    case JSON_ARRAY: {
        gr_list *l = gr_list_new(a, json_array_size(j));
        size_t   i = 0;
        json_t  *item;

        if (l == NULL)
            return HT_ENOMEM;
        json_array_foreach(j, i, item) {
            gr_value v;

            rc = gr_value_from_json(a, item, &v);
            if (rc == HT_OK)
                rc = gr_list_push(a, l, v);
            if (rc != HT_OK)
                return rc;
        }
        out->kind = GR_VAL_LIST;
        out->u.list = l;
        return HT_OK;
    }
    case JSON_OBJECT: {
        gr_map     *m = gr_map_new(a);
        const char *key;
        json_t     *item;

        if (m == NULL)
            return HT_ENOMEM;
        json_object_foreach((json_t *) j, key, item) {
            gr_value k, v;

            rc = gr_str_dup(a, key, strlen(key), &k);
            if (rc == HT_OK)
                rc = gr_value_from_json(a, item, &v);
            if (rc == HT_OK)
                rc = gr_map_put(a, m, k, v);
            if (rc != HT_OK)
                return rc;
        }
        out->kind = GR_VAL_MAP;
        out->u.map = m;
        return HT_OK;
    }
    }
    return HT_EINVAL;
}

int
gr_value_to_json_prop(const gr_value *v, json_t **out)
{
    json_t *j = NULL;

    switch (v->kind) {
    case GR_VAL_NULL: j = json_null(); break;
    case GR_VAL_BOOL: j = json_boolean(v->u.b); break;
    case GR_VAL_INT: j = json_integer(v->u.i); break;
    case GR_VAL_DOUBLE:
        if (!isfinite(v->u.d))
            return HT_EINVAL;
        j = json_real(v->u.d);
        break;
    case GR_VAL_STRING: j = json_stringn(v->u.str.s, v->u.str.len); break;
    case GR_VAL_LIST:
    case GR_VAL_RANGE: {
        size_t n = v->kind == GR_VAL_LIST ? v->u.list->n
                                          : (size_t) v->u.range.count;

        j = json_array();
        if (j == NULL)
            return HT_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            gr_value item = v->kind == GR_VAL_LIST
                                ? v->u.list->items[i]
                                : gr_int(v->u.range.from +
                                         (int64_t) i * v->u.range.step);
            json_t  *ji;
            int      rc = gr_value_to_json_prop(&item, &ji);

            if (rc != HT_OK) {
                json_decref(j);
                return rc;
            }
            if (json_array_append_new(j, ji) != 0) {
                json_decref(j);
                return HT_ENOMEM;
            }
        }
        break;
    }
    case GR_VAL_MAP:
        j = json_object();
        if (j == NULL)
            return HT_ENOMEM;
        for (size_t i = 0; i < v->u.map->n; i++) {
            const gr_value *k = &v->u.map->keys[i];
            json_t         *ji;
            int             rc;
            char            num[32];
            const char     *ks = num;

            if (k->kind == GR_VAL_STRING)
                ks = k->u.str.s;
            else if (k->kind == GR_VAL_INT)
                (void) snprintf(num, sizeof(num), "%" PRId64, k->u.i);
            else {
                json_decref(j);
                return HT_EINVAL;
            }
            rc = gr_value_to_json_prop(&v->u.map->vals[i], &ji);
            if (rc != HT_OK) {
                json_decref(j);
                return rc;
            }
            if (json_object_set_new(j, ks, ji) != 0) {
                json_decref(j);
                return HT_ENOMEM;
            }
        }
        break;
    default:
        return HT_EINVAL;
    }
    if (j == NULL)
        return HT_ENOMEM;
    *out = j;
    return HT_OK;
}

#define GR_X_PRED_NAME(id, name) name,
static const char *const pred_names[] = {GR_PRED_LIST(GR_X_PRED_NAME)};

const char *
gr_pred_name(int op)
{
    return op >= 0 && op < GR_P_COUNT ? pred_names[op] : "?";
}

/* x op y for the ordering predicates; 0 when the two do not compare. */
static int
ordered(const gr_value *x, const gr_value *y, int want_lt, int or_eq)
{
    int c;

    if (gr_value_compare(x, y, &c) != HT_OK)
        return 0;
    if (c == 0)
        return or_eq;
    return want_lt ? c < 0 : c > 0;
}

int
gr_pred_test(const gr_pred *p, const gr_value *v)
{
    switch (p->op) {
    case GR_P_EQ: return gr_value_equals(v, &p->a);
    case GR_P_NEQ: return !gr_value_equals(v, &p->a);
    case GR_P_LT: return ordered(v, &p->a, 1, 0);
    case GR_P_LTE: return ordered(v, &p->a, 1, 1);
    case GR_P_GT: return ordered(v, &p->a, 0, 0);
    case GR_P_GTE: return ordered(v, &p->a, 0, 1);
    case GR_P_INSIDE: return ordered(v, &p->a, 0, 0) && ordered(v, &p->b, 1, 0);
    case GR_P_OUTSIDE: return ordered(v, &p->a, 1, 0) || ordered(v, &p->b, 0, 0);
    case GR_P_BETWEEN: return ordered(v, &p->a, 0, 1) && ordered(v, &p->b, 1, 0);
    case GR_P_WITHIN:
    case GR_P_WITHOUT: {
        int found = 0;

        for (size_t i = 0; p->vals && i < p->vals->n && !found; i++)
            found = gr_value_equals(v, &p->vals->items[i]);
        return p->op == GR_P_WITHIN ? found : !found;
    }
    default: return 0;
    }
}

/* ---- copies ------------------------------------------------------------ */

static void
json_release(void *j)
{
    json_decref(j);
}

gr_elem *
gr_elem_copy(ht_arena *a, const gr_elem *e)
{
    gr_elem *c = ht_arena_alloc(a, sizeof(*c));

    if (c == NULL)
        return NULL;
    *c = *e;
    c->label = ht_arena_strdup(a, e->label ? e->label : "");
    if (c->label == NULL)
        return NULL;
    if (e->kind == GR_ELEM_EDGE) {
        c->out_label = ht_arena_strdup(a, e->out_label ? e->out_label : "");
        c->in_label = ht_arena_strdup(a, e->in_label ? e->in_label : "");
        if (c->out_label == NULL || c->in_label == NULL)
            return NULL;
    }
    if (e->props != NULL) {
        if (ht_arena_defer(a, json_release, json_incref(e->props)) != 0) {
            json_decref(e->props);
            return NULL;
        }
    }
    return c;
}

int
gr_value_copy(ht_arena *a, const gr_value *v, gr_value *out)
{
    int rc;

    switch (v->kind) {
    case GR_VAL_STRING: return gr_str_dup(a, v->u.str.s, v->u.str.len, out);
    case GR_VAL_LIST: {
        gr_list *l = gr_list_new(a, v->u.list->n);

        if (l == NULL)
            return HT_ENOMEM;
        for (size_t i = 0; i < v->u.list->n; i++) {
            rc = gr_value_copy(a, &v->u.list->items[i], &l->items[i]);
            if (rc != HT_OK)
                return rc;
        }
        l->n = v->u.list->n;
        out->kind = GR_VAL_LIST;
        out->u.list = l;
        return HT_OK;
    }
    case GR_VAL_MAP: {
        const gr_map *src = v->u.map;
        gr_map       *m = gr_map_new(a);
        size_t        n = src->n;

        if (m == NULL)
            return HT_ENOMEM;
        if (n) {
            m->keys = ht_arena_alloc(a, n * sizeof(*m->keys));
            m->vals = ht_arena_alloc(a, n * sizeof(*m->vals));
            if (m->keys == NULL || m->vals == NULL)
                return HT_ENOMEM;
            for (size_t i = 0; i < n; i++) {
                rc = gr_value_copy(a, &src->keys[i], &m->keys[i]);
                if (rc == HT_OK)
                    rc = gr_value_copy(a, &src->vals[i], &m->vals[i]);
                if (rc != HT_OK)
                    return rc;
            }
            m->n = m->cap = n;
        }
        out->kind = GR_VAL_MAP;
        out->u.map = m;
        return HT_OK;
    }
    case GR_VAL_ELEM: {
        gr_elem *e = gr_elem_copy(a, v->u.elem);

        if (e == NULL)
            return HT_ENOMEM;
        out->kind = GR_VAL_ELEM;
        out->u.elem = e;
        return HT_OK;
    }
    default: /* scalars inline; traversals, predicates, exceptions shared */
        *out = *v;
        return HT_OK;
    }
}

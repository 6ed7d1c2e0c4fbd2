/*
 * worker/gremlin/step.c - building traversals and the terminal steps (see
 * trav.h and step.h).
 *
 * A step is checked when it is added (argument kinds and counts), so a bad
 * step fails where it is written, before anything runs.  Running is in
 * step_run.c; the head pushed into the store and the steps that reach it
 * are in step_store.c; filters, maps and barriers in step_filter.c,
 * step_map.c and step_agg.c.
 */
#include "worker/gremlin/step.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define GR_X_STEP_NAME(id, name) name,
const char *const gr_step_names[] = {GR_STEP_LIST(GR_X_STEP_NAME)};

/* ---- small shared helpers ---------------------------------------------- */

gr_stream *
gr_stream_new(gr_ctx *c)
{
    gr_stream *s = ht_arena_calloc(c->a, sizeof(*s));

    if (s == NULL)
        (void) gr_ctx_oom(c);
    return s;
}

int
gr_stream_push(gr_ctx *c, gr_stream *s, gr_trv t)
{
    if (s->n == s->cap) {
        size_t  cap = s->cap ? s->cap * 2 : 16;
        gr_trv *nt = ht_arena_alloc(c->a, cap * sizeof(*nt));

        if (nt == NULL)
            return gr_ctx_oom(c);
        if (s->n)
            memcpy(nt, s->t, s->n * sizeof(*nt));
        s->t = nt;
        s->cap = cap;
    }
    s->t[s->n++] = t;
    return HT_OK;
}

static int
path_copy(ht_arena *a, const gr_path *p, const gr_path **out)
{
    gr_path *np;
    int      rc;

    if (p == NULL) {
        *out = NULL;
        return HT_OK;
    }
    np = ht_arena_alloc(a, sizeof(*np));
    if (np == NULL)
        return HT_ENOMEM;
    *np = *p;
    if (p->n_labels) { /* the label strings are step arguments: shared */
        np->labels = ht_arena_alloc(a, p->n_labels * sizeof(*np->labels));
        if (np->labels == NULL)
            return HT_ENOMEM;
        memcpy(np->labels, p->labels, p->n_labels * sizeof(*np->labels));
    }
    rc = gr_value_copy(a, &p->v, &np->v);
    if (rc == HT_OK)
        rc = path_copy(a, p->prev, &np->prev);
    *out = np;
    return rc;
}

int
gr_trv_copy_push(gr_ctx *c, ht_arena *a, gr_stream *s, const gr_trv *t,
                 int with_path)
{
    gr_trv nt = *t;

    if (s->n == s->cap) {
        size_t  cap = s->cap ? s->cap * 2 : 16;
        gr_trv *grown = ht_arena_alloc(a, cap * sizeof(*grown));

        if (grown == NULL)
            return gr_ctx_oom(c);
        if (s->n)
            memcpy(grown, s->t, s->n * sizeof(*grown));
        s->t = grown;
        s->cap = cap;
    }
    if (gr_value_copy(a, &t->v, &nt.v) != HT_OK)
        return gr_ctx_oom(c);
    nt.path = NULL;
    if (with_path && path_copy(a, t->path, &nt.path) != HT_OK)
        return gr_ctx_oom(c);
    s->t[s->n++] = nt;
    return HT_OK;
}

int
gr_trv_move(gr_runner *r, gr_stream *out, const gr_trv *t, gr_value v)
{
    gr_trv nt = *t;

    nt.v = v;
    nt.from_v = 0;
    if (r->paths) {
        gr_path *p = ht_arena_calloc(r->c->a, sizeof(*p));

        if (p == NULL)
            return gr_ctx_oom(r->c);
        p->prev = t->path;
        p->v = v;
        nt.path = p;
    }
    return gr_stream_push(r->c, out, nt);
}

gr_value
gr_elem_value(gr_elem *e)
{
    gr_value v = gr_null();

    v.kind = GR_VAL_ELEM;
    v.u.elem = e;
    return v;
}

int
gr_step_error(gr_ctx *c, const gr_step *s, const char *fmt, ...)
{
    char    what[400];
    va_list ap;

    va_start(ap, fmt);
    (void) vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return gr_ctx_throw(c, HT_EINVAL, "IllegalArgumentException",
                        "line %d, column %d: %s() %s", s->line, s->col,
                        gr_step_names[s->kind], what);
}

int
gr_need_elem(gr_ctx *c, const gr_step *s, const gr_value *v, int vertex_only)
{
    if (v->kind == GR_VAL_ELEM &&
        (!vertex_only || v->u.elem->kind == GR_ELEM_VERTEX))
        return HT_OK;
    return gr_step_error(c, s, "needs %s, got %s",
                         vertex_only ? "vertices" : "vertices or edges",
                         v->kind == GR_VAL_ELEM ? "Edge"
                                                : gr_value_type_name(v));
}

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

static const gr_step *
first_step(const gr_trav *t)
{
    const gr_step *s = t->last;

    while (s && s->prev)
        s = s->prev;
    return s;
}

static int
is_anon(const gr_value *v)
{
    const gr_step *s;

    if (v->kind != GR_VAL_TRAV)
        return 0;
    s = first_step(v->u.trav);
    return s != NULL && s->anon;
}

static int
is_key(const gr_value *v)
{
    return v->kind == GR_VAL_STRING ||
           (v->kind == GR_VAL_OBJ &&
            (v->u.obj == GR_OBJ_T_LABEL || v->u.obj == GR_OBJ_T_ID));
}

static int
is_plain(const gr_value *v)
{
    return v->kind != GR_VAL_ELEM && v->kind != GR_VAL_TRAV &&
           v->kind != GR_VAL_OBJ && v->kind != GR_VAL_EXC;
}

static int
is_order(const gr_value *v)
{
    return v->kind == GR_VAL_OBJ &&
           (v->u.obj == GR_OBJ_ASC || v->u.obj == GR_OBJ_DESC);
}

static int
ids_ok(const gr_value *args, size_t n, const gr_value **bad)
{
    for (size_t i = 0; i < n; i++) {
        const gr_value *v = &args[i];

        if (v->kind == GR_VAL_LIST) {
            for (size_t k = 0; k < v->u.list->n; k++) {
                const gr_value *w = &v->u.list->items[k];

                if (w->kind != GR_VAL_INT && w->kind != GR_VAL_ELEM) {
                    *bad = w;
                    return 0;
                }
            }
        } else if (v->kind != GR_VAL_INT && v->kind != GR_VAL_ELEM &&
                   v->kind != GR_VAL_RANGE) {
            *bad = v;
            return 0;
        }
    }
    return 1;
}

/* Checks the arguments of a step before it is added. */
static int
check_args(gr_ctx *c, const gr_node *at, gr_step_kind kind,
           const gr_value *args, size_t n)
{
    const char     *name = gr_step_names[kind];
    const gr_value *bad = NULL;

    switch (kind) {
    case GR_S_V:
    case GR_S_E:
        if (!ids_ok(args, n, &bad))
            return arg_error(c, at, name, "expects ids", bad);
        return HT_OK;
    case GR_S_HASID:
        if (n == 1 && args[0].kind == GR_VAL_PRED)
            return HT_OK;
        if (!ids_ok(args, n, &bad))
            return arg_error(c, at, name, "expects ids", bad);
        if (n == 0)
            return arg_error(c, at, name, "expects at least one id", NULL);
        return HT_OK;
    case GR_S_HASLABEL:
    case GR_S_AS:
    case GR_S_SELECT:
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
    case GR_S_ELEMENTMAP:
    case GR_S_PROPERTIES:
        for (size_t i = 0; i < n; i++)
            if (args[i].kind != GR_VAL_STRING)
                return arg_error(c, at, name, "expects strings", &args[i]);
        return HT_OK;
    case GR_S_VALUEMAP:
        for (size_t i = 0; i < n; i++)
            if (args[i].kind != GR_VAL_STRING &&
                !(i == 0 && args[i].kind == GR_VAL_BOOL))
                return arg_error(c, at, name, "expects strings", &args[i]);
        return HT_OK;
    case GR_S_ADDV:
        if (n > 1 || (n == 1 && args[0].kind != GR_VAL_STRING))
            return arg_error(c, at, name, "expects a label",
                             n ? &args[0] : NULL);
        return HT_OK;
    case GR_S_ADDE:
    case GR_S_HASNOT:
        if (n != 1 || args[0].kind != GR_VAL_STRING || args[0].u.str.len == 0)
            return arg_error(c, at, name,
                             kind == GR_S_ADDE ? "expects a label"
                                               : "expects a property key",
                             n ? &args[0] : NULL);
        return HT_OK;
    case GR_S_HAS:
        if (n < 1 || n > 3)
            return arg_error(c, at, name, "expects 1 to 3 arguments", NULL);
        if (n == 3 && args[0].kind != GR_VAL_STRING)
            return arg_error(c, at, name, "expects a label", &args[0]);
        if (!is_key(&args[n == 3 ? 1 : 0]))
            return arg_error(c, at, name, "expects a property key",
                             &args[n == 3 ? 1 : 0]);
        if (n >= 2 && !is_plain(&args[n - 1]))
            return arg_error(c, at, name, "expects a value or a predicate",
                             &args[n - 1]);
        return HT_OK;
    case GR_S_LIMIT:
    case GR_S_SKIP:
    case GR_S_TIMES:
        if (n != 1 || args[0].kind != GR_VAL_INT)
            return arg_error(c, at, name, "expects one integer",
                             n ? &args[0] : NULL);
        return HT_OK;
    case GR_S_TAIL:
        if (n > 1 || (n == 1 && args[0].kind != GR_VAL_INT))
            return arg_error(c, at, name, "expects one integer", &args[0]);
        return HT_OK;
    case GR_S_RANGE:
        if (n != 2 || args[0].kind != GR_VAL_INT || args[1].kind != GR_VAL_INT)
            return arg_error(c, at, name, "expects two integers",
                             n ? &args[n > 1 && args[0].kind == GR_VAL_INT]
                               : NULL);
        if (args[0].u.i < 0 || (args[1].u.i >= 0 && args[1].u.i < args[0].u.i))
            return gr_ctx_throw(c, HT_EINVAL, "IllegalArgumentException",
                                "line %d, column %d: range() needs 0 <= low "
                                "<= high (or high -1), got %" PRId64
                                ", %" PRId64, at->line, at->col, args[0].u.i,
                                args[1].u.i);
        return HT_OK;
    case GR_S_BY:
        if (n > 2)
            return arg_error(c, at, name, "expects at most 2 arguments", NULL);
        if (n >= 1 && !is_key(&args[0]) && !is_anon(&args[0]) &&
            !is_order(&args[0]))
            return arg_error(c, at, name,
                             "expects a key, a traversal or an order",
                             &args[0]);
        if (n == 2 && (is_order(&args[0]) || !is_order(&args[1])))
            return arg_error(c, at, name, "expects an order second",
                             &args[1]);
        return HT_OK;
    case GR_S_WHERE:
        if (n == 1 && (is_anon(&args[0]) || args[0].kind == GR_VAL_PRED))
            return HT_OK;
        if (n == 2 && args[0].kind == GR_VAL_STRING &&
            args[1].kind == GR_VAL_PRED)
            return HT_OK;
        return arg_error(c, at, name, "expects a traversal or a predicate",
                         n ? &args[0] : NULL);
    case GR_S_NOT:
    case GR_S_REPEAT:
    case GR_S_UNTIL:
        if (n != 1 || !is_anon(&args[0]))
            return arg_error(c, at, name, "expects an anonymous traversal",
                             n ? &args[0] : NULL);
        return HT_OK;
    case GR_S_EMIT:
        if (n > 1 || (n == 1 && !is_anon(&args[0])))
            return arg_error(c, at, name, "expects an anonymous traversal",
                             &args[0]);
        return HT_OK;
    case GR_S_COALESCE:
        if (n == 0)
            return arg_error(c, at, name, "expects traversals", NULL);
        for (size_t i = 0; i < n; i++)
            if (!is_anon(&args[i]))
                return arg_error(c, at, name, "expects anonymous traversals",
                                 &args[i]);
        return HT_OK;
    case GR_S_IS:
        if (n != 1 || !is_plain(&args[0]))
            return arg_error(c, at, name, "expects a value or a predicate",
                             n ? &args[0] : NULL);
        return HT_OK;
    case GR_S_CONSTANT:
        if (n != 1 || args[0].kind == GR_VAL_TRAV)
            return arg_error(c, at, name, "expects a value",
                             n ? &args[0] : NULL);
        return HT_OK;
    case GR_S_PROPERTY:
        if (n != 2 || args[0].kind != GR_VAL_STRING || args[0].u.str.len == 0)
            return arg_error(c, at, name, "expects a key and a value",
                             n ? &args[0] : NULL);
        if (!is_plain(&args[1]) || args[1].kind == GR_VAL_PRED ||
            args[1].kind == GR_VAL_NULL)
            return arg_error(c, at, name, "expects a property value",
                             &args[1]);
        return HT_OK;
    case GR_S_FROM:
    case GR_S_TO:
        if (n == 1 && (args[0].kind == GR_VAL_STRING || is_anon(&args[0]) ||
                       (args[0].kind == GR_VAL_ELEM &&
                        args[0].u.elem->kind == GR_ELEM_VERTEX)))
            return HT_OK;
        return arg_error(c, at, name, "expects a vertex, a label or a "
                         "traversal", n ? &args[0] : NULL);
    default:
        if (n != 0)
            return arg_error(c, at, name, "takes no arguments", &args[0]);
        return HT_OK;
    }
}

static int
needs_paths(gr_step_kind kind, const gr_value *args, size_t n)
{
    if (kind == GR_S_PATH || kind == GR_S_SIMPLEPATH || kind == GR_S_AS ||
        kind == GR_S_SELECT)
        return 1;
    for (size_t i = 0; i < n; i++) {
        if (args[i].kind == GR_VAL_TRAV && args[i].u.trav->last &&
            args[i].u.trav->last->paths)
            return 1;
        if ((kind == GR_S_WHERE || kind == GR_S_FROM || kind == GR_S_TO) &&
            (args[i].kind == GR_VAL_STRING ||
             (args[i].kind == GR_VAL_PRED &&
              args[i].u.pred->a.kind == GR_VAL_STRING)))
            return 1;
    }
    return 0;
}

static int
new_trav(gr_ctx *c, const gr_node *at, const gr_step *prev, gr_step_kind kind,
         int anon, const gr_value *args, size_t n, gr_value *out)
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
    s->anon = anon;
    s->paths = (prev && prev->paths) || needs_paths(kind, args, n);
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
    return new_trav(c, at, NULL, kind, 0, args, n, out);
}

static int
lookup_step(const char *name, gr_step_kind *out)
{
    for (int i = 0; i < GR_STEP_COUNT; i++)
        if (strcmp(gr_step_names[i], name) == 0) {
            *out = (gr_step_kind) i;
            return 1;
        }
    return 0;
}

int
gr_trav_anon(gr_ctx *c, const gr_node *at, const char *name,
             const gr_value *args, size_t n, gr_value *out, int *handled)
{
    gr_step_kind kind;

    *handled = lookup_step(name, &kind);
    if (!*handled)
        return HT_OK;
    return new_trav(c, at, NULL, kind, 1, args, n, out);
}

#define GR_X_PRED_STR(id, name) name,
static const char *const pred_names[] = {GR_PRED_LIST(GR_X_PRED_STR)};

int
gr_pred_make(gr_ctx *c, const gr_node *at, const char *name,
             const gr_value *args, size_t n, gr_value *out, int *handled)
{
    gr_pred *p;
    int      op = -1;

    for (int i = 0; i < GR_P_COUNT; i++)
        if (strcmp(pred_names[i], name) == 0)
            op = i;
    *handled = op >= 0;
    if (op < 0)
        return HT_OK;
    p = ht_arena_calloc(c->a, sizeof(*p));
    if (p == NULL)
        return gr_ctx_oom(c);
    p->op = op;
    for (size_t i = 0; i < n; i++)
        if (!is_plain(&args[i]) || args[i].kind == GR_VAL_PRED)
            return arg_error(c, at, name, "expects values", &args[i]);
    if (op == GR_P_WITHIN || op == GR_P_WITHOUT) {
        if (n == 1 && args[0].kind == GR_VAL_LIST) {
            p->vals = args[0].u.list;
        } else {
            p->vals = gr_list_new(c->a, n);
            if (p->vals == NULL)
                return gr_ctx_oom(c);
            for (size_t i = 0; i < n; i++)
                if (gr_list_push(c->a, p->vals, args[i]) != HT_OK)
                    return gr_ctx_oom(c);
        }
    } else if (op == GR_P_INSIDE || op == GR_P_OUTSIDE || op == GR_P_BETWEEN) {
        if (n != 2)
            return arg_error(c, at, name, "expects two values",
                             n ? &args[0] : NULL);
        p->a = args[0];
        p->b = args[1];
    } else {
        if (n != 1)
            return arg_error(c, at, name, "expects one value",
                             n ? &args[0] : NULL);
        p->a = args[0];
    }
    out->kind = GR_VAL_PRED;
    out->u.pred = p;
    return HT_OK;
}

/* ---- terminals --------------------------------------------------------- */

int
gr_trav_drain(gr_ctx *c, gr_trav *t, gr_list **out)
{
    gr_list *l = NULL;
    int      rc;

    if (t->res == NULL && (rc = gr_trav_run(c, t, 1)) != HT_OK)
        return rc;
    l = gr_list_new(c->a, 0);
    if (l == NULL)
        return gr_ctx_oom(c);
    if (t->pos < t->res->n) { /* an empty list keeps items NULL */
        l->items = t->res->items + t->pos;
        l->n = l->cap = t->res->n - t->pos;
    }
    t->pos = t->res->n;
    *out = l;
    return HT_OK;
}

static int
terminal(gr_ctx *c, const gr_node *at, gr_trav *t, const char *name,
         const gr_value *args, size_t n, gr_value *out)
{
    int rc;

    if (n > 1 || (n == 1 && (strcmp(name, "next") != 0 ||
                             args[0].kind != GR_VAL_INT)))
        return gr_ctx_throw(c, HT_EINVAL, "IllegalArgumentException",
                            "line %d, column %d: %s() takes no arguments",
                            at->line, at->col, name);
    /* iterate() keeps nothing: its traversal streams through */
    if (t->res == NULL &&
        (rc = gr_trav_run(c, t, strcmp(name, "iterate") != 0)) != HT_OK)
        return rc;
    if (strcmp(name, "toList") == 0 || strcmp(name, "toSet") == 0) {
        gr_list *l = NULL;

        rc = gr_trav_drain(c, t, &l);
        if (rc != HT_OK)
            return rc;
        if (name[2] == 'S') { /* toSet: first occurrences, in order */
            gr_list  *set = gr_list_new(c->a, 0);
            gr_vindex ix;

            memset(&ix, 0, sizeof(ix));
            if (set == NULL)
                return gr_ctx_oom(c);
            for (size_t i = 0; i < l->n; i++) {
                size_t at_ix;
                int    added;

                if (gr_vindex_put(c->a, &ix, &l->items[i], &at_ix, &added) !=
                    HT_OK)
                    return gr_ctx_oom(c);
                if (added && gr_list_push(c->a, set, l->items[i]) != HT_OK)
                    return gr_ctx_oom(c);
            }
            l = set;
        }
        out->kind = GR_VAL_LIST;
        out->u.list = l;
    } else if (strcmp(name, "next") == 0 && n == 1) {
        gr_list *l = gr_list_new(c->a, 0);

        if (l == NULL)
            return gr_ctx_oom(c);
        while (t->pos < t->res->n && (int64_t) l->n < args[0].u.i)
            if (gr_list_push(c->a, l, t->res->items[t->pos++]) != HT_OK)
                return gr_ctx_oom(c);
        out->kind = GR_VAL_LIST;
        out->u.list = l;
    } else if (strcmp(name, "next") == 0) {
        if (t->pos >= t->res->n)
            return gr_ctx_throw(c, HT_EINVAL, "NoSuchElementException",
                                "line %d, column %d: the traversal has no "
                                "more elements", at->line, at->col);
        *out = t->res->items[t->pos++];
    } else if (strcmp(name, "tryNext") == 0) {
        /* Optional.empty becomes null; a value stands for itself */
        *out = t->pos < t->res->n ? t->res->items[t->pos++] : gr_null();
    } else if (strcmp(name, "hasNext") == 0) {
        *out = gr_bool(t->pos < t->res->n);
    } else { /* iterate */
        t->pos = t->res->n;
        out->kind = GR_VAL_TRAV;
        out->u.trav = t;
    }
    return HT_OK;
}

int
gr_trav_call(gr_ctx *c, const gr_node *at, gr_trav *t, const char *name,
             const gr_value *args, size_t n, gr_value *out)
{
    static const char *const terminals[] = {
        "toList", "toSet", "next", "hasNext", "iterate", "tryNext", NULL};
    gr_step_kind kind;

    for (int i = 0; terminals[i]; i++)
        if (strcmp(terminals[i], name) == 0)
            return terminal(c, at, t, name, args, n, out);
    if (!lookup_step(name, &kind))
        return gr_ctx_throw(c, HT_EINVAL, "UnsupportedSyntax",
                            "line %d, column %d: step '%s' is not supported",
                            at->line, at->col, name);
    return new_trav(c, at, t->last, kind, 0, args, n, out);
}

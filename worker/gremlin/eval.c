/*
 * worker/gremlin/eval.c - the tree-walking evaluator: statements,
 * expressions, Groovy's operators and the methods of the built-in objects.
 *
 * Every function returns HT_OK, a negative code with the error recorded in
 * the context, or (statements only) a positive GR_FLOW_* code.  The host is
 * asked whether to go on before every statement and every loop iteration;
 * each node evaluated counts one step against the budget.  Variables live
 * on one stack per script: a block remembers the stack height and cuts it
 * back when it ends, so loops do not allocate per iteration.  Not here:
 * traversal steps (step.c), JSON results (result.c).
 */
#include "worker/gremlin/eval.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "worker/gremlin/lex.h"
#include "worker/gremlin/trav.h"

#define MAX_ARGS 64

static int eval(gr_ctx *c, const gr_node *n, gr_value *out);
static int exec(gr_ctx *c, const gr_node *n);

/* ---- the context ------------------------------------------------------- */

static int
record(gr_ctx *c, int fatal, int code, const char *kind, const char *fmt,
       va_list ap)
{
    c->err.code = code;
    c->err.exception = kind;
    c->err.http = 0;
    (void) vsnprintf(c->err.msg, sizeof(c->err.msg), fmt, ap);
    c->fatal = fatal;
    return code;
}

int
gr_ctx_throw(gr_ctx *c, int code, const char *kind, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = record(c, 0, code, kind, fmt, ap);
    va_end(ap);
    return code;
}

int
gr_ctx_fatal(gr_ctx *c, int code, const char *kind, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = record(c, 1, code, kind, fmt, ap);
    va_end(ap);
    return code;
}

int
gr_ctx_oom(gr_ctx *c)
{
    size_t used = ht_arena_used(c->a);

    /* a batch's scratch arena (step_pipe.c) comes on top of the job's */
    if (c->job->arena != NULL && c->a != c->job->arena)
        used += ht_arena_used(c->job->arena);
    return gr_ctx_fatal(c, HT_ENOMEM, "LimitExceedException",
                        "job memory limit exceeded (%zu bytes in use)", used);
}

int
gr_ctx_store_error(gr_ctx *c, int rc, const ht_err *err)
{
    const char *msg = err->msg[0] ? err->msg : "the graph store failed";

    if (rc == HT_ECONFLICT)
        return gr_ctx_throw(c, HT_EINVAL, "IllegalArgumentException", "%s",
                            msg);
    if (rc == HT_ENOMEM)
        return gr_ctx_oom(c);
    if (rc == HT_ECANCELED) /* a store that polls for cancels itself */
        return gr_ctx_throw(c, HT_ECANCELED, "InterruptedException", "%s",
                            msg);
    return gr_ctx_fatal(c, rc, "BackendException", "%s", msg);
}

int
gr_ctx_check(gr_ctx *c)
{
    const gr_host *h = c->job->host;
    ht_err         e;
    int            rc;

    if (h == NULL || h->check == NULL)
        return HT_OK;
    ht_err_clear(&e);
    rc = h->check(h->arg, &e);
    if (rc == HT_OK)
        return HT_OK;
    if (rc == HT_ECANCELED)
        return gr_ctx_throw(c, HT_ECANCELED, "InterruptedException", "%s",
                            e.msg[0] ? e.msg : "the task was cancelled");
    return gr_ctx_fatal(c, rc,
                        rc == HT_ETIMEDOUT ? "TimeoutException"
                                           : "InterruptedException",
                        "%s", e.msg[0] ? e.msg : "the task was stopped");
}

int
gr_ctx_tick(gr_ctx *c, int64_t n)
{
    c->steps += n;
    if (c->job->max_steps > 0 && c->steps > c->job->max_steps)
        return gr_ctx_fatal(c, HT_ELIMIT, "LimitExceedException",
                            "script exceeded the step budget (max_steps=%"
                            PRId64 ")", c->job->max_steps);
    return HT_OK;
}

static void
json_release(void *j)
{
    json_decref(j);
}

int
gr_ctx_keep_json(gr_ctx *c, json_t *j)
{
    if (ht_arena_defer(c->a, json_release, j) != 0) {
        json_decref(j);
        return gr_ctx_oom(c);
    }
    return HT_OK;
}

static int
throw_at(gr_ctx *c, const gr_node *n, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A catchable error whose message starts with the node's place. */
static int
throw_at(gr_ctx *c, const gr_node *n, const char *kind, const char *fmt, ...)
{
    char    what[400];
    va_list ap;

    va_start(ap, fmt);
    (void) vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return gr_ctx_throw(c, HT_EINVAL, kind, "line %d, column %d: %s", n->line,
                        n->col, what);
}

static int
bad_arg(gr_ctx *c, const gr_node *n, const char *method, const char *what)
{
    return throw_at(c, n, "IllegalArgumentException", "%s() %s", method,
                    what);
}

/* ---- variables --------------------------------------------------------- */

static gr_var *
find_var(gr_var *vars, size_t n, const char *name)
{
    for (size_t i = n; i > 0; i--)
        if (strcmp(vars[i - 1].name, name) == 0)
            return &vars[i - 1];
    return NULL;
}

static int
grow_vars(gr_ctx *c, gr_var **vars, size_t n, size_t *cap)
{
    if (n < *cap)
        return HT_OK;
    {
        size_t  ncap = *cap ? *cap * 2 : 16;
        gr_var *nv = ht_arena_alloc(c->a, ncap * sizeof(*nv));

        if (nv == NULL)
            return gr_ctx_oom(c);
        if (n)
            memcpy(nv, *vars, n * sizeof(*nv));
        *vars = nv;
        *cap = ncap;
    }
    return HT_OK;
}

static int
declare(gr_ctx *c, const char *name, gr_value v, int type)
{
    int rc = grow_vars(c, &c->vars, c->n_vars, &c->cap_vars);

    if (rc != HT_OK)
        return rc;
    c->vars[c->n_vars].name = name;
    c->vars[c->n_vars].v = v;
    c->vars[c->n_vars].type = type;
    c->n_vars++;
    return HT_OK;
}

static int
set_global(gr_ctx *c, const char *name, gr_value v)
{
    gr_var *g = find_var(c->globals, c->n_globals, name);
    int     rc;

    if (g) {
        g->v = v;
        return HT_OK;
    }
    rc = grow_vars(c, &c->globals, c->n_globals, &c->cap_globals);
    if (rc != HT_OK)
        return rc;
    c->globals[c->n_globals].name = name;
    c->globals[c->n_globals].v = v;
    c->globals[c->n_globals].type = 0;
    c->n_globals++;
    return HT_OK;
}

/* The coercion a declared type asks for: int x = 1.9 holds 1. */
static int
type_code(const char *type)
{
    static const char *const ints[] = {"int", "long", "short", "byte",
                                       "Integer", "Long", "Short", "Byte",
                                       NULL};
    static const char *const dbls[] = {"double", "float", "Double", "Float",
                                       "BigDecimal", "Number", NULL};

    for (int i = 0; ints[i]; i++)
        if (strcmp(type, ints[i]) == 0)
            return 'i';
    for (int i = 0; dbls[i]; i++)
        if (strcmp(type, dbls[i]) == 0)
            return 'd';
    if (strcmp(type, "String") == 0)
        return 's';
    if (strcmp(type, "boolean") == 0 || strcmp(type, "Boolean") == 0)
        return 'b';
    return 0;
}

static int
coerce(gr_ctx *c, const gr_node *at, int type, gr_value *v)
{
    switch (type) {
    case 'i':
        if (v->kind == GR_VAL_DOUBLE) {
            if (!(v->u.d > -9.2e18 && v->u.d < 9.2e18))
                return throw_at(c, at, "ArithmeticException",
                                "value out of integer range");
            *v = gr_int((int64_t) v->u.d);
        } else if (v->kind != GR_VAL_INT && v->kind != GR_VAL_NULL) {
            return throw_at(c, at, "GroovyCastException",
                            "cannot cast a %s to an integer",
                            gr_value_type_name(v));
        }
        return HT_OK;
    case 'd':
        if (v->kind == GR_VAL_INT)
            *v = gr_double((double) v->u.i);
        else if (v->kind != GR_VAL_DOUBLE && v->kind != GR_VAL_NULL)
            return throw_at(c, at, "GroovyCastException",
                            "cannot cast a %s to a decimal",
                            gr_value_type_name(v));
        return HT_OK;
    case 's':
        if (v->kind != GR_VAL_NULL && v->kind != GR_VAL_STRING) {
            const char *s;
            size_t      len;

            if (gr_value_to_string(c->a, v, &s, &len) != HT_OK)
                return gr_ctx_oom(c);
            *v = gr_str(s, len);
        }
        return HT_OK;
    case 'b':
        *v = gr_bool(gr_value_truthy(v));
        return HT_OK;
    default:
        return HT_OK;
    }
}

/* ---- names ------------------------------------------------------------- */

static int
lookup(gr_ctx *c, const gr_node *n, gr_value *out)
{
    const char *name = n->str;
    gr_var     *v = find_var(c->vars, c->n_vars, name);
    static const struct {
        const char *name;
        gr_obj      obj;
    } builtins[] = {
        {"graph", GR_OBJ_GRAPH}, {"g", GR_OBJ_SOURCE},
        {"gremlinJob", GR_OBJ_JOB}, {"T", GR_OBJ_T},
        {"Thread", GR_OBJ_THREAD}, {"P", GR_OBJ_P}, {"Order", GR_OBJ_ORDER},
        {"Direction", GR_OBJ_DIRECTION}, {"__", GR_OBJ_ANON},
        {"asc", GR_OBJ_ASC}, {"desc", GR_OBJ_DESC}, {"incr", GR_OBJ_ASC},
        {"decr", GR_OBJ_DESC},
        /* Gremlin-Groovy imports T.* statically: by(label), hasId(id). */
        {"label", GR_OBJ_T_LABEL}, {"id", GR_OBJ_T_ID},
    };

    if (v == NULL)
        v = find_var(c->globals, c->n_globals, name);
    if (v) {
        *out = v->v;
        return HT_OK;
    }
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (strcmp(builtins[i].name, name) == 0) {
            *out = gr_obj_value(builtins[i].obj);
            return HT_OK;
        }
    if (c->job->graph_name && strcmp(c->job->graph_name, name) == 0) {
        *out = gr_obj_value(GR_OBJ_GRAPH);
        return HT_OK;
    }
    /* Scope.local / local: Gremlin names the interpreter does not have. */
    if (strcmp(name, "local") == 0 || strcmp(name, "Scope") == 0 ||
        strcmp(name, "global") == 0)
        return gr_ctx_fatal(c, HT_EINVAL, "UnsupportedSyntax",
                            "line %d, column %d: scope '%s' is not supported",
                            n->line, n->col, name);
    return gr_ctx_throw(c, HT_EINVAL, "MissingPropertyException",
                        "No such property: %s", name);
}

/* ---- operators --------------------------------------------------------- */

static int
concat(gr_ctx *c, const gr_value *x, const gr_value *y, gr_value *out)
{
    const char *s1, *s2;
    size_t      l1, l2;
    char       *s;

    if (gr_value_to_string(c->a, x, &s1, &l1) != HT_OK ||
        gr_value_to_string(c->a, y, &s2, &l2) != HT_OK)
        return gr_ctx_oom(c);
    s = ht_arena_alloc(c->a, l1 + l2 + 1);
    if (s == NULL)
        return gr_ctx_oom(c);
    memcpy(s, s1, l1);
    memcpy(s + l1, s2, l2);
    s[l1 + l2] = '\0';
    *out = gr_str(s, l1 + l2);
    return HT_OK;
}

/* list + x: a new list with x appended (or x's items, for a list). */
static int
list_plus(gr_ctx *c, const gr_list *l, const gr_value *y, gr_value *out)
{
    gr_list *r = gr_list_new(c->a, l->n + 1);

    if (r == NULL)
        return gr_ctx_oom(c);
    for (size_t i = 0; i < l->n; i++)
        if (gr_list_push(c->a, r, l->items[i]) != HT_OK)
            return gr_ctx_oom(c);
    if (y->kind == GR_VAL_LIST) {
        for (size_t i = 0; i < y->u.list->n; i++)
            if (gr_list_push(c->a, r, y->u.list->items[i]) != HT_OK)
                return gr_ctx_oom(c);
    } else if (gr_list_push(c->a, r, *y) != HT_OK) {
        return gr_ctx_oom(c);
    }
    out->kind = GR_VAL_LIST;
    out->u.list = r;
    return HT_OK;
}

/* Wrapping 64-bit arithmetic, as Java's long does, without C's UB. */
static int64_t
wrap_add(int64_t a, int64_t b)
{
    return (int64_t) ((uint64_t) a + (uint64_t) b);
}

static int64_t
wrap_sub(int64_t a, int64_t b)
{
    return (int64_t) ((uint64_t) a - (uint64_t) b);
}

static int64_t
wrap_mul(int64_t a, int64_t b)
{
    return (int64_t) ((uint64_t) a * (uint64_t) b);
}

static const char *
op_text(int op)
{
    return gr_token_kind_name((gr_token_kind) op);
}

static int
arith(gr_ctx *c, const gr_node *n, int op, const gr_value *x,
      const gr_value *y, gr_value *out)
{
    int cmp, rc;

    switch (op) {
    case GR_TK_EQ:
    case GR_TK_NE:
        *out = gr_bool(gr_value_equals(x, y) == (op == GR_TK_EQ));
        return HT_OK;
    case GR_TK_LT:
    case GR_TK_LE:
    case GR_TK_GT:
    case GR_TK_GE:
        if (gr_value_compare(x, y, &cmp) != HT_OK)
            return throw_at(c, n, "IllegalArgumentException",
                            "cannot compare %s with %s", gr_value_type_name(x),
                            gr_value_type_name(y));
        *out = gr_bool(op == GR_TK_LT   ? cmp < 0
                       : op == GR_TK_LE ? cmp <= 0
                       : op == GR_TK_GT ? cmp > 0
                                        : cmp >= 0);
        return HT_OK;
    case GR_TK_PLUS:
        if (x->kind == GR_VAL_STRING || y->kind == GR_VAL_STRING)
            return concat(c, x, y, out);
        if (x->kind == GR_VAL_LIST)
            return list_plus(c, x->u.list, y, out);
        break;
    default:
        break;
    }
    if (!gr_value_is_number(x) || !gr_value_is_number(y)) {
        if (op == GR_TK_STAR && x->kind == GR_VAL_STRING &&
            y->kind == GR_VAL_INT && y->u.i >= 0) {
            gr_value r = gr_str("", 0);

            for (int64_t i = 0; i < y->u.i; i++) {
                rc = concat(c, &r, x, &r);
                if (rc != HT_OK)
                    return rc;
            }
            *out = r;
            return HT_OK;
        }
        return throw_at(c, n, "IllegalArgumentException",
                        "cannot apply '%s' to %s and %s", op_text(op),
                        gr_value_type_name(x), gr_value_type_name(y));
    }
    if (x->kind == GR_VAL_INT && y->kind == GR_VAL_INT) {
        int64_t a = x->u.i, b = y->u.i;

        switch (op) {
        case GR_TK_PLUS: *out = gr_int(wrap_add(a, b)); return HT_OK;
        case GR_TK_MINUS: *out = gr_int(wrap_sub(a, b)); return HT_OK;
        case GR_TK_STAR: *out = gr_int(wrap_mul(a, b)); return HT_OK;
        case GR_TK_SLASH:
            if (b == 0)
                return gr_ctx_throw(c, HT_EINVAL, "ArithmeticException",
                                    "Division by zero");
            /* Groovy divides integers into a BigDecimal: 1/2 is 0.5 and
             * 4/2 is 2 */
            if (b == -1) {
                *out = gr_int(wrap_sub(0, a));
            } else if (a % b == 0) {
                *out = gr_int(a / b);
            } else {
                *out = gr_double((double) a / (double) b);
            }
            return HT_OK;
        case GR_TK_PERCENT:
            if (b == 0)
                return gr_ctx_throw(c, HT_EINVAL, "ArithmeticException",
                                    "Division by zero");
            *out = gr_int(b == -1 ? 0 : a % b);
            return HT_OK;
        default:
            break;
        }
    } else {
        double a = gr_value_as_double(x), b = gr_value_as_double(y);

        switch (op) {
        case GR_TK_PLUS: *out = gr_double(a + b); return HT_OK;
        case GR_TK_MINUS: *out = gr_double(a - b); return HT_OK;
        case GR_TK_STAR: *out = gr_double(a * b); return HT_OK;
        case GR_TK_SLASH:
        case GR_TK_PERCENT:
            if (b == 0.0)
                return gr_ctx_throw(c, HT_EINVAL, "ArithmeticException",
                                    "Division by zero");
            *out = gr_double(op == GR_TK_SLASH ? a / b : fmod(a, b));
            return HT_OK;
        default:
            break;
        }
    }
    return throw_at(c, n, "UnsupportedSyntax", "operator '%s' is not supported",
                    op_text(op));
}

static int
make_range(gr_ctx *c, const gr_node *n, const gr_value *x, const gr_value *y,
           gr_value *out)
{
    int64_t from, to, count, step;

    if (x->kind != GR_VAL_INT || y->kind != GR_VAL_INT)
        return throw_at(c, n, "IllegalArgumentException",
                        "ranges need integers, got %s and %s",
                        gr_value_type_name(x), gr_value_type_name(y));
    from = x->u.i;
    to = y->u.i;
    step = from <= to ? 1 : -1;
    if ((from < 0) != (to < 0) &&
        (to > INT64_MAX / 2 || to < INT64_MIN / 2 || from > INT64_MAX / 2 ||
         from < INT64_MIN / 2))
        return throw_at(c, n, "IllegalArgumentException", "range too large");
    count = (to - from) * step + 1;
    if (n->op == GR_TK_RANGE_EXCL)
        count--; /* 1..<5 stops before 5; 1..<1 is empty */
    out->kind = GR_VAL_RANGE;
    out->u.range.from = from;
    out->u.range.count = count;
    out->u.range.step = step;
    return HT_OK;
}

/* ---- assignment -------------------------------------------------------- */

static int
index_of(gr_ctx *c, const gr_node *n, const gr_value *idx, size_t len,
         int for_write, size_t *out)
{
    int64_t i;

    if (idx->kind != GR_VAL_INT)
        return throw_at(c, n, "IllegalArgumentException",
                        "an index must be an integer, got %s",
                        gr_value_type_name(idx));
    i = idx->u.i;
    if (i < 0)
        i += (int64_t) len;
    if (i < 0 || (!for_write && (uint64_t) i >= len) ||
        (for_write && i > 10000000))
        return gr_ctx_throw(c, HT_EINVAL, "IndexOutOfBoundsException",
                            "Index: %" PRId64 ", Size: %zu", idx->u.i, len);
    *out = (size_t) i;
    return HT_OK;
}

static int
assign(gr_ctx *c, const gr_node *target, gr_value v)
{
    gr_value container, key;
    int      rc;

    if (target->kind == GR_N_IDENT) {
        gr_var *var = find_var(c->vars, c->n_vars, target->str);

        if (var == NULL) /* Groovy: an undeclared name joins the binding */
            return set_global(c, target->str, v);
        rc = coerce(c, target, var->type, &v);
        if (rc == HT_OK)
            var->v = v;
        return rc;
    }
    rc = eval(c, target->a, &container);
    if (rc != HT_OK)
        return rc;
    if (target->kind == GR_N_MEMBER) {
        key = gr_str(target->str, strlen(target->str));
    } else {
        rc = eval(c, target->b, &key);
        if (rc != HT_OK)
            return rc;
    }
    if (container.kind == GR_VAL_MAP) {
        if (gr_map_put(c->a, container.u.map, key, v) != HT_OK)
            return gr_ctx_oom(c);
        return HT_OK;
    }
    if (container.kind == GR_VAL_LIST && target->kind == GR_N_INDEX) {
        gr_list *l = container.u.list;
        size_t   i = 0;

        rc = index_of(c, target, &key, l->n, 1, &i);
        if (rc != HT_OK)
            return rc;
        while (l->n <= i) /* Groovy pads with nulls */
            if (gr_list_push(c->a, l, gr_null()) != HT_OK)
                return gr_ctx_oom(c);
        l->items[i] = v;
        return HT_OK;
    }
    return throw_at(c, target, "IllegalArgumentException",
                    "cannot assign into a %s", gr_value_type_name(&container));
}

/* ---- built-in methods -------------------------------------------------- */

static int
sleep_ms(gr_ctx *c, const gr_node *n, const gr_value *args, size_t na)
{
    const gr_host *h = c->job->host;
    ht_err         e;
    int64_t        ms;
    int            rc;

    if (na != 1 || !gr_value_is_number(&args[0]))
        return bad_arg(c, n, "sleep", "expects milliseconds");
    ms = args[0].kind == GR_VAL_INT ? args[0].u.i : (int64_t) args[0].u.d;
    if (ms < 0)
        return bad_arg(c, n, "sleep", "timeout value is negative");
    if (h == NULL || h->sleep_ms == NULL) {
        struct timespec ts = {(time_t) (ms / 1000), (long) (ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) != 0)
            ; /* EINTR: sleep the rest */
        return gr_ctx_check(c);
    }
    ht_err_clear(&e);
    rc = h->sleep_ms(h->arg, ms, &e);
    if (rc == HT_OK)
        return HT_OK;
    if (rc == HT_ECANCELED)
        return gr_ctx_throw(c, HT_ECANCELED, "InterruptedException", "%s",
                            e.msg[0] ? e.msg : "sleep interrupted");
    return gr_ctx_fatal(c, rc,
                        rc == HT_ETIMEDOUT ? "TimeoutException"
                                           : "InterruptedException",
                        "%s", e.msg[0] ? e.msg : "the task was stopped");
}

static gr_value
elem_value(gr_elem *e)
{
    gr_value v = gr_null();

    v.kind = GR_VAL_ELEM;
    v.u.elem = e;
    return v;
}

/*
 * Property key/value pairs (addVertex, addEdge) into a new JSON object kept
 * by the arena; T.label and T.id go to *label / *id when those are given.
 */
static int
build_props(gr_ctx *c, const gr_node *n, const char *method,
            const gr_value *args, size_t na, const char **label, int64_t *id,
            json_t **out)
{
    json_t *props;
    int     rc;

    if (na % 2 != 0)
        return bad_arg(c, n, method, "expects key/value pairs");
    props = json_object();
    if (props == NULL)
        return gr_ctx_oom(c);
    rc = gr_ctx_keep_json(c, props);
    if (rc != HT_OK)
        return rc;
    for (size_t i = 0; i < na; i += 2) {
        const gr_value *k = &args[i], *v = &args[i + 1];
        json_t         *j;

        if (k->kind == GR_VAL_OBJ && k->u.obj == GR_OBJ_T_LABEL && label) {
            if (v->kind != GR_VAL_STRING || v->u.str.len == 0)
                return bad_arg(c, n, method, "expects a label string");
            *label = v->u.str.s;
            continue;
        }
        if (k->kind == GR_VAL_OBJ && k->u.obj == GR_OBJ_T_ID && id) {
            if (v->kind != GR_VAL_INT || v->u.i <= 0)
                return bad_arg(c, n, method, "expects a positive integer id");
            *id = v->u.i;
            continue;
        }
        if (k->kind != GR_VAL_STRING || k->u.str.len == 0)
            return bad_arg(c, n, method, "expects string property keys");
        if (v->kind == GR_VAL_NULL)
            return bad_arg(c, n, method, "got a null property value");
        rc = gr_value_to_json_prop(v, &j);
        if (rc == HT_ENOMEM)
            return gr_ctx_oom(c);
        if (rc != HT_OK)
            return throw_at(c, n, "IllegalArgumentException",
                            "a %s cannot be a property value",
                            gr_value_type_name(v));
        if (json_object_set_new(props, k->u.str.s, j) != 0)
            return gr_ctx_oom(c);
    }
    *out = props;
    return HT_OK;
}

static int
keep_elem(gr_ctx *c, const gr_elem *src, gr_value *out)
{
    gr_elem *e = ht_arena_alloc(c->a, sizeof(*e));

    if (e == NULL)
        return gr_ctx_oom(c);
    *e = *src;
    *out = elem_value(e);
    return HT_OK;
}

static int
graph_method(gr_ctx *c, const gr_node *n, gr_obj obj, const gr_value *args,
             size_t na, gr_value *out)
{
    const gr_graph_ops *ops = c->job->ops;
    const char         *m = n->str;
    ht_err              serr;
    int                 rc;

    ht_err_clear(&serr);
    if (obj == GR_OBJ_GRAPH && strcmp(m, "addVertex") == 0) {
        const char *label = "vertex";
        int64_t     id = 0;
        json_t     *props;
        gr_elem     e;

        if (na == 1 && args[0].kind == GR_VAL_STRING) { /* addVertex('man') */
            label = args[0].u.str.s;
            na = 0;
        }
        rc = build_props(c, n, m, args, na, &label, &id, &props);
        if (rc != HT_OK)
            return rc;
        memset(&e, 0, sizeof(e));
        rc = ops->add_vertex(c->job->graph, c->a, label, id, props, &e, &serr);
        if (rc < 0)
            return gr_ctx_store_error(c, rc, &serr);
        return keep_elem(c, &e, out);
    }
    if (obj == GR_OBJ_GRAPH && strcmp(m, "traversal") == 0 && na == 0) {
        *out = gr_obj_value(GR_OBJ_SOURCE);
        return HT_OK;
    }
    if (obj == GR_OBJ_GRAPH && strcmp(m, "tx") == 0 && na == 0) {
        *out = gr_obj_value(GR_OBJ_TX);
        return HT_OK;
    }
    if (obj == GR_OBJ_TX &&
        (strcmp(m, "commit") == 0 || strcmp(m, "rollback") == 0) && na == 0) {
        rc = m[0] == 'c' ? ops->commit(c->job->graph, &serr)
                         : ops->rollback(c->job->graph, &serr);
        if (rc < 0)
            return gr_ctx_store_error(c, rc, &serr);
        *out = gr_null();
        return HT_OK;
    }
    if (obj == GR_OBJ_SOURCE && (strcmp(m, "V") == 0 || strcmp(m, "E") == 0))
        return gr_trav_source(c, n, m[0] == 'V' ? GR_S_V : GR_S_E, args, na,
                              out);
    if (obj == GR_OBJ_SOURCE &&
        (strcmp(m, "addV") == 0 || strcmp(m, "addE") == 0))
        return gr_trav_source(c, n, m[3] == 'V' ? GR_S_ADDV : GR_S_ADDE,
                              args, na, out);
    if (obj == GR_OBJ_P || obj == GR_OBJ_ANON) {
        int handled = 0;

        rc = obj == GR_OBJ_P ? gr_pred_make(c, n, m, args, na, out, &handled)
                             : gr_trav_anon(c, n, m, args, na, out, &handled);
        if (handled)
            return rc;
        if (obj == GR_OBJ_ANON)
            return throw_at(c, n, "UnsupportedSyntax",
                            "step '%s' is not supported", m);
    }
    if (obj == GR_OBJ_SOURCE)
        return throw_at(c, n, "UnsupportedSyntax", "step '%s' is not supported",
                        m);
    if (obj == GR_OBJ_JOB && strcmp(m, "updateProgress") == 0 && na == 1 &&
        args[0].kind == GR_VAL_INT) {
        c->progress = args[0].u.i;
        if (c->job->host && c->job->host->progress)
            c->job->host->progress(c->job->host->arg, args[0].u.i);
        *out = gr_null();
        return HT_OK;
    }
    if (obj == GR_OBJ_JOB && strcmp(m, "progress") == 0 && na == 0) {
        *out = gr_int(c->progress);
        return HT_OK;
    }
    if (obj == GR_OBJ_JOB && strcmp(m, "setMinSaveInterval") == 0 &&
        na == 1 && args[0].kind == GR_VAL_INT) {
        /* the worker decides when to write progress */
        c->min_save_interval = args[0].u.i;
        if (c->job->host && c->job->host->save_interval)
            c->job->host->save_interval(c->job->host->arg, args[0].u.i);
        *out = gr_null();
        return HT_OK;
    }
    if (obj == GR_OBJ_THREAD && strcmp(m, "sleep") == 0) {
        *out = gr_null();
        return sleep_ms(c, n, args, na);
    }
    if (obj == GR_OBJ_P || obj == GR_OBJ_ORDER || obj == GR_OBJ_DIRECTION)
        return throw_at(c, n, "UnsupportedSyntax", "'%s.%s' is not supported",
                        obj == GR_OBJ_P       ? "P"
                        : obj == GR_OBJ_ORDER ? "Order"
                                              : "Direction",
                        m);
    return throw_at(c, n, "MissingMethodException",
                    "No signature of method: %s.%s() is applicable for %zu "
                    "arguments",
                    obj == GR_OBJ_GRAPH    ? "graph"
                    : obj == GR_OBJ_SOURCE ? "g"
                    : obj == GR_OBJ_TX     ? "tx"
                    : obj == GR_OBJ_JOB    ? "gremlinJob"
                    : obj == GR_OBJ_THREAD ? "Thread"
                                           : "T",
                    m, na);
}

static int
prop_value(gr_ctx *c, const gr_elem *e, const char *key, gr_value *out,
           int *found)
{
    json_t *j = e->props ? json_object_get(e->props, key) : NULL;

    *found = j != NULL;
    if (j == NULL) {
        *out = gr_null();
        return HT_OK;
    }
    if (gr_value_from_json(c->a, j, out) != HT_OK)
        return gr_ctx_oom(c);
    return HT_OK;
}

static int
elem_method(gr_ctx *c, const gr_node *n, gr_elem *e, const gr_value *args,
            size_t na, gr_value *out)
{
    const gr_graph_ops *ops = c->job->ops;
    const char         *m = n->str;
    ht_err              serr;
    int                 rc, found;

    ht_err_clear(&serr);
    if (strcmp(m, "id") == 0 && na == 0) {
        *out = gr_int(e->id);
        return HT_OK;
    }
    if (strcmp(m, "label") == 0 && na == 0) {
        *out = gr_str(e->label, strlen(e->label));
        return HT_OK;
    }
    if ((strcmp(m, "value") == 0 || (strcmp(m, "property") == 0 && na == 1)) &&
        na == 1) {
        if (args[0].kind != GR_VAL_STRING)
            return bad_arg(c, n, m, "expects a property key");
        rc = prop_value(c, e, args[0].u.str.s, out, &found);
        if (rc == HT_OK && !found && m[1] == 'a')
            return gr_ctx_throw(c, HT_EINVAL, "IllegalStateException",
                                "The property does not exist as the key has "
                                "no associated value for the provided "
                                "element: %c[%" PRId64 "]:%s",
                                e->kind == GR_ELEM_VERTEX ? 'v' : 'e', e->id,
                                args[0].u.str.s);
        return rc;
    }
    if (strcmp(m, "property") == 0 && na == 2) {
        json_t *j, *copy;

        if (args[0].kind != GR_VAL_STRING || args[0].u.str.len == 0)
            return bad_arg(c, n, m, "expects a property key");
        rc = gr_value_to_json_prop(&args[1], &j);
        if (rc == HT_ENOMEM)
            return gr_ctx_oom(c);
        if (rc != HT_OK || args[1].kind == GR_VAL_NULL) {
            if (rc == HT_OK)
                json_decref(j);
            return throw_at(c, n, "IllegalArgumentException",
                            "a %s cannot be a property value",
                            gr_value_type_name(&args[1]));
        }
        rc = gr_ctx_keep_json(c, j);
        if (rc != HT_OK)
            return rc;
        rc = ops->set_property(c->job->graph, e->kind, e->id, args[0].u.str.s,
                               j, &serr);
        if (rc < 0)
            return gr_ctx_store_error(c, rc, &serr);
        /* the element's view follows, on a copy: the store's object may be
         * shared */
        copy = e->props ? json_copy(e->props) : json_object();
        if (copy == NULL)
            return gr_ctx_oom(c);
        rc = gr_ctx_keep_json(c, copy);
        if (rc != HT_OK)
            return rc;
        if (json_object_set(copy, args[0].u.str.s, j) != 0)
            return gr_ctx_oom(c);
        e->props = copy;
        *out = args[1];
        return HT_OK;
    }
    if (strcmp(m, "values") == 0 || strcmp(m, "keys") == 0) {
        gr_list    *l = gr_list_new(c->a, 0);
        const char *key;
        json_t     *j;

        if (l == NULL)
            return gr_ctx_oom(c);
        for (size_t i = 0; i < na; i++)
            if (args[i].kind != GR_VAL_STRING)
                return bad_arg(c, n, m, "expects property keys");
        if (e->props)
            json_object_foreach(e->props, key, j) {
                gr_value v;
                int      want = na == 0;

                for (size_t i = 0; i < na && !want; i++)
                    want = strcmp(args[i].u.str.s, key) == 0;
                if (!want)
                    continue;
                rc = m[0] == 'k' ? gr_str_dup(c->a, key, strlen(key), &v)
                                 : gr_value_from_json(c->a, j, &v);
                if (rc != HT_OK || gr_list_push(c->a, l, v) != HT_OK)
                    return gr_ctx_oom(c);
            }
        out->kind = GR_VAL_LIST;
        out->u.list = l;
        return HT_OK;
    }
    if (strcmp(m, "remove") == 0 && na == 0) {
        rc = ops->remove(c->job->graph, e->kind, e->id, &serr);
        if (rc < 0 && rc != HT_ENOTFOUND)
            return gr_ctx_store_error(c, rc, &serr);
        *out = gr_null();
        return HT_OK;
    }
    if (e->kind == GR_ELEM_VERTEX && strcmp(m, "addEdge") == 0) {
        json_t *props;
        gr_elem edge;

        if (na < 2 || args[0].kind != GR_VAL_STRING || args[0].u.str.len == 0)
            return bad_arg(c, n, m, "expects a label and a vertex");
        if (args[1].kind != GR_VAL_ELEM ||
            args[1].u.elem->kind != GR_ELEM_VERTEX)
            return bad_arg(c, n, m, "expects a vertex as its second argument");
        rc = build_props(c, n, m, args + 2, na - 2, NULL, NULL, &props);
        if (rc != HT_OK)
            return rc;
        memset(&edge, 0, sizeof(edge));
        rc = ops->add_edge(c->job->graph, c->a, args[0].u.str.s, e->id,
                           args[1].u.elem->id, props, &edge, &serr);
        if (rc < 0)
            return gr_ctx_store_error(c, rc, &serr);
        return keep_elem(c, &edge, out);
    }
    if (e->kind == GR_ELEM_EDGE && na == 0 &&
        (strcmp(m, "outVertex") == 0 || strcmp(m, "inVertex") == 0)) {
        gr_elem *v;
        int64_t  id = m[0] == 'o' ? e->out_v : e->in_v;

        rc = gr_trav_fetch_vertex(c, id, &v);
        if (rc != HT_OK)
            return rc;
        if (v == NULL) { /* removed meanwhile: what the edge knows */
            v = ht_arena_calloc(c->a, sizeof(*v));
            if (v == NULL)
                return gr_ctx_oom(c);
            v->kind = GR_ELEM_VERTEX;
            v->id = id;
            v->label = m[0] == 'o' ? e->out_label : e->in_label;
        }
        *out = elem_value(v);
        return HT_OK;
    }
    return throw_at(c, n, "MissingMethodException",
                    "No signature of method: %s.%s() is applicable for %zu "
                    "arguments",
                    e->kind == GR_ELEM_VERTEX ? "Vertex" : "Edge", m, na);
}

/* Methods of lists, maps, strings, ranges and numbers a script may use. */
static int
plain_method(gr_ctx *c, const gr_node *n, gr_value *self,
             const gr_value *args, size_t na, gr_value *out)
{
    const char *m = n->str;
    size_t      size = 0;
    int         sized = 1;

    switch (self->kind) {
    case GR_VAL_LIST: size = self->u.list->n; break;
    case GR_VAL_MAP: size = self->u.map->n; break;
    case GR_VAL_STRING: size = self->u.str.len; break;
    case GR_VAL_RANGE: size = (size_t) self->u.range.count; break;
    default: sized = 0;
    }
    if (na == 0 && strcmp(m, "toString") == 0) {
        const char *s;
        size_t      len;

        if (gr_value_to_string(c->a, self, &s, &len) != HT_OK)
            return gr_ctx_oom(c);
        *out = gr_str(s, len);
        return HT_OK;
    }
    if (na == 1 && strcmp(m, "equals") == 0) {
        *out = gr_bool(gr_value_equals(self, &args[0]));
        return HT_OK;
    }
    if (sized && na == 0 &&
        (strcmp(m, "size") == 0 || (strcmp(m, "length") == 0 &&
                                    self->kind == GR_VAL_STRING))) {
        *out = gr_int((int64_t) size);
        return HT_OK;
    }
    if (sized && na == 0 && strcmp(m, "isEmpty") == 0) {
        *out = gr_bool(size == 0);
        return HT_OK;
    }
    if (self->kind == GR_VAL_LIST && na == 1 && strcmp(m, "add") == 0) {
        if (gr_list_push(c->a, self->u.list, args[0]) != HT_OK)
            return gr_ctx_oom(c);
        *out = gr_bool(1);
        return HT_OK;
    }
    if (self->kind == GR_VAL_LIST && na == 1 && strcmp(m, "get") == 0) {
        size_t i = 0;
        int    rc = index_of(c, n, &args[0], size, 0, &i);

        if (rc == HT_OK)
            *out = self->u.list->items[i];
        return rc;
    }
    if ((self->kind == GR_VAL_LIST || self->kind == GR_VAL_RANGE) && na == 1 &&
        strcmp(m, "contains") == 0) {
        int found = 0;

        for (size_t i = 0; i < size && !found; i++) {
            gr_value item = self->kind == GR_VAL_LIST
                                ? self->u.list->items[i]
                                : gr_int(self->u.range.from +
                                         (int64_t) i * self->u.range.step);

            found = gr_value_equals(&item, &args[0]);
        }
        *out = gr_bool(found);
        return HT_OK;
    }
    if (self->kind == GR_VAL_MAP && na == 1 &&
        (strcmp(m, "get") == 0 || strcmp(m, "containsKey") == 0)) {
        gr_value *v = gr_map_get(self->u.map, args[0]);

        *out = m[0] == 'g' ? (v ? *v : gr_null()) : gr_bool(v != NULL);
        return HT_OK;
    }
    if (self->kind == GR_VAL_MAP && na == 2 && strcmp(m, "put") == 0) {
        gr_value *v = gr_map_get(self->u.map, args[0]);

        *out = v ? *v : gr_null();
        if (gr_map_put(c->a, self->u.map, args[0], args[1]) != HT_OK)
            return gr_ctx_oom(c);
        return HT_OK;
    }
    if (self->kind == GR_VAL_MAP && na == 0 &&
        (strcmp(m, "keySet") == 0 || strcmp(m, "values") == 0)) {
        gr_list *l = gr_list_new(c->a, size);

        if (l == NULL)
            return gr_ctx_oom(c);
        for (size_t i = 0; i < size; i++)
            if (gr_list_push(c->a, l, m[0] == 'k' ? self->u.map->keys[i]
                                                  : self->u.map->vals[i]) !=
                HT_OK)
                return gr_ctx_oom(c);
        out->kind = GR_VAL_LIST;
        out->u.list = l;
        return HT_OK;
    }
    if (self->kind == GR_VAL_STRING && na == 0 &&
        (strcmp(m, "toUpperCase") == 0 || strcmp(m, "toLowerCase") == 0)) {
        char *s = ht_arena_strndup(c->a, self->u.str.s, size);

        if (s == NULL)
            return gr_ctx_oom(c);
        for (size_t i = 0; i < size; i++)
            if ((m[2] == 'U' && s[i] >= 'a' && s[i] <= 'z') ||
                (m[2] == 'L' && s[i] >= 'A' && s[i] <= 'Z'))
                s[i] = (char) (s[i] ^ 0x20);
        *out = gr_str(s, size);
        return HT_OK;
    }
    if (self->kind == GR_VAL_STRING && na == 1 &&
        args[0].kind == GR_VAL_STRING &&
        (strcmp(m, "contains") == 0 || strcmp(m, "startsWith") == 0 ||
         strcmp(m, "endsWith") == 0)) {
        const char *s = self->u.str.s, *t = args[0].u.str.s;
        size_t      tl = args[0].u.str.len;
        int         r;

        if (m[0] == 'c')
            r = strstr(s, t) != NULL;
        else if (m[0] == 's')
            r = tl <= size && memcmp(s, t, tl) == 0;
        else
            r = tl <= size && memcmp(s + size - tl, t, tl) == 0;
        *out = gr_bool(r);
        return HT_OK;
    }
    if (gr_value_is_number(self) && na == 0 &&
        (strcmp(m, "intValue") == 0 || strcmp(m, "longValue") == 0)) {
        gr_value v = *self;
        int      rc = coerce(c, n, 'i', &v);

        *out = v;
        return rc;
    }
    if (gr_value_is_number(self) && na == 0 &&
        strcmp(m, "doubleValue") == 0) {
        *out = gr_double(gr_value_as_double(self));
        return HT_OK;
    }
    if (self->kind == GR_VAL_EXC && na == 0 &&
        (strcmp(m, "getMessage") == 0 || strcmp(m, "getLocalizedMessage") == 0)) {
        *out = gr_str(self->u.exc->message, strlen(self->u.exc->message));
        return HT_OK;
    }
    if (self->kind == GR_VAL_RANGE && na == 0 && strcmp(m, "toList") == 0) {
        gr_list *l = gr_list_new(c->a, size);

        if (l == NULL)
            return gr_ctx_oom(c);
        for (size_t i = 0; i < size; i++)
            if (gr_list_push(c->a, l,
                             gr_int(self->u.range.from +
                                    (int64_t) i * self->u.range.step)) != HT_OK)
                return gr_ctx_oom(c);
        out->kind = GR_VAL_LIST;
        out->u.list = l;
        return HT_OK;
    }
    if (self->kind == GR_VAL_NULL)
        return gr_ctx_throw(c, HT_EINVAL, "NullPointerException",
                            "line %d, column %d: Cannot invoke method %s() on "
                            "null object", n->line, n->col, m);
    return throw_at(c, n, "MissingMethodException",
                    "No signature of method: %s.%s() is applicable for %zu "
                    "arguments", gr_value_type_name(self), m, na);
}

static int
eval_call(gr_ctx *c, const gr_node *n, gr_value *out)
{
    gr_value self, args[MAX_ARGS];
    size_t   na = n->n_kids;
    int      rc;

    if (na > MAX_ARGS)
        return throw_at(c, n, "IllegalArgumentException",
                        "%s() has more than %d arguments", n->str, MAX_ARGS);
    if (n->a) {
        rc = eval(c, n->a, &self);
        if (rc != HT_OK)
            return rc;
        if (self.kind == GR_VAL_NULL && n->ival) { /* a?.m() */
            *out = gr_null();
            return HT_OK;
        }
    }
    for (size_t i = 0; i < na; i++) {
        rc = eval(c, n->kids[i], &args[i]);
        if (rc != HT_OK)
            return rc;
    }
    if (n->a == NULL) {
        int handled = 0;

        if (strcmp(n->str, "sleep") == 0) {
            *out = gr_null();
            return sleep_ms(c, n, args, na);
        }
        /* out() inside step arguments: an anonymous traversal; gt(1): P */
        rc = gr_trav_anon(c, n, n->str, args, na, out, &handled);
        if (!handled)
            rc = gr_pred_make(c, n, n->str, args, na, out, &handled);
        if (handled)
            return rc;
        return throw_at(c, n, "MissingMethodException",
                        "No signature of method: %s() is applicable for %zu "
                        "arguments", n->str, na);
    }
    switch (self.kind) {
    case GR_VAL_OBJ: return graph_method(c, n, self.u.obj, args, na, out);
    case GR_VAL_ELEM: return elem_method(c, n, self.u.elem, args, na, out);
    case GR_VAL_TRAV:
        return gr_trav_call(c, n, self.u.trav, n->str, args, na, out);
    default: return plain_method(c, n, &self, args, na, out);
    }
}

static int
eval_member(gr_ctx *c, const gr_node *n, gr_value *out)
{
    gr_value self;
    int      rc = eval(c, n->a, &self);

    if (rc != HT_OK)
        return rc;
    if (self.kind == GR_VAL_NULL && n->ival) {
        *out = gr_null();
        return HT_OK;
    }
    if (self.kind == GR_VAL_OBJ && self.u.obj == GR_OBJ_ORDER &&
        (strcmp(n->str, "asc") == 0 || strcmp(n->str, "desc") == 0 ||
         strcmp(n->str, "incr") == 0 || strcmp(n->str, "decr") == 0)) {
        *out = gr_obj_value(n->str[0] == 'a' || n->str[0] == 'i'
                                ? GR_OBJ_ASC
                                : GR_OBJ_DESC);
        return HT_OK;
    }
    if (self.kind == GR_VAL_OBJ && self.u.obj == GR_OBJ_T &&
        (strcmp(n->str, "label") == 0 || strcmp(n->str, "id") == 0)) {
        *out = gr_obj_value(n->str[0] == 'l' ? GR_OBJ_T_LABEL : GR_OBJ_T_ID);
        return HT_OK;
    }
    if (self.kind == GR_VAL_MAP) {
        gr_value *v = gr_map_get(self.u.map, gr_str(n->str, strlen(n->str)));

        *out = v ? *v : gr_null();
        return HT_OK;
    }
    if (self.kind == GR_VAL_EXC && strcmp(n->str, "message") == 0) {
        *out = gr_str(self.u.exc->message, strlen(self.u.exc->message));
        return HT_OK;
    }
    if (self.kind == GR_VAL_NULL)
        return gr_ctx_throw(c, HT_EINVAL, "NullPointerException",
                            "line %d, column %d: Cannot get property '%s' on "
                            "null object", n->line, n->col, n->str);
    return gr_ctx_throw(c, HT_EINVAL, "MissingPropertyException",
                        "No such property: %s for class: %s", n->str,
                        gr_value_type_name(&self));
}

static int
eval_index(gr_ctx *c, const gr_node *n, gr_value *out)
{
    gr_value self, key;
    size_t   i = 0;
    int      rc = eval(c, n->a, &self);

    if (rc == HT_OK)
        rc = eval(c, n->b, &key);
    if (rc != HT_OK)
        return rc;
    switch (self.kind) {
    case GR_VAL_LIST:
        /* Groovy answers null past the end when reading */
        if (key.kind == GR_VAL_INT &&
            (key.u.i >= (int64_t) self.u.list->n ||
             key.u.i < -(int64_t) self.u.list->n)) {
            *out = gr_null();
            return HT_OK;
        }
        rc = index_of(c, n, &key, self.u.list->n, 0, &i);
        if (rc == HT_OK)
            *out = self.u.list->items[i];
        return rc;
    case GR_VAL_RANGE:
        rc = index_of(c, n, &key, (size_t) self.u.range.count, 0, &i);
        if (rc == HT_OK)
            *out = gr_int(self.u.range.from + (int64_t) i * self.u.range.step);
        return rc;
    case GR_VAL_STRING:
        rc = index_of(c, n, &key, self.u.str.len, 0, &i);
        if (rc == HT_OK)
            rc = gr_str_dup(c->a, self.u.str.s + i, 1, out) == HT_OK
                     ? HT_OK
                     : gr_ctx_oom(c);
        return rc;
    case GR_VAL_MAP: {
        gr_value *v = gr_map_get(self.u.map, key);

        *out = v ? *v : gr_null();
        return HT_OK;
    }
    case GR_VAL_ELEM: /* v['name'] */
        if (key.kind == GR_VAL_STRING) {
            int found;

            return prop_value(c, self.u.elem, key.u.str.s, out, &found);
        }
        break;
    default:
        break;
    }
    return throw_at(c, n, "IllegalArgumentException", "cannot index a %s",
                    gr_value_type_name(&self));
}

static int
eval_incdec(gr_ctx *c, const gr_node *n, gr_value *out)
{
    gr_value cur, one = gr_int(1), next;
    int      rc = eval(c, n->a, &cur);

    if (rc != HT_OK)
        return rc;
    if (!gr_value_is_number(&cur))
        return throw_at(c, n, "IllegalArgumentException",
                        "cannot apply '%s' to %s", op_text(n->op),
                        gr_value_type_name(&cur));
    rc = arith(c, n, n->op == GR_TK_INCR ? GR_TK_PLUS : GR_TK_MINUS, &cur,
               &one, &next);
    if (rc == HT_OK)
        rc = assign(c, n->a, next);
    if (rc == HT_OK)
        *out = n->kind == GR_N_PREINC ? next : cur;
    return rc;
}

static int
eval_assign(gr_ctx *c, const gr_node *n, gr_value *out)
{
    gr_value v, cur;
    int      rc = eval(c, n->b, &v);
    int      op;

    if (rc != HT_OK)
        return rc;
    if (n->op != GR_TK_ASSIGN) {
        switch (n->op) {
        case GR_TK_PLUS_ASSIGN: op = GR_TK_PLUS; break;
        case GR_TK_MINUS_ASSIGN: op = GR_TK_MINUS; break;
        case GR_TK_STAR_ASSIGN: op = GR_TK_STAR; break;
        case GR_TK_SLASH_ASSIGN: op = GR_TK_SLASH; break;
        default: op = GR_TK_PERCENT; break;
        }
        rc = eval(c, n->a, &cur);
        if (rc == HT_OK)
            rc = arith(c, n, op, &cur, &v, &v);
        if (rc != HT_OK)
            return rc;
    }
    rc = assign(c, n->a, v);
    if (rc == HT_OK)
        *out = v;
    return rc;
}

static int
eval(gr_ctx *c, const gr_node *n, gr_value *out)
{
    gr_value x, y;
    int      rc = gr_ctx_tick(c, 1);

    if (rc != HT_OK)
        return rc;
    switch (n->kind) {
    case GR_N_NULL: *out = gr_null(); return HT_OK;
    case GR_N_BOOL: *out = gr_bool((int) n->ival); return HT_OK;
    case GR_N_INT: *out = gr_int(n->ival); return HT_OK;
    case GR_N_DECIMAL: *out = gr_double(n->dval); return HT_OK;
    case GR_N_STRING: *out = gr_str(n->str, n->len); return HT_OK;
    case GR_N_LIST: {
        gr_list *l = gr_list_new(c->a, n->n_kids);

        if (l == NULL)
            return gr_ctx_oom(c);
        for (size_t i = 0; i < n->n_kids; i++) {
            rc = eval(c, n->kids[i], &x);
            if (rc != HT_OK)
                return rc;
            if (gr_list_push(c->a, l, x) != HT_OK)
                return gr_ctx_oom(c);
        }
        out->kind = GR_VAL_LIST;
        out->u.list = l;
        return HT_OK;
    }
    case GR_N_MAP: {
        gr_map *m = gr_map_new(c->a);

        if (m == NULL)
            return gr_ctx_oom(c);
        for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
            rc = eval(c, n->kids[i], &x);
            if (rc == HT_OK)
                rc = eval(c, n->kids[i + 1], &y);
            if (rc != HT_OK)
                return rc;
            if (gr_map_put(c->a, m, x, y) != HT_OK)
                return gr_ctx_oom(c);
        }
        out->kind = GR_VAL_MAP;
        out->u.map = m;
        return HT_OK;
    }
    case GR_N_RANGE:
        rc = eval(c, n->a, &x);
        if (rc == HT_OK)
            rc = eval(c, n->b, &y);
        return rc != HT_OK ? rc : make_range(c, n, &x, &y, out);
    case GR_N_IDENT: return lookup(c, n, out);
    case GR_N_MEMBER: return eval_member(c, n, out);
    case GR_N_CALL: return eval_call(c, n, out);
    case GR_N_INDEX: return eval_index(c, n, out);
    case GR_N_UNARY:
        rc = eval(c, n->a, &x);
        if (rc != HT_OK)
            return rc;
        if (n->op == GR_TK_NOT) {
            *out = gr_bool(!gr_value_truthy(&x));
            return HT_OK;
        }
        if (!gr_value_is_number(&x))
            return throw_at(c, n, "IllegalArgumentException",
                            "cannot apply unary '%s' to %s", op_text(n->op),
                            gr_value_type_name(&x));
        if (n->op == GR_TK_MINUS)
            x = x.kind == GR_VAL_INT ? gr_int(wrap_sub(0, x.u.i))
                                     : gr_double(-x.u.d);
        *out = x;
        return HT_OK;
    case GR_N_BINARY:
        rc = eval(c, n->a, &x);
        if (rc != HT_OK)
            return rc;
        if (n->op == GR_TK_AND || n->op == GR_TK_OR) {
            int t = gr_value_truthy(&x);

            if ((n->op == GR_TK_AND && !t) || (n->op == GR_TK_OR && t)) {
                *out = gr_bool(t);
                return HT_OK;
            }
            rc = eval(c, n->b, &y);
            if (rc == HT_OK)
                *out = gr_bool(gr_value_truthy(&y));
            return rc;
        }
        rc = eval(c, n->b, &y);
        return rc != HT_OK ? rc : arith(c, n, n->op, &x, &y, out);
    case GR_N_TERNARY:
        rc = eval(c, n->a, &x);
        if (rc != HT_OK)
            return rc;
        return eval(c, gr_value_truthy(&x) ? n->b : n->c, out);
    case GR_N_ELVIS:
        rc = eval(c, n->a, &x);
        if (rc != HT_OK)
            return rc;
        if (gr_value_truthy(&x)) {
            *out = x;
            return HT_OK;
        }
        return eval(c, n->b, out);
    case GR_N_ASSIGN: return eval_assign(c, n, out);
    case GR_N_PREINC:
    case GR_N_POSTINC: return eval_incdec(c, n, out);
    default:
        return throw_at(c, n, "UnsupportedSyntax", "'%s' is not an expression",
                        gr_node_kind_name(n->kind));
    }
}

/* ---- statements -------------------------------------------------------- */

static int
exec_block(gr_ctx *c, const gr_node *n)
{
    size_t mark = c->n_vars;
    int    rc = HT_OK;

    c->last = gr_null();
    for (size_t i = 0; i < n->n_kids && rc == HT_OK; i++) {
        rc = gr_ctx_check(c);
        if (rc == HT_OK)
            rc = exec(c, n->kids[i]);
    }
    c->n_vars = mark;
    return rc;
}

static int
exec_decl(gr_ctx *c, const gr_node *n)
{
    int type = type_code(n->str);

    for (size_t i = 0; i < n->n_kids; i++) {
        const gr_node *v = n->kids[i];
        gr_value       val = gr_null();
        int            rc = HT_OK;

        if (v->a)
            rc = eval(c, v->a, &val);
        if (rc == HT_OK)
            rc = coerce(c, v, type, &val);
        if (rc == HT_OK)
            rc = declare(c, v->str, val, type);
        if (rc != HT_OK)
            return rc;
        c->last = val;
    }
    return HT_OK;
}

/* One loop iteration's body: maps break/continue to what the loop does. */
static int
loop_body(gr_ctx *c, const gr_node *body, int *stop)
{
    int rc = gr_ctx_check(c);

    if (rc == HT_OK)
        rc = gr_ctx_tick(c, 1);
    if (rc == HT_OK)
        rc = exec(c, body);
    *stop = rc != HT_OK && rc != GR_FLOW_CONTINUE;
    if (rc == GR_FLOW_BREAK || rc == GR_FLOW_CONTINUE)
        rc = HT_OK;
    return rc;
}

static int
exec_while(gr_ctx *c, const gr_node *n)
{
    int rc = HT_OK, stop = 0;

    while (!stop) {
        gr_value cond;

        rc = gr_ctx_check(c);
        if (rc == HT_OK)
            rc = eval(c, n->a, &cond);
        if (rc != HT_OK || !gr_value_truthy(&cond))
            break;
        rc = loop_body(c, n->b, &stop);
    }
    c->last = gr_null();
    return rc;
}

static int
exec_for(gr_ctx *c, const gr_node *n)
{
    size_t   mark = c->n_vars;
    gr_value v;
    int      rc = HT_OK, stop = 0;

    if (n->a)
        rc = n->a->kind == GR_N_DECL ? exec_decl(c, n->a) : eval(c, n->a, &v);
    while (rc == HT_OK && !stop) {
        if (n->b) {
            rc = gr_ctx_check(c);
            if (rc == HT_OK)
                rc = eval(c, n->b, &v);
            if (rc != HT_OK || !gr_value_truthy(&v))
                break;
        }
        rc = loop_body(c, n->d, &stop);
        if (rc == HT_OK && !stop && n->c)
            rc = eval(c, n->c, &v);
    }
    c->n_vars = mark;
    c->last = gr_null();
    return rc;
}

static int
exec_foreach(gr_ctx *c, const gr_node *n)
{
    size_t   mark = c->n_vars;
    gr_value coll, item;
    size_t   count;
    int      rc = eval(c, n->a, &coll), stop = 0;

    if (rc != HT_OK)
        return rc;
    if (coll.kind == GR_VAL_TRAV) {
        gr_list *l = NULL;

        rc = gr_trav_drain(c, coll.u.trav, &l);
        if (rc != HT_OK)
            return rc;
        coll.kind = GR_VAL_LIST;
        coll.u.list = l;
    }
    switch (coll.kind) {
    case GR_VAL_NULL: count = 0; break;
    case GR_VAL_LIST: count = coll.u.list->n; break;
    case GR_VAL_RANGE: count = (size_t) coll.u.range.count; break;
    case GR_VAL_STRING: count = coll.u.str.len; break;
    case GR_VAL_MAP:
        return throw_at(c, n, "UnsupportedSyntax",
                        "iterating over a map is not supported");
    default: count = 1; break; /* Groovy iterates a lone object once */
    }
    rc = declare(c, n->str, gr_null(), 0);
    for (size_t i = 0; rc == HT_OK && !stop; i++) {
        /* a list may grow while it is iterated */
        if (coll.kind == GR_VAL_LIST ? i >= coll.u.list->n : i >= count)
            break;
        switch (coll.kind) {
        case GR_VAL_LIST: item = coll.u.list->items[i]; break;
        case GR_VAL_RANGE:
            item = gr_int(coll.u.range.from + (int64_t) i * coll.u.range.step);
            break;
        case GR_VAL_STRING:
            if (gr_str_dup(c->a, coll.u.str.s + i, 1, &item) != HT_OK)
                return gr_ctx_oom(c);
            break;
        default: item = coll; break;
        }
        c->vars[mark].v = item;
        rc = loop_body(c, n->b, &stop);
    }
    c->n_vars = mark;
    c->last = gr_null();
    return rc;
}

/* Whether a catch clause takes the pending error. */
static int
catches(const gr_ctx *c, const gr_node *clause)
{
    const char *kind = c->err.exception ? c->err.exception : "Exception";

    if (clause->n_kids == 0) /* catch (e) */
        return 1;
    for (size_t i = 0; i < clause->n_kids; i++) {
        const char *t = clause->kids[i]->str;

        if (strcmp(t, "Exception") == 0 || strcmp(t, "Throwable") == 0 ||
            strcmp(t, kind) == 0)
            return 1;
        if (strcmp(t, "RuntimeException") == 0 &&
            strcmp(kind, "InterruptedException") != 0)
            return 1;
    }
    return 0;
}

static int
exec_try(gr_ctx *c, const gr_node *n)
{
    int rc = exec(c, n->a);

    if (rc < 0 && !c->fatal) {
        for (size_t i = 0; i < n->n_kids; i++) {
            const gr_node *clause = n->kids[i];
            size_t         mark = c->n_vars;
            gr_exc        *exc;
            gr_value       ev = gr_null();

            if (!catches(c, clause))
                continue;
            exc = ht_arena_alloc(c->a, sizeof(*exc));
            if (exc == NULL)
                return gr_ctx_oom(c);
            exc->kind = c->err.exception ? c->err.exception : "Exception";
            exc->message = ht_arena_strdup(c->a, c->err.msg);
            if (exc->message == NULL)
                return gr_ctx_oom(c);
            ev.kind = GR_VAL_EXC;
            ev.u.exc = exc;
            ht_err_clear(&c->err);
            rc = declare(c, clause->str, ev, 0);
            if (rc == HT_OK)
                rc = exec(c, clause->b);
            c->n_vars = mark;
            break;
        }
    }
    if (n->b && !(rc < 0 && c->fatal)) {
        ht_err   saved = c->err;
        gr_value last = c->last;
        int      frc = exec(c, n->b);

        if (frc != HT_OK) /* break, return or an error in finally wins */
            return frc;
        c->err = saved;
        c->last = last;
    }
    return rc;
}

static int
exec(gr_ctx *c, const gr_node *n)
{
    int      rc = gr_ctx_tick(c, 1);
    gr_value v;

    if (rc != HT_OK)
        return rc;
    switch (n->kind) {
    case GR_N_BLOCK: return exec_block(c, n);
    case GR_N_DECL: return exec_decl(c, n);
    case GR_N_IF:
        rc = eval(c, n->a, &v);
        if (rc != HT_OK)
            return rc;
        if (gr_value_truthy(&v))
            return exec(c, n->b);
        c->last = gr_null();
        return n->c ? exec(c, n->c) : HT_OK;
    case GR_N_WHILE: return exec_while(c, n);
    case GR_N_FOR: return exec_for(c, n);
    case GR_N_FOREACH: return exec_foreach(c, n);
    case GR_N_BREAK: return GR_FLOW_BREAK;
    case GR_N_CONTINUE: return GR_FLOW_CONTINUE;
    case GR_N_RETURN:
        c->ret = gr_null();
        if (n->a && (rc = eval(c, n->a, &c->ret)) != HT_OK)
            return rc;
        return GR_FLOW_RETURN;
    case GR_N_TRY: return exec_try(c, n);
    default:
        rc = eval(c, n, &v);
        if (rc == HT_OK)
            c->last = v;
        return rc;
    }
}

int
gr_eval_program(gr_ctx *c, const gr_node *root, gr_value *out)
{
    int rc = HT_OK;

    c->last = gr_null();
    for (size_t i = 0; i < root->n_kids && rc == HT_OK; i++) {
        rc = gr_ctx_check(c);
        if (rc == HT_OK)
            rc = exec(c, root->kids[i]);
    }
    if (rc == GR_FLOW_RETURN) {
        *out = c->ret;
        return HT_OK;
    }
    if (rc > 0) /* break or continue outside a loop: the checker refuses
                   those, so this is only a safety net */
        return gr_ctx_throw(c, HT_EINVAL, "SyntaxError",
                            "break or continue outside a loop");
    if (rc == HT_OK)
        *out = c->last;
    return rc;
}

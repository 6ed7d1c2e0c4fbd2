/*
 * worker/gremlin/parse.c - tokens to a syntax tree (see ast.h).
 *
 * Recursive descent, one function per grammar rule, the rule in the comment
 * above it; binary operators climb a precedence table.  Newlines end
 * statements, except that a line starting with '.' continues a method chain
 * and a line ending in a binary operator continues the expression.  Two
 * limits keep a hostile script from exhausting the C stack: the parser's own
 * recursion (GR_MAX_DEPTH) and the height of any tree it builds
 * (MAX_HEIGHT), since long chains are built by loops, not recursion.
 * Constructs outside the subset are refused here by name.
 */
#include "worker/gremlin/ast.h"

#include <stdio.h>
#include <string.h>

#include "worker/gremlin/lex.h"

#define MAX_HEIGHT 1000

#define GR_X_NODE_NAME(id, name) name,
static const char *const node_names[] = {GR_NODE_LIST(GR_X_NODE_NAME)};

const char *
gr_node_kind_name(gr_node_kind kind)
{
    if ((int) kind < 0 || kind >= GR_NODE_COUNT)
        return "?";
    return node_names[kind];
}

typedef struct parser {
    ht_arena *a;
    gr_token *toks;
    size_t    n, pos;
    int       depth;
    ht_err   *err;
} parser;

/* A growing array of nodes (in arena). */
typedef struct node_vec {
    gr_node **v;
    size_t    n, cap;
} node_vec;

static gr_token *
peek(parser *p)
{
    return &p->toks[p->pos];
}

static gr_token *
peek_at(parser *p, size_t ahead)
{
    size_t i = p->pos + ahead;

    return &p->toks[i < p->n ? i : p->n - 1];
}

static gr_token *
next(parser *p)
{
    gr_token *t = &p->toks[p->pos];

    if (t->kind != GR_TK_EOF)
        p->pos++;
    return t;
}

static int
is_kw(const gr_token *t, const char *kw)
{
    return t->kind == GR_TK_IDENT && strlen(kw) == t->len &&
           memcmp(t->text, kw, t->len) == 0;
}

static int
oom(parser *p)
{
    return ht_err_set(p->err, HT_ENOMEM, 413, "LimitExceedException",
                      "script memory limit reached while parsing the script");
}

/* "SyntaxError: line 1, column 9: expected ')' near 'out'". */
static int
syntax_error(parser *p, const gr_token *t, const char *what)
{
    if (t->kind == GR_TK_EOF || t->kind == GR_TK_NL)
        return ht_err_set(p->err, HT_EINVAL, 400, "SyntaxError",
                          "line %d, column %d: %s at %s", t->line, t->col,
                          what, gr_token_kind_name(t->kind));
    return ht_err_set(p->err, HT_EINVAL, 400, "SyntaxError",
                      "line %d, column %d: %s near '%.*s'", t->line, t->col,
                      what, (int) (t->len > 40 ? 40 : t->len), t->text);
}

static int
unsupported(parser *p, const gr_token *t, const char *what)
{
    return ht_err_set(p->err, HT_EINVAL, 400, "UnsupportedSyntax",
                      "line %d, column %d: %s", t->line, t->col, what);
}

static int
closures(parser *p, const gr_token *t)
{
    return unsupported(p, t, "closures are not supported");
}

static int
other_op(parser *p, const gr_token *t)
{
    char what[64];

    (void) snprintf(what, sizeof(what), "operator '%.*s' is not supported",
                    (int) t->len, t->text);
    return unsupported(p, t, what);
}

static int
expect(parser *p, gr_token_kind kind)
{
    char what[32];

    if (peek(p)->kind == kind) {
        next(p);
        return HT_OK;
    }
    if (peek(p)->kind == GR_TK_LBRACE)
        return closures(p, peek(p));
    (void) snprintf(what, sizeof(what), "expected '%s'",
                    gr_token_kind_name(kind));
    return syntax_error(p, peek(p), what);
}

static void
skip_nl(parser *p)
{
    while (peek(p)->kind == GR_TK_NL)
        next(p);
}

/* True when the next token after any newlines has this kind or keyword. */
static int
after_nl_is(parser *p, gr_token_kind kind, const char *kw)
{
    size_t i = p->pos;

    while (p->toks[i].kind == GR_TK_NL)
        i++;
    return kw ? is_kw(&p->toks[i], kw) : p->toks[i].kind == kind;
}

static int
enter(parser *p)
{
    if (++p->depth > GR_MAX_DEPTH) {
        const gr_token *t = peek(p);

        return ht_err_set(p->err, HT_ELIMIT, 413, "LimitExceedException",
                          "line %d, column %d: script nested deeper than %d "
                          "levels", t->line, t->col, GR_MAX_DEPTH);
    }
    return HT_OK;
}

/* Tree height is kept beside each node while building, so chains built
 * by loops (a.b().c()..., 1 + 2 + 3 ...) are limited as well. */
typedef struct hnode {
    gr_node node;
    int     height;
} hnode;

static int
node_height(const gr_node *n)
{
    return n ? ((const hnode *) n)->height : 0;
}

static gr_node *
mk(parser *p, gr_node_kind kind, const gr_token *at)
{
    hnode *h = ht_arena_calloc(p->a, sizeof(*h));

    if (h == NULL)
        return NULL;
    h->node.kind = kind;
    h->node.line = at->line;
    h->node.col = at->col;
    h->height = 1;
    return &h->node;
}

/* Records n's height from its children; fails past MAX_HEIGHT. */
static int
seal(parser *p, gr_node *n)
{
    hnode *h = (hnode *) n;
    int    m = 0;

    m = node_height(n->a);
    if (node_height(n->b) > m)
        m = node_height(n->b);
    if (node_height(n->c) > m)
        m = node_height(n->c);
    if (node_height(n->d) > m)
        m = node_height(n->d);
    for (size_t i = 0; i < n->n_kids; i++)
        if (node_height(n->kids[i]) > m)
            m = node_height(n->kids[i]);
    h->height = m + 1;
    if (h->height > MAX_HEIGHT)
        return ht_err_set(p->err, HT_ELIMIT, 413, "LimitExceedException",
                          "line %d, column %d: expression nested deeper than "
                          "%d levels", n->line, n->col, MAX_HEIGHT);
    return HT_OK;
}

static int
vec_push(parser *p, node_vec *v, gr_node *n)
{
    if (v->n == v->cap) {
        size_t    cap = v->cap ? v->cap * 2 : 4;
        gr_node **nv = ht_arena_alloc(p->a, cap * sizeof(*nv));

        if (nv == NULL)
            return oom(p);
        if (v->n)
            memcpy(nv, v->v, v->n * sizeof(*nv));
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = n;
    return HT_OK;
}

static void
set_kids(gr_node *n, const node_vec *v)
{
    n->kids = v->v;
    n->n_kids = v->n;
}

static char *
tok_name(parser *p, const gr_token *t)
{
    return ht_arena_strndup(p->a, t->text, t->len);
}

static int parse_expr(parser *p, gr_node **out);
static int parse_statement(parser *p, gr_node **out);
static int parse_block(parser *p, gr_node **out);
static int parse_ternary(parser *p, gr_node **out);

/* args := '(' [expr (',' expr)*] ')' */
static int
parse_args(parser *p, node_vec *args)
{
    int rc = expect(p, GR_TK_LPAREN);

    if (rc != HT_OK)
        return rc;
    if (peek(p)->kind == GR_TK_RPAREN) {
        next(p);
        return HT_OK;
    }
    for (;;) {
        gr_node *e;

        rc = parse_expr(p, &e);
        if (rc != HT_OK)
            return rc;
        if (peek(p)->kind == GR_TK_COLON)
            return unsupported(p, peek(p), "named arguments are not supported");
        rc = vec_push(p, args, e);
        if (rc != HT_OK)
            return rc;
        if (peek(p)->kind == GR_TK_COMMA) {
            next(p);
            continue;
        }
        return expect(p, GR_TK_RPAREN);
    }
}

/*
 * list_or_map := '[' ']' | '[' ':' ']'
 *              | '[' expr (',' expr)* ','? ']'
 *              | '[' key ':' expr (',' key ':' expr)* ','? ']'
 * A bare identifier as a map key is the string of its name.
 */
static int
parse_list_or_map(parser *p, gr_node **out)
{
    gr_token *open = next(p);
    node_vec  kids = {NULL, 0, 0};
    gr_node  *n;
    int       is_map = -1, rc;

    if (peek(p)->kind == GR_TK_COLON && peek_at(p, 1)->kind == GR_TK_RBRACK) {
        next(p);
        next(p);
        n = mk(p, GR_N_MAP, open);
        if (n == NULL)
            return oom(p);
        *out = n;
        return HT_OK;
    }
    while (peek(p)->kind != GR_TK_RBRACK) {
        gr_node *item;

        rc = parse_expr(p, &item);
        if (rc != HT_OK)
            return rc;
        if (is_map == -1)
            is_map = peek(p)->kind == GR_TK_COLON;
        if (is_map) {
            gr_node *val;

            rc = expect(p, GR_TK_COLON);
            if (rc != HT_OK)
                return rc;
            if (item->kind == GR_N_IDENT) { /* [a: 1] means ['a': 1] */
                item->kind = GR_N_STRING;
                item->len = strlen(item->str);
            }
            rc = parse_expr(p, &val);
            if (rc == HT_OK)
                rc = vec_push(p, &kids, item);
            if (rc == HT_OK)
                rc = vec_push(p, &kids, val);
        } else {
            rc = vec_push(p, &kids, item);
        }
        if (rc != HT_OK)
            return rc;
        if (peek(p)->kind != GR_TK_COMMA)
            break;
        next(p);
    }
    rc = expect(p, GR_TK_RBRACK);
    if (rc != HT_OK)
        return rc;
    n = mk(p, is_map == 1 ? GR_N_MAP : GR_N_LIST, open);
    if (n == NULL)
        return oom(p);
    set_kids(n, &kids);
    *out = n;
    return seal(p, n);
}

static int
is_reserved(const gr_token *t)
{
    static const char *const words[] = {
        "if", "else", "for", "while", "try", "catch", "finally", "break",
        "continue", "return", "def", "var", "in", NULL};

    for (int i = 0; words[i]; i++)
        if (is_kw(t, words[i]))
            return 1;
    return 0;
}

/*
 * primary := INT | DECIMAL | STRING | 'true' | 'false' | 'null' | IDENT
 *          | '(' expr ')' | list_or_map
 */
static int
parse_primary(parser *p, gr_node **out)
{
    gr_token *t = peek(p);
    gr_node  *n;
    int       rc;

    switch (t->kind) {
    case GR_TK_INT:
    case GR_TK_DECIMAL:
    case GR_TK_STRING:
        next(p);
        n = mk(p, t->kind == GR_TK_INT       ? GR_N_INT
                  : t->kind == GR_TK_DECIMAL ? GR_N_DECIMAL
                                             : GR_N_STRING,
               t);
        if (n == NULL)
            return oom(p);
        n->ival = t->ival;
        n->dval = t->dval;
        n->str = t->sval;
        n->len = t->slen;
        *out = n;
        return HT_OK;
    case GR_TK_IDENT:
        if (is_kw(t, "new"))
            return unsupported(p, t, "object creation ('new') is not "
                                     "supported");
        /* in(...) is the step, inside step arguments */
        if (is_reserved(t) &&
            !(is_kw(t, "in") && peek_at(p, 1)->kind == GR_TK_LPAREN))
            return syntax_error(p, t, "expected an expression");
        next(p);
        if (is_kw(t, "true") || is_kw(t, "false")) {
            n = mk(p, GR_N_BOOL, t);
            if (n)
                n->ival = is_kw(t, "true");
        } else if (is_kw(t, "null")) {
            n = mk(p, GR_N_NULL, t);
        } else {
            n = mk(p, GR_N_IDENT, t);
            if (n && (n->str = tok_name(p, t)) == NULL)
                n = NULL;
        }
        if (n == NULL)
            return oom(p);
        *out = n;
        return HT_OK;
    case GR_TK_LPAREN:
        next(p);
        rc = parse_expr(p, out);
        if (rc != HT_OK)
            return rc;
        return expect(p, GR_TK_RPAREN);
    case GR_TK_LBRACK:
        return parse_list_or_map(p, out);
    case GR_TK_LBRACE:
        return closures(p, t);
    case GR_TK_OTHER_OP:
        return other_op(p, t);
    default:
        return syntax_error(p, t, "expected an expression");
    }
}

static int
is_assignable(const gr_node *n)
{
    return n->kind == GR_N_IDENT || n->kind == GR_N_INDEX ||
           n->kind == GR_N_MEMBER;
}

/*
 * postfix := primary ( '.' NAME args? | '?.' NAME args? | args
 *                    | '[' expr ']' | '++' | '--' )*
 * A chain may continue on the next line when that line starts with '.'.
 */
static int
parse_postfix(parser *p, gr_node **out)
{
    gr_node *n;
    int      rc = parse_primary(p, &n);

    while (rc == HT_OK) {
        gr_token *t = peek(p);
        gr_node  *m;

        if (t->kind == GR_TK_NL && (after_nl_is(p, GR_TK_DOT, NULL) ||
                                    after_nl_is(p, GR_TK_SAFEDOT, NULL))) {
            skip_nl(p);
            continue;
        }
        if (t->kind == GR_TK_DOT || t->kind == GR_TK_SAFEDOT) {
            gr_token *name;

            next(p);
            name = peek(p);
            if (name->kind == GR_TK_LBRACE)
                return closures(p, name);
            if (name->kind != GR_TK_IDENT && name->kind != GR_TK_STRING)
                return syntax_error(p, name, "expected a name after '.'");
            next(p);
            if (peek(p)->kind == GR_TK_LBRACE)
                return closures(p, peek(p));
            m = mk(p, peek(p)->kind == GR_TK_LPAREN ? GR_N_CALL : GR_N_MEMBER,
                   name);
            if (m == NULL)
                return oom(p);
            m->str = name->kind == GR_TK_STRING ? name->sval
                                                : tok_name(p, name);
            if (m->str == NULL)
                return oom(p);
            m->ival = t->kind == GR_TK_SAFEDOT;
            m->a = n;
            if (m->kind == GR_N_CALL) {
                node_vec args = {NULL, 0, 0};

                rc = parse_args(p, &args);
                if (rc != HT_OK)
                    return rc;
                set_kids(m, &args);
                if (peek(p)->kind == GR_TK_LBRACE)
                    return closures(p, peek(p));
            }
        } else if (t->kind == GR_TK_LPAREN && n->kind == GR_N_IDENT &&
                   n->a == NULL) {
            node_vec args = {NULL, 0, 0};

            m = mk(p, GR_N_CALL, &(gr_token){.line = n->line, .col = n->col});
            if (m == NULL)
                return oom(p);
            m->str = n->str;
            rc = parse_args(p, &args);
            if (rc != HT_OK)
                return rc;
            set_kids(m, &args);
            if (peek(p)->kind == GR_TK_LBRACE)
                return closures(p, peek(p));
        } else if (t->kind == GR_TK_LPAREN) {
            return unsupported(p, t, "calling a value is not supported");
        } else if (t->kind == GR_TK_LBRACK) {
            next(p);
            m = mk(p, GR_N_INDEX, t);
            if (m == NULL)
                return oom(p);
            m->a = n;
            rc = parse_expr(p, &m->b);
            if (rc != HT_OK)
                return rc;
            rc = expect(p, GR_TK_RBRACK);
            if (rc != HT_OK)
                return rc;
        } else if (t->kind == GR_TK_INCR || t->kind == GR_TK_DECR) {
            if (!is_assignable(n))
                return syntax_error(p, t, "cannot increment this expression");
            next(p);
            m = mk(p, GR_N_POSTINC, t);
            if (m == NULL)
                return oom(p);
            m->op = t->kind;
            m->a = n;
        } else {
            break;
        }
        rc = seal(p, m);
        n = m;
    }
    if (rc == HT_OK)
        *out = n;
    return rc;
}

/* unary := ('-' | '+' | '!' | '++' | '--') unary | postfix */
static int
parse_unary(parser *p, gr_node **out)
{
    gr_token *t = peek(p);
    gr_node  *n;
    int       rc;

    if (t->kind != GR_TK_MINUS && t->kind != GR_TK_PLUS &&
        t->kind != GR_TK_NOT && t->kind != GR_TK_INCR &&
        t->kind != GR_TK_DECR)
        return parse_postfix(p, out);
    rc = enter(p);
    if (rc != HT_OK)
        return rc;
    next(p);
    n = mk(p, t->kind == GR_TK_INCR || t->kind == GR_TK_DECR ? GR_N_PREINC
                                                             : GR_N_UNARY,
           t);
    if (n == NULL)
        return oom(p);
    n->op = t->kind;
    rc = parse_unary(p, &n->a);
    if (rc != HT_OK)
        return rc;
    if (n->kind == GR_N_PREINC && !is_assignable(n->a))
        return syntax_error(p, t, "cannot increment this expression");
    p->depth--;
    *out = n;
    return seal(p, n);
}

/* Binary operators, loosest first. */
static const struct {
    gr_token_kind kind;
    int           prec;
} binops[] = {
    {GR_TK_OR, 1},     {GR_TK_AND, 2},        {GR_TK_EQ, 3},
    {GR_TK_NE, 3},     {GR_TK_LT, 4},         {GR_TK_LE, 4},
    {GR_TK_GT, 4},     {GR_TK_GE, 4},         {GR_TK_RANGE, 5},
    {GR_TK_RANGE_EXCL, 5}, {GR_TK_PLUS, 6},   {GR_TK_MINUS, 6},
    {GR_TK_STAR, 7},   {GR_TK_SLASH, 7},      {GR_TK_PERCENT, 7},
};

static int
binop_prec(gr_token_kind kind)
{
    for (size_t i = 0; i < sizeof(binops) / sizeof(binops[0]); i++)
        if (binops[i].kind == kind)
            return binops[i].prec;
    return 0;
}

/* binary(min) := unary (OP binary(prec(OP) + 1))*   for prec(OP) >= min */
static int
parse_binary(parser *p, int min, gr_node **out)
{
    gr_node *lhs;
    int      rc = parse_unary(p, &lhs);

    while (rc == HT_OK) {
        gr_token *t = peek(p);
        int       prec = binop_prec(t->kind);
        gr_node  *n;

        if (t->kind == GR_TK_OTHER_OP)
            return other_op(p, t);
        if (prec == 0 || prec < min)
            break;
        next(p);
        skip_nl(p); /* "a +\n b" continues */
        n = mk(p, prec == 5 ? GR_N_RANGE : GR_N_BINARY, t);
        if (n == NULL)
            return oom(p);
        n->op = t->kind;
        n->a = lhs;
        rc = enter(p);
        if (rc != HT_OK)
            return rc;
        rc = parse_binary(p, prec + 1, &n->b);
        p->depth--;
        if (rc == HT_OK)
            rc = seal(p, n);
        lhs = n;
    }
    if (rc == HT_OK)
        *out = lhs;
    return rc;
}

/* ternary := binary(1) ('?' expr ':' ternary | '?:' ternary)? */
static int
parse_ternary(parser *p, gr_node **out)
{
    gr_node  *cond, *n;
    gr_token *t;
    int       rc = parse_binary(p, 1, &cond);

    if (rc != HT_OK)
        return rc;
    t = peek(p);
    if (t->kind != GR_TK_QUESTION && t->kind != GR_TK_ELVIS) {
        *out = cond;
        return HT_OK;
    }
    next(p);
    skip_nl(p);
    n = mk(p, t->kind == GR_TK_QUESTION ? GR_N_TERNARY : GR_N_ELVIS, t);
    if (n == NULL)
        return oom(p);
    n->a = cond;
    if (t->kind == GR_TK_QUESTION) {
        rc = parse_expr(p, &n->b);
        if (rc == HT_OK) {
            skip_nl(p);
            rc = expect(p, GR_TK_COLON);
        }
        if (rc == HT_OK) {
            skip_nl(p);
            rc = parse_ternary(p, &n->c);
        }
    } else {
        rc = parse_ternary(p, &n->b);
    }
    if (rc != HT_OK)
        return rc;
    *out = n;
    return seal(p, n);
}

static int
is_assign_op(gr_token_kind k)
{
    return k == GR_TK_ASSIGN || k == GR_TK_PLUS_ASSIGN ||
           k == GR_TK_MINUS_ASSIGN || k == GR_TK_STAR_ASSIGN ||
           k == GR_TK_SLASH_ASSIGN || k == GR_TK_PERCENT_ASSIGN;
}

/* expr := ternary (ASSIGN_OP expr)? */
static int
parse_expr(parser *p, gr_node **out)
{
    gr_node  *lhs, *n;
    gr_token *t;
    int       rc = enter(p);

    if (rc != HT_OK)
        return rc;
    rc = parse_ternary(p, &lhs);
    if (rc != HT_OK)
        return rc;
    t = peek(p);
    if (!is_assign_op(t->kind)) {
        p->depth--;
        *out = lhs;
        return HT_OK;
    }
    if (!is_assignable(lhs))
        return syntax_error(p, t, "cannot assign to this expression");
    next(p);
    skip_nl(p);
    n = mk(p, GR_N_ASSIGN, t);
    if (n == NULL)
        return oom(p);
    n->op = t->kind;
    n->a = lhs;
    rc = parse_expr(p, &n->b);
    if (rc != HT_OK)
        return rc;
    p->depth--;
    *out = n;
    return seal(p, n);
}

/* body := NL* (block | statement) */
static int
parse_body(parser *p, gr_node **out)
{
    skip_nl(p);
    if (peek(p)->kind == GR_TK_LBRACE)
        return parse_block(p, out);
    return parse_statement(p, out);
}

/* decl := TYPE declvar (',' declvar)*     declvar := IDENT ('=' expr)? */
static int
parse_decl(parser *p, gr_node **out)
{
    gr_token *type = next(p);
    gr_node  *n = mk(p, GR_N_DECL, type);
    node_vec  vars = {NULL, 0, 0};
    int       rc;

    if (n == NULL || (n->str = tok_name(p, type)) == NULL)
        return oom(p);
    for (;;) {
        gr_token *name = peek(p);
        gr_node  *v;

        if (name->kind != GR_TK_IDENT || is_reserved(name))
            return syntax_error(p, name, "expected a variable name");
        next(p);
        if (peek(p)->kind == GR_TK_LPAREN)
            return unsupported(p, name, "method definitions are not "
                                        "supported");
        v = mk(p, GR_N_DECLVAR, name);
        if (v == NULL || (v->str = tok_name(p, name)) == NULL)
            return oom(p);
        if (peek(p)->kind == GR_TK_ASSIGN) {
            next(p);
            skip_nl(p);
            rc = parse_expr(p, &v->a);
            if (rc != HT_OK)
                return rc;
            rc = seal(p, v);
            if (rc != HT_OK)
                return rc;
        }
        rc = vec_push(p, &vars, v);
        if (rc != HT_OK)
            return rc;
        if (peek(p)->kind != GR_TK_COMMA)
            break;
        next(p);
    }
    set_kids(n, &vars);
    *out = n;
    return seal(p, n);
}

/* Whether the tokens here start a declaration: "int x", "def x", "Foo x". */
static int
starts_decl(parser *p)
{
    const gr_token *t = peek(p), *u = peek_at(p, 1);

    if (t->kind != GR_TK_IDENT || u->kind != GR_TK_IDENT)
        return 0;
    if (is_kw(t, "def") || is_kw(t, "var"))
        return 1;
    if (is_reserved(t) || is_kw(t, "new") || is_kw(u, "in") || is_kw(u, "instanceof") ||
        is_kw(u, "as"))
        return 0;
    return 1;
}

/* cond_body := KEYWORD '(' expr ')' body -- how if and while begin; the
 * condition goes to n->a, the body to n->b. */
static int
parse_cond_body(parser *p, gr_node_kind kind, gr_node **out)
{
    gr_node *n = mk(p, kind, next(p));
    int      rc;

    if (n == NULL)
        return oom(p);
    rc = expect(p, GR_TK_LPAREN);
    if (rc == HT_OK)
        rc = parse_expr(p, &n->a);
    if (rc == HT_OK)
        rc = expect(p, GR_TK_RPAREN);
    if (rc == HT_OK)
        rc = parse_body(p, &n->b);
    if (rc == HT_OK)
        *out = n;
    return rc;
}

/* if := cond_body (NL* 'else' body)? */
static int
parse_if(parser *p, gr_node **out)
{
    gr_node *n = NULL;
    int      rc = parse_cond_body(p, GR_N_IF, &n);

    if (rc != HT_OK)
        return rc;
    if (after_nl_is(p, GR_TK_EOF, "else") ||
        (peek(p)->kind == GR_TK_SEMI && is_kw(peek_at(p, 1), "else"))) {
        skip_nl(p);
        if (peek(p)->kind == GR_TK_SEMI)
            next(p);
        next(p);
        rc = parse_body(p, &n->c);
        if (rc != HT_OK)
            return rc;
    }
    *out = n;
    return seal(p, n);
}

/* while := cond_body */
static int
parse_while(parser *p, gr_node **out)
{
    gr_node *n = NULL;
    int      rc = parse_cond_body(p, GR_N_WHILE, &n);

    if (rc != HT_OK)
        return rc;
    *out = n;
    return seal(p, n);
}

/*
 * for := 'for' '(' (TYPE? IDENT ('in' | ':') expr) ')' body
 *      | 'for' '(' (decl | expr)? ';' expr? ';' expr? ')' body
 */
static int
parse_for(parser *p, gr_node **out)
{
    gr_token *kw = next(p);
    gr_node  *n;
    int       rc = expect(p, GR_TK_LPAREN);
    int       typed;

    if (rc != HT_OK)
        return rc;
    typed = peek(p)->kind == GR_TK_IDENT && peek_at(p, 1)->kind == GR_TK_IDENT &&
            (is_kw(peek_at(p, 2), "in") || peek_at(p, 2)->kind == GR_TK_COLON);
    if (typed || (peek(p)->kind == GR_TK_IDENT && is_kw(peek_at(p, 1), "in"))) {
        gr_token *name;

        if (typed)
            next(p);
        name = next(p);
        next(p); /* 'in' or ':' */
        n = mk(p, GR_N_FOREACH, kw);
        if (n == NULL || (n->str = tok_name(p, name)) == NULL)
            return oom(p);
        rc = parse_expr(p, &n->a);
    } else {
        n = mk(p, GR_N_FOR, kw);
        if (n == NULL)
            return oom(p);
        if (peek(p)->kind != GR_TK_SEMI)
            rc = starts_decl(p) ? parse_decl(p, &n->a) : parse_expr(p, &n->a);
        if (rc == HT_OK)
            rc = expect(p, GR_TK_SEMI);
        if (rc == HT_OK && peek(p)->kind != GR_TK_SEMI)
            rc = parse_expr(p, &n->b);
        if (rc == HT_OK)
            rc = expect(p, GR_TK_SEMI);
        if (rc == HT_OK && peek(p)->kind != GR_TK_RPAREN)
            rc = parse_expr(p, &n->c);
    }
    if (rc == HT_OK)
        rc = expect(p, GR_TK_RPAREN);
    if (rc == HT_OK)
        rc = parse_body(p, &n->d);
    if (rc != HT_OK)
        return rc;
    if (n->kind == GR_N_FOREACH) { /* keep fields uniform: body in b */
        n->b = n->d;
        n->d = NULL;
    }
    *out = n;
    return seal(p, n);
}

/* catch := 'catch' '(' (TYPE ('|' TYPE)*)? IDENT ')' block */
static int
parse_catch(parser *p, gr_node **out)
{
    gr_node *n = mk(p, GR_N_CATCH, next(p));
    node_vec types = {NULL, 0, 0};
    int      rc = expect(p, GR_TK_LPAREN);

    if (n == NULL)
        return oom(p);
    if (rc != HT_OK)
        return rc;
    for (;;) {
        gr_token *t = peek(p);
        gr_node  *ty;

        if (t->kind != GR_TK_IDENT)
            return syntax_error(p, t, "expected an exception name");
        next(p);
        /* "catch (e)" catches everything */
        if (peek(p)->kind == GR_TK_RPAREN) {
            if ((n->str = tok_name(p, t)) == NULL)
                return oom(p);
            break;
        }
        while (peek(p)->kind == GR_TK_DOT) { /* java.lang.Exception */
            next(p);
            if (peek(p)->kind != GR_TK_IDENT)
                return syntax_error(p, peek(p), "expected an exception name");
            t = next(p);
        }
        ty = mk(p, GR_N_IDENT, t);
        if (ty == NULL || (ty->str = tok_name(p, t)) == NULL)
            return oom(p);
        rc = vec_push(p, &types, ty);
        if (rc != HT_OK)
            return rc;
        if (peek(p)->kind == GR_TK_OTHER_OP && peek(p)->len == 1 &&
            peek(p)->text[0] == '|') {
            next(p);
            continue;
        }
        t = peek(p);
        if (t->kind != GR_TK_IDENT)
            return syntax_error(p, t, "expected a variable name");
        next(p);
        if ((n->str = tok_name(p, t)) == NULL)
            return oom(p);
        break;
    }
    set_kids(n, &types);
    rc = expect(p, GR_TK_RPAREN);
    if (rc == HT_OK) {
        skip_nl(p);
        rc = parse_block(p, &n->b);
    }
    if (rc != HT_OK)
        return rc;
    *out = n;
    return seal(p, n);
}

/* try := 'try' block (NL* catch)* (NL* 'finally' block)? */
static int
parse_try(parser *p, gr_node **out)
{
    gr_token *kw = next(p);
    gr_node  *n = mk(p, GR_N_TRY, kw);
    node_vec  catches = {NULL, 0, 0};
    int       rc;

    if (n == NULL)
        return oom(p);
    skip_nl(p);
    rc = parse_block(p, &n->a);
    while (rc == HT_OK && after_nl_is(p, GR_TK_EOF, "catch")) {
        gr_node *c = NULL;

        skip_nl(p);
        rc = parse_catch(p, &c);
        if (rc == HT_OK)
            rc = vec_push(p, &catches, c);
    }
    if (rc == HT_OK && after_nl_is(p, GR_TK_EOF, "finally")) {
        skip_nl(p);
        next(p);
        skip_nl(p);
        rc = parse_block(p, &n->b);
    }
    if (rc != HT_OK)
        return rc;
    if (catches.n == 0 && n->b == NULL)
        return syntax_error(p, peek(p), "expected 'catch' or 'finally'");
    set_kids(n, &catches);
    *out = n;
    return seal(p, n);
}

/*
 * statement := if | while | for | try | 'break' | 'continue'
 *            | 'return' expr? | decl | expr
 */
static int
parse_statement(parser *p, gr_node **out)
{
    static const char *const refused[] = {
        "class", "interface", "enum", "trait", "import", "package", "switch",
        "do", "throw", "assert", "synchronized", "goto", NULL};
    gr_token *t = peek(p);
    gr_node  *n;
    int       rc = enter(p);

    if (rc != HT_OK)
        return rc;
    for (int i = 0; refused[i]; i++)
        if (is_kw(t, refused[i])) {
            char what[64];

            (void) snprintf(what, sizeof(what), "'%s' is not supported",
                            refused[i]);
            return unsupported(p, t, what);
        }
    if (t->kind == GR_TK_LBRACE)
        return closures(p, t);
    if (is_kw(t, "if")) {
        rc = parse_if(p, out);
    } else if (is_kw(t, "while")) {
        rc = parse_while(p, out);
    } else if (is_kw(t, "for")) {
        rc = parse_for(p, out);
    } else if (is_kw(t, "try")) {
        rc = parse_try(p, out);
    } else if (is_kw(t, "break") || is_kw(t, "continue")) {
        next(p);
        n = mk(p, is_kw(t, "break") ? GR_N_BREAK : GR_N_CONTINUE, t);
        if (n == NULL)
            return oom(p);
        *out = n;
    } else if (is_kw(t, "return")) {
        gr_token_kind k;

        next(p);
        n = mk(p, GR_N_RETURN, t);
        if (n == NULL)
            return oom(p);
        k = peek(p)->kind;
        if (k != GR_TK_NL && k != GR_TK_SEMI && k != GR_TK_RBRACE &&
            k != GR_TK_EOF)
            rc = parse_expr(p, &n->a);
        if (rc == HT_OK)
            rc = seal(p, n);
        *out = n;
    } else if (starts_decl(p)) {
        rc = parse_decl(p, out);
    } else {
        rc = parse_expr(p, out);
    }
    if (rc == HT_OK)
        p->depth--;
    return rc;
}

/* stmts := sep* (statement (sep+ statement)*)? sep*    sep := ';' | NL */
static int
parse_stmts(parser *p, gr_token_kind end, gr_node *block)
{
    node_vec stmts = {NULL, 0, 0};
    int      rc;

    for (;;) {
        gr_node  *s;
        gr_token *t;

        while (peek(p)->kind == GR_TK_NL || peek(p)->kind == GR_TK_SEMI)
            next(p);
        if (peek(p)->kind == end || peek(p)->kind == GR_TK_EOF)
            break;
        rc = parse_statement(p, &s);
        if (rc != HT_OK)
            return rc;
        rc = vec_push(p, &stmts, s);
        if (rc != HT_OK)
            return rc;
        t = peek(p);
        if (t->kind == GR_TK_LBRACE)
            return closures(p, t);
        if (t->kind != GR_TK_NL && t->kind != GR_TK_SEMI && t->kind != end &&
            t->kind != GR_TK_EOF)
            return syntax_error(p, t, "expected end of statement");
    }
    set_kids(block, &stmts);
    return seal(p, block);
}

/* block := '{' stmts '}' */
static int
parse_block(parser *p, gr_node **out)
{
    gr_token *open = peek(p);
    gr_node  *n;
    int       rc = expect(p, GR_TK_LBRACE);

    if (rc != HT_OK)
        return rc;
    rc = enter(p);
    if (rc != HT_OK)
        return rc;
    n = mk(p, GR_N_BLOCK, open);
    if (n == NULL)
        return oom(p);
    rc = parse_stmts(p, GR_TK_RBRACE, n);
    if (rc == HT_OK)
        rc = expect(p, GR_TK_RBRACE);
    if (rc != HT_OK)
        return rc;
    p->depth--;
    *out = n;
    return HT_OK;
}

/* program := stmts EOF */
int
gr_parse_script(ht_arena *a, const char *src, gr_node **out, ht_err *err)
{
    parser   p;
    gr_node *root;
    int      rc;

    memset(&p, 0, sizeof(p));
    p.a = a;
    p.err = err;
    rc = gr_lex(a, src, &p.toks, &p.n, err);
    if (rc != HT_OK)
        return rc;
    root = mk(&p, GR_N_BLOCK, &p.toks[0]);
    if (root == NULL)
        return oom(&p);
    rc = parse_stmts(&p, GR_TK_EOF, root);
    if (rc != HT_OK)
        return rc;
    if (peek(&p)->kind != GR_TK_EOF)
        return syntax_error(&p, peek(&p), "unexpected token");
    rc = gr_check_script(root, err);
    if (rc != HT_OK)
        return rc;
    *out = root;
    return HT_OK;
}

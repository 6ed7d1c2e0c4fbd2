/*
 * worker/gremlin/lex.c - script text to tokens (see lex.h).
 *
 * One pass over the text with a cursor that knows its line and column.  The
 * only state beyond the cursor is a stack of open brackets: a newline is a
 * token unless the innermost open bracket is ( or [.  Strings are decoded
 * here, escapes included, so the parser sees plain text.  Groovy's "${x}"
 * interpolation is refused here, where its position is known.
 */
#include "worker/gremlin/lex.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BRACKETS 256

#define GR_X_TOKEN_NAME(id, text) text,
static const char *const token_names[] = {GR_TOKEN_LIST(GR_X_TOKEN_NAME)};

const char *
gr_token_kind_name(gr_token_kind kind)
{
    if ((int) kind < 0 || kind >= GR_TK_COUNT)
        return "?";
    return token_names[kind];
}

typedef struct lexer {
    ht_arena   *a;
    const char *src;
    const char *p;
    int         line, col;
    gr_token   *toks;
    size_t      n, cap;
    char        brackets[MAX_BRACKETS];
    int         depth;
    ht_err     *err;
} lexer;

static int
lex_error(lexer *lx, int line, int col, const char *kind, const char *what)
{
    return ht_err_set(lx->err, HT_EINVAL, 400, kind, "line %d, column %d: %s",
                      line, col, what);
}

static int
lex_oom(lexer *lx)
{
    return ht_err_set(lx->err, HT_ENOMEM, 413, "LimitExceedException",
                      "script memory limit reached while reading the script");
}

/* Moves the cursor one byte, keeping line and column. */
static void
advance(lexer *lx)
{
    if (*lx->p == '\n') {
        lx->line++;
        lx->col = 1;
    } else if ((*lx->p & 0xC0) != 0x80) {
        lx->col++; /* UTF-8 continuation bytes do not move the column */
    }
    lx->p++;
}

static int
push_token(lexer *lx, gr_token *t)
{
    if (lx->n == lx->cap) {
        size_t    cap = lx->cap ? lx->cap * 2 : 64;
        gr_token *nt = ht_arena_alloc(lx->a, cap * sizeof(*nt));

        if (nt == NULL)
            return lex_oom(lx);
        if (lx->n)
            memcpy(nt, lx->toks, lx->n * sizeof(*nt));
        lx->toks = nt;
        lx->cap = cap;
    }
    lx->toks[lx->n++] = *t;
    return HT_OK;
}

/* A growing byte buffer in the arena for decoded strings. */
typedef struct sbuf {
    char  *s;
    size_t n, cap;
} sbuf;

static int
sbuf_put(lexer *lx, sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        char  *ns;

        while (cap < b->n + n + 1)
            cap *= 2;
        ns = ht_arena_alloc(lx->a, cap);
        if (ns == NULL)
            return lex_oom(lx);
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
sbuf_put_utf8(lexer *lx, sbuf *b, unsigned long cp)
{
    char   u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char) cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char) (0xC0 | (cp >> 6));
        u[1] = (char) (0x80 | (cp & 0x3F));
        n = 2;
    } else {
        u[0] = (char) (0xE0 | (cp >> 12));
        u[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char) (0x80 | (cp & 0x3F));
        n = 3;
    }
    return sbuf_put(lx, b, u, n);
}

/* One escape after the backslash (the cursor is on the backslash). */
static int
lex_escape(lexer *lx, sbuf *b)
{
    int  line = lx->line, col = lx->col;
    char c, out;

    advance(lx);
    c = *lx->p;
    switch (c) {
    case 'n': out = '\n'; break;
    case 't': out = '\t'; break;
    case 'r': out = '\r'; break;
    case 'b': out = '\b'; break;
    case 'f': out = '\f'; break;
    case '0': out = '\0'; break;
    case '\\': case '\'': case '"': case '$': case '/': out = c; break;
    case '\n': /* a line continuation inside a string */
        advance(lx);
        return HT_OK;
    case 'u': {
        unsigned long cp = 0;
        int           i;

        advance(lx);
        for (i = 0; i < 4; i++) {
            int d = *lx->p;

            if (!isxdigit(d))
                return lex_error(lx, line, col, "SyntaxError",
                                 "bad \\u escape in string");
            cp = cp * 16 + (unsigned long) (isdigit(d) ? d - '0'
                                                       : (tolower(d) - 'a' + 10));
            advance(lx);
        }
        return sbuf_put_utf8(lx, b, cp);
    }
    default:
        return lex_error(lx, line, col, "SyntaxError",
                         "unknown escape in string");
    }
    advance(lx);
    return sbuf_put(lx, b, &out, 1);
}

/* '...', "...", '''...''' or """...""" (the cursor is on the quote). */
static int
lex_string(lexer *lx, gr_token *t)
{
    char q = *lx->p;
    int  triple = lx->p[1] == q && lx->p[2] == q;
    sbuf b = {NULL, 0, 0};
    int  rc;

    advance(lx);
    if (triple) {
        advance(lx);
        advance(lx);
    }
    for (;;) {
        char c = *lx->p;

        if (c == '\0' || (c == '\n' && !triple))
            return lex_error(lx, t->line, t->col, "SyntaxError",
                             "unterminated string");
        if (c == q && (!triple || (lx->p[1] == q && lx->p[2] == q))) {
            advance(lx);
            if (triple) {
                advance(lx);
                advance(lx);
            }
            break;
        }
        if (c == '\\') {
            rc = lex_escape(lx, &b);
            if (rc != HT_OK)
                return rc;
            continue;
        }
        if (c == '$' && q == '"' &&
            (lx->p[1] == '{' || isalpha((unsigned char) lx->p[1]) ||
             lx->p[1] == '_'))
            return lex_error(lx, lx->line, lx->col, "UnsupportedSyntax",
                             "string interpolation is not supported");
        rc = sbuf_put(lx, &b, lx->p, 1);
        if (rc != HT_OK)
            return rc;
        advance(lx);
    }
    if (b.s == NULL) {
        rc = sbuf_put(lx, &b, "", 0);
        if (rc != HT_OK)
            return rc;
    }
    t->kind = GR_TK_STRING;
    t->sval = b.s;
    t->slen = b.n;
    return HT_OK;
}

/* 12, 1000L, 1.5, 2e3, 1.5d; "1..5" is an integer and a range. */
static int
lex_number(lexer *lx, gr_token *t)
{
    const char *start = lx->p;
    int         is_dec = 0;
    char        buf[128];
    size_t      n;

    while (isdigit((unsigned char) *lx->p) || *lx->p == '_')
        advance(lx);
    if (*lx->p == '.' && isdigit((unsigned char) lx->p[1])) {
        is_dec = 1;
        advance(lx);
        while (isdigit((unsigned char) *lx->p) || *lx->p == '_')
            advance(lx);
    }
    if ((*lx->p == 'e' || *lx->p == 'E') &&
        (isdigit((unsigned char) lx->p[1]) ||
         ((lx->p[1] == '-' || lx->p[1] == '+') &&
          isdigit((unsigned char) lx->p[2])))) {
        is_dec = 1;
        advance(lx);
        advance(lx);
        while (isdigit((unsigned char) *lx->p))
            advance(lx);
    }
    /* copy without the '_' digit separators */
    n = 0;
    for (const char *s = start; s < lx->p; s++) {
        if (*s == '_')
            continue;
        if (n + 1 >= sizeof(buf))
            return lex_error(lx, t->line, t->col, "SyntaxError",
                             "number literal too long");
        buf[n++] = *s;
    }
    buf[n] = '\0';
    if (strchr("lLiIgG", *lx->p) && *lx->p && !is_dec) {
        advance(lx);
    } else if (*lx->p && strchr("dDfFgG", *lx->p)) {
        is_dec = 1;
        advance(lx);
    }
    if (isalnum((unsigned char) *lx->p) || *lx->p == '_')
        return lex_error(lx, t->line, t->col, "SyntaxError",
                         "bad number literal");
    errno = 0;
    if (is_dec) {
        t->kind = GR_TK_DECIMAL;
        t->dval = strtod(buf, NULL);
        if (errno == ERANGE)
            return lex_error(lx, t->line, t->col, "SyntaxError",
                             "decimal literal out of range");
    } else {
        t->kind = GR_TK_INT;
        t->ival = (int64_t) strtoll(buf, NULL, 10);
        if (errno == ERANGE)
            return lex_error(lx, t->line, t->col, "SyntaxError",
                             "integer literal too large");
    }
    return HT_OK;
}

/* Operators, longest first. */
static const struct {
    const char   *text;
    gr_token_kind kind;
} ops[] = {
    {"..<", GR_TK_RANGE_EXCL}, {"<=>", GR_TK_OTHER_OP},
    {"==~", GR_TK_OTHER_OP}, {">>>", GR_TK_OTHER_OP},
    {"**", GR_TK_OTHER_OP}, {"<<", GR_TK_OTHER_OP}, {">>", GR_TK_OTHER_OP},
    {"=~", GR_TK_OTHER_OP}, {".&", GR_TK_OTHER_OP}, {".@", GR_TK_OTHER_OP},
    {"*.", GR_TK_OTHER_OP}, {"..", GR_TK_RANGE}, {"?.", GR_TK_SAFEDOT},
    {"?:", GR_TK_ELVIS}, {"->", GR_TK_ARROW}, {"++", GR_TK_INCR},
    {"--", GR_TK_DECR}, {"+=", GR_TK_PLUS_ASSIGN}, {"-=", GR_TK_MINUS_ASSIGN},
    {"*=", GR_TK_STAR_ASSIGN}, {"/=", GR_TK_SLASH_ASSIGN},
    {"%=", GR_TK_PERCENT_ASSIGN}, {"==", GR_TK_EQ}, {"!=", GR_TK_NE},
    {"<=", GR_TK_LE}, {">=", GR_TK_GE}, {"&&", GR_TK_AND}, {"||", GR_TK_OR},
    {"(", GR_TK_LPAREN}, {")", GR_TK_RPAREN}, {"[", GR_TK_LBRACK},
    {"]", GR_TK_RBRACK}, {"{", GR_TK_LBRACE}, {"}", GR_TK_RBRACE},
    {",", GR_TK_COMMA}, {";", GR_TK_SEMI}, {".", GR_TK_DOT},
    {":", GR_TK_COLON}, {"?", GR_TK_QUESTION}, {"+", GR_TK_PLUS},
    {"-", GR_TK_MINUS}, {"*", GR_TK_STAR}, {"/", GR_TK_SLASH},
    {"%", GR_TK_PERCENT}, {"=", GR_TK_ASSIGN}, {"<", GR_TK_LT},
    {">", GR_TK_GT}, {"!", GR_TK_NOT}, {"&", GR_TK_OTHER_OP},
    {"|", GR_TK_OTHER_OP}, {"^", GR_TK_OTHER_OP}, {"~", GR_TK_OTHER_OP},
};

/* Tracks ( [ { so newlines inside ( and [ can be dropped. */
static int
track_bracket(lexer *lx, const gr_token *t)
{
    char open = 0, close = 0;

    switch (t->kind) {
    case GR_TK_LPAREN: open = '('; break;
    case GR_TK_LBRACK: open = '['; break;
    case GR_TK_LBRACE: open = '{'; break;
    case GR_TK_RPAREN: close = '('; break;
    case GR_TK_RBRACK: close = '['; break;
    case GR_TK_RBRACE: close = '{'; break;
    default: return HT_OK;
    }
    if (open) {
        if (lx->depth == MAX_BRACKETS)
            return ht_err_set(lx->err, HT_ELIMIT, 413, "LimitExceedException",
                              "line %d, column %d: brackets nested deeper "
                              "than %d", t->line, t->col, MAX_BRACKETS);
        lx->brackets[lx->depth++] = open;
    } else if (lx->depth > 0 && lx->brackets[lx->depth - 1] == close) {
        lx->depth--;
    }
    /* an unbalanced closer is the parser's to report */
    return HT_OK;
}

static int
newline_counts(const lexer *lx)
{
    if (lx->depth > 0 && lx->brackets[lx->depth - 1] != '{')
        return 0;
    /* collapse runs: one newline token is enough */
    return lx->n > 0 && lx->toks[lx->n - 1].kind != GR_TK_NL;
}

/* Skips blanks and comments; stops on a newline or a token. */
static int
skip_blanks(lexer *lx)
{
    for (;;) {
        char c = *lx->p;

        if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
            advance(lx);
        } else if (c == '\\' && lx->p[1] == '\n') {
            advance(lx); /* an explicit line continuation */
            advance(lx);
        } else if (c == '/' && lx->p[1] == '/') {
            while (*lx->p && *lx->p != '\n')
                advance(lx);
        } else if (c == '/' && lx->p[1] == '*') {
            int line = lx->line, col = lx->col;

            advance(lx);
            advance(lx);
            while (*lx->p && !(*lx->p == '*' && lx->p[1] == '/'))
                advance(lx);
            if (*lx->p == '\0')
                return lex_error(lx, line, col, "SyntaxError",
                                 "unterminated comment");
            advance(lx);
            advance(lx);
        } else {
            return HT_OK;
        }
    }
}

int
gr_lex(ht_arena *a, const char *src, gr_token **out, size_t *n_out,
       ht_err *err)
{
    lexer lx;
    int   rc;

    memset(&lx, 0, sizeof(lx));
    lx.a = a;
    lx.src = src;
    lx.p = src;
    lx.line = 1;
    lx.col = 1;
    lx.err = err;
    if (lx.p[0] == '#' && lx.p[1] == '!') /* a shebang line */
        while (*lx.p && *lx.p != '\n')
            advance(&lx);

    for (;;) {
        gr_token t;
        char     c;

        rc = skip_blanks(&lx);
        if (rc != HT_OK)
            return rc;
        memset(&t, 0, sizeof(t));
        t.line = lx.line;
        t.col = lx.col;
        t.text = lx.p;
        c = *lx.p;
        if (c == '\0') {
            t.kind = GR_TK_EOF;
            rc = push_token(&lx, &t);
            if (rc != HT_OK)
                return rc;
            break;
        }
        if (c == '\n') {
            advance(&lx);
            if (!newline_counts(&lx))
                continue;
            t.kind = GR_TK_NL;
            t.len = 1;
            rc = push_token(&lx, &t);
            if (rc != HT_OK)
                return rc;
            continue;
        }
        if (isalpha((unsigned char) c) || c == '_' || c == '$') {
            while (isalnum((unsigned char) *lx.p) || *lx.p == '_' ||
                   *lx.p == '$')
                advance(&lx);
            t.kind = GR_TK_IDENT;
        } else if (isdigit((unsigned char) c)) {
            rc = lex_number(&lx, &t);
        } else if (c == '\'' || c == '"') {
            rc = lex_string(&lx, &t);
        } else {
            size_t i;

            for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
                if (strncmp(lx.p, ops[i].text, strlen(ops[i].text)) == 0)
                    break;
            if (i == sizeof(ops) / sizeof(ops[0])) {
                char what[64];

                (void) snprintf(what, sizeof(what),
                                (unsigned char) c < 0x20 || (c & 0x80)
                                    ? "unexpected character 0x%02x"
                                    : "unexpected character '%c'",
                                (unsigned char) c);
                return lex_error(&lx, t.line, t.col, "SyntaxError", what);
            }
            t.kind = ops[i].kind;
            for (size_t k = strlen(ops[i].text); k > 0; k--)
                advance(&lx);
            rc = track_bracket(&lx, &t);
        }
        if (rc != HT_OK)
            return rc;
        t.len = (size_t) (lx.p - t.text);
        rc = push_token(&lx, &t);
        if (rc != HT_OK)
            return rc;
    }
    *out = lx.toks;
    *n_out = lx.n;
    return HT_OK;
}

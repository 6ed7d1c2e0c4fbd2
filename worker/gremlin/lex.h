/*
 * worker/gremlin/lex.h - the tokens of a Gremlin-Groovy script.
 *
 * The lexer turns the whole script into an array of tokens (in the job
 * arena), each with its line and column (both from 1), so every later error
 * can name its place.  Newlines are tokens because they end statements; the
 * lexer drops those inside ( ) and [ ], where Groovy ignores them.  Keywords
 * are plain identifiers: the parser decides by context, which lets a step be
 * called in() or a map key be called for.  Not here: any meaning.
 */
#ifndef GR_LEX_H
#define GR_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/err.h"

/* Kind, then how an error message shows it. */
#define GR_TOKEN_LIST(X)                                                    \
    X(GR_TK_EOF, "end of script") X(GR_TK_NL, "end of line")                \
    X(GR_TK_IDENT, "identifier") X(GR_TK_INT, "integer")                    \
    X(GR_TK_DECIMAL, "decimal") X(GR_TK_STRING, "string")                   \
    X(GR_TK_LPAREN, "(") X(GR_TK_RPAREN, ")") X(GR_TK_LBRACK, "[")          \
    X(GR_TK_RBRACK, "]") X(GR_TK_LBRACE, "{") X(GR_TK_RBRACE, "}")          \
    X(GR_TK_COMMA, ",") X(GR_TK_SEMI, ";") X(GR_TK_DOT, ".")                \
    X(GR_TK_SAFEDOT, "?.") X(GR_TK_COLON, ":") X(GR_TK_QUESTION, "?")       \
    X(GR_TK_ELVIS, "?:") X(GR_TK_ARROW, "->") X(GR_TK_RANGE, "..")          \
    X(GR_TK_RANGE_EXCL, "..<") X(GR_TK_PLUS, "+") X(GR_TK_MINUS, "-")       \
    X(GR_TK_STAR, "*") X(GR_TK_SLASH, "/") X(GR_TK_PERCENT, "%")            \
    X(GR_TK_INCR, "++") X(GR_TK_DECR, "--") X(GR_TK_ASSIGN, "=")            \
    X(GR_TK_PLUS_ASSIGN, "+=") X(GR_TK_MINUS_ASSIGN, "-=")                  \
    X(GR_TK_STAR_ASSIGN, "*=") X(GR_TK_SLASH_ASSIGN, "/=")                  \
    X(GR_TK_PERCENT_ASSIGN, "%=") X(GR_TK_EQ, "==") X(GR_TK_NE, "!=")       \
    X(GR_TK_LT, "<") X(GR_TK_LE, "<=") X(GR_TK_GT, ">") X(GR_TK_GE, ">=")   \
    X(GR_TK_AND, "&&") X(GR_TK_OR, "||") X(GR_TK_NOT, "!")                  \
    X(GR_TK_OTHER_OP, "operator") /* lexed so it can be refused by name */

#define GR_X_TOKEN_ENUM(id, text) id,
typedef enum { GR_TOKEN_LIST(GR_X_TOKEN_ENUM) GR_TK_COUNT } gr_token_kind;

typedef struct gr_token {
    gr_token_kind kind;
    int           line, col;
    const char   *text;   /* the source text (borrowed from the script) */
    size_t        len;
    /* GR_TK_STRING: the decoded text, NUL-terminated (in arena) */
    const char   *sval;
    size_t        slen;
    int64_t       ival;   /* GR_TK_INT */
    double        dval;   /* GR_TK_DECIMAL */
} gr_token;

/* What an error message calls a kind ("(", "identifier"; static). */
const char *gr_token_kind_name(gr_token_kind kind);

/*
 * Splits src into tokens ending with one GR_TK_EOF (array in arena a).
 * Returns HT_OK, HT_EINVAL with err->exception "SyntaxError" or
 * "UnsupportedSyntax" and err->msg "line L, column C: ...", or HT_ENOMEM.
 */
int gr_lex(ht_arena *a, const char *src, gr_token **out, size_t *n_out,
           ht_err *err);

#endif

/*
 * worker/gremlin/ast.h - the syntax tree of a script.
 *
 * One node type for every construct, told apart by kind; which fields a
 * kind uses is written beside it.  Every node keeps the line and column of
 * the token that starts it, so runtime errors can name the place too.
 * Nodes live in the job arena and are never changed after parsing.
 */
#ifndef GR_AST_H
#define GR_AST_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/err.h"

/* Kind, name (for debugging dumps), fields used. */
#define GR_NODE_LIST(X)                                                     \
    X(GR_N_NULL, "null")         /* */                                      \
    X(GR_N_BOOL, "bool")         /* ival 0/1 */                             \
    X(GR_N_INT, "int")           /* ival */                                 \
    X(GR_N_DECIMAL, "decimal")   /* dval */                                 \
    X(GR_N_STRING, "string")     /* str, len */                             \
    X(GR_N_LIST, "list")         /* kids: items */                          \
    X(GR_N_MAP, "map")           /* kids: key, value, key, value... */      \
    X(GR_N_RANGE, "range")       /* a..b; op GR_TK_RANGE(_EXCL) */          \
    X(GR_N_IDENT, "ident")       /* str */                                  \
    X(GR_N_MEMBER, "member")     /* a.str; ival 1 = ?. */                   \
    X(GR_N_CALL, "call")         /* a.str(kids) or str(kids) (a NULL) */    \
    X(GR_N_INDEX, "index")       /* a[b] */                                 \
    X(GR_N_UNARY, "unary")       /* op a: - + ! */                          \
    X(GR_N_BINARY, "binary")     /* a op b, && and || included */           \
    X(GR_N_TERNARY, "ternary")   /* a ? b : c */                            \
    X(GR_N_ELVIS, "elvis")       /* a ?: b */                               \
    X(GR_N_ASSIGN, "assign")     /* a op b: = += -= *= /= %= */             \
    X(GR_N_PREINC, "preinc")     /* op a: ++a --a */                        \
    X(GR_N_POSTINC, "postinc")   /* a op: a++ a-- */                        \
    X(GR_N_BLOCK, "block")       /* kids: statements */                     \
    X(GR_N_DECL, "decl")         /* str type; kids: GR_N_DECLVAR */         \
    X(GR_N_DECLVAR, "declvar")   /* str name; a init or NULL */             \
    X(GR_N_IF, "if")             /* if (a) b else c */                      \
    X(GR_N_WHILE, "while")       /* while (a) b */                          \
    X(GR_N_FOR, "for")           /* for (a; b; c) d; each may be NULL */    \
    X(GR_N_FOREACH, "foreach")   /* for (str in a) b */                     \
    X(GR_N_BREAK, "break")       /* */                                      \
    X(GR_N_CONTINUE, "continue") /* */                                      \
    X(GR_N_RETURN, "return")     /* a or NULL */                            \
    X(GR_N_TRY, "try")           /* try a, kids: catches, finally b */      \
    X(GR_N_CATCH, "catch")       /* str var; b body; kids: type idents */

#define GR_X_NODE_ENUM(id, name) id,
typedef enum { GR_NODE_LIST(GR_X_NODE_ENUM) GR_NODE_COUNT } gr_node_kind;

typedef struct gr_node gr_node;
struct gr_node {
    gr_node_kind kind;
    int          line, col;
    int          op;   /* a gr_token_kind for operators */
    const char  *str;  /* names and string literals (in arena) */
    size_t       len;
    int64_t      ival;
    double       dval;
    gr_node     *a, *b, *c, *d;
    gr_node    **kids;
    size_t       n_kids;
};

/* Deepest nesting of expressions and blocks the parser accepts. */
#define GR_MAX_DEPTH 200

/* The kind's name ("call"; static). */
const char *gr_node_kind_name(gr_node_kind kind);

/*
 * Parses a whole script into a GR_N_BLOCK (in arena a), then checks it for
 * steps outside the subset.  Returns HT_OK; HT_EINVAL with err->exception
 * "SyntaxError" or "UnsupportedSyntax" and err->msg "line L, column C: ...";
 * HT_ELIMIT (nesting past GR_MAX_DEPTH) or HT_ENOMEM, both with exception
 * "LimitExceedException".
 */
int gr_parse_script(ht_arena *a, const char *src, gr_node **out,
                    ht_err *err);

/*
 * Refuses constructs the evaluator does not run (steps of the full Gremlin
 * language that are not implemented yet), naming the first one's place.
 * Called by gr_parse_script; exposed for tests.
 */
int gr_check_script(const gr_node *root, ht_err *err);

/* Whether name is a Gremlin step this interpreter knows it does not run. */
int gr_step_is_unsupported(const char *name);

#endif

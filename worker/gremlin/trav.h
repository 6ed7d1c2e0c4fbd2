/*
 * worker/gremlin/trav.h - traversals: lazy values built step by step and
 * run when a terminal step (toList, next, hasNext, iterate) or the end of
 * the script asks for their elements.
 *
 * A traversal is a chain of steps sharing its prefix with the traversal it
 * was built from (g.V() and g.V().out() share the V step), plus its own run
 * state: once run, its results are kept and consumed from pos, so next()
 * called twice gives the first and the second element, as in TinkerPop.
 * Running pushes the head (ids, hasLabel, has(k, v | P), hasId, one
 * order().by(key[, dir]), limit/range/skip) into one gr_query; a count()
 * right after them is ops->count.  The steps after the head stream: the
 * scan's elements go through the non-barrier steps GR_BATCH at a time in
 * scratch memory (step_pipe.c), so only barriers and results are held;
 * adjacency asks ops->adjacent for up to GR_BATCH vertices at a time, and
 * vertices reached over edges are loaded (their properties) only when a
 * later step or the result needs them.
 */
#ifndef GR_TRAV_H
#define GR_TRAV_H

#include "worker/gremlin/eval.h"

#define GR_STEP_LIST(X)                                                     \
    X(GR_S_V, "V") X(GR_S_E, "E") X(GR_S_ADDV, "addV") X(GR_S_ADDE, "addE") \
    X(GR_S_HASLABEL, "hasLabel") X(GR_S_HAS, "has") X(GR_S_HASID, "hasId")  \
    X(GR_S_HASNOT, "hasNot") X(GR_S_LIMIT, "limit") X(GR_S_RANGE, "range")  \
    X(GR_S_SKIP, "skip") X(GR_S_TAIL, "tail") X(GR_S_COUNT, "count")        \
    X(GR_S_VALUES, "values") X(GR_S_ID, "id") X(GR_S_LABEL, "label")        \
    X(GR_S_OUT, "out") X(GR_S_IN, "in") X(GR_S_BOTH, "both")                \
    X(GR_S_OUTE, "outE") X(GR_S_INE, "inE") X(GR_S_BOTHE, "bothE")          \
    X(GR_S_OUTV, "outV") X(GR_S_INV, "inV") X(GR_S_OTHERV, "otherV")        \
    X(GR_S_BOTHV, "bothV") X(GR_S_DROP, "drop")                             \
    X(GR_S_VALUEMAP, "valueMap") X(GR_S_ELEMENTMAP, "elementMap")           \
    X(GR_S_PROPERTIES, "properties") X(GR_S_SUM, "sum") X(GR_S_MIN, "min")  \
    X(GR_S_MAX, "max") X(GR_S_MEAN, "mean") X(GR_S_DEDUP, "dedup")          \
    X(GR_S_ORDER, "order") X(GR_S_BY, "by") X(GR_S_PATH, "path")            \
    X(GR_S_SIMPLEPATH, "simplePath") X(GR_S_AS, "as") X(GR_S_SELECT, "select") \
    X(GR_S_FOLD, "fold") X(GR_S_UNFOLD, "unfold") X(GR_S_GROUP, "group")    \
    X(GR_S_GROUPCOUNT, "groupCount") X(GR_S_WHERE, "where") X(GR_S_IS, "is") \
    X(GR_S_NOT, "not") X(GR_S_REPEAT, "repeat") X(GR_S_TIMES, "times")      \
    X(GR_S_UNTIL, "until") X(GR_S_EMIT, "emit") X(GR_S_COALESCE, "coalesce") \
    X(GR_S_CONSTANT, "constant") X(GR_S_PROPERTY, "property")               \
    X(GR_S_FROM, "from") X(GR_S_TO, "to") X(GR_S_IDENTITY, "identity")

#define GR_X_STEP_ENUM(id, name) id,
typedef enum { GR_STEP_LIST(GR_X_STEP_ENUM) GR_STEP_COUNT } gr_step_kind;

typedef struct gr_step gr_step;
struct gr_step {
    const gr_step  *prev;   /* NULL for the first step */
    gr_step_kind    kind;
    int             anon;   /* the first step of __.x() or a bare x() */
    int             paths;  /* this step or one before (or a traversal in
                               their arguments) needs traverser paths */
    const gr_value *args;   /* (in arena) */
    size_t          n_args;
    int             line, col;
};

struct gr_trav {
    const gr_step *last;
    gr_list       *res;     /* NULL until run */
    size_t         pos;     /* results before pos were consumed */
};

/* g.V(args) / g.E(args): a new traversal in *out. */
int gr_trav_source(gr_ctx *c, const gr_node *at, gr_step_kind kind,
                   const gr_value *args, size_t n, gr_value *out);

/* __.name(args) or a bare name(args) inside a step's arguments: a new
 * anonymous traversal (its input comes from the step that runs it).
 * *handled is 0 when name is no step (the caller then tries other
 * meanings: predicates, or a missing method). */
int gr_trav_anon(gr_ctx *c, const gr_node *at, const char *name,
                 const gr_value *args, size_t n, gr_value *out, int *handled);

/* P.name(args) or a bare predicate name(args); *handled as above. */
int gr_pred_make(gr_ctx *c, const gr_node *at, const char *name,
                 const gr_value *args, size_t n, gr_value *out, int *handled);

/*
 * t.name(args): a step (a new traversal in *out) or a terminal (toList,
 * toSet, next, next(n), hasNext, tryNext, iterate: the answer in *out).  Unknown names fail with
 * "UnsupportedSyntax: line L, column C: step 'x' is not supported".
 */
int gr_trav_call(gr_ctx *c, const gr_node *at, gr_trav *t, const char *name,
                 const gr_value *args, size_t n, gr_value *out);

/* The not yet consumed results as a list (in arena), consuming them. */
int gr_trav_drain(gr_ctx *c, gr_trav *t, gr_list **out);

/* Fetches one vertex by id (its properties included) for e.outVertex();
 * *out NULL when there is none. */
int gr_trav_fetch_vertex(gr_ctx *c, int64_t id, gr_elem **out);

#endif

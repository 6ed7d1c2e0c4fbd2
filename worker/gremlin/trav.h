/*
 * worker/gremlin/trav.h - traversals: lazy values built step by step and
 * run when a terminal step (toList, next, hasNext, iterate) or the end of
 * the script asks for their elements.
 *
 * A traversal is a chain of steps sharing its prefix with the traversal it
 * was built from (g.V() and g.V().out() share the V step), plus its own run
 * state: once run, its results are kept and consumed from pos, so next()
 * called twice gives the first and the second element, as in TinkerPop.
 * Running pushes the filters at the head (ids, hasLabel, has, hasId, limit)
 * into one gr_query; a count() right after them is ops->count.  Later steps
 * work on whole batches: adjacency asks ops->adjacent for up to GR_BATCH
 * vertices at a time, and vertices reached over edges are loaded (their
 * properties) only when a later step or the result needs them.
 */
#ifndef GR_TRAV_H
#define GR_TRAV_H

#include "worker/gremlin/eval.h"

#define GR_STEP_LIST(X)                                                     \
    X(GR_S_V, "V") X(GR_S_E, "E") X(GR_S_HASLABEL, "hasLabel")              \
    X(GR_S_HAS, "has") X(GR_S_HASID, "hasId") X(GR_S_LIMIT, "limit")        \
    X(GR_S_COUNT, "count") X(GR_S_VALUES, "values") X(GR_S_ID, "id")        \
    X(GR_S_LABEL, "label") X(GR_S_OUT, "out") X(GR_S_IN, "in")              \
    X(GR_S_BOTH, "both") X(GR_S_OUTE, "outE") X(GR_S_INE, "inE")            \
    X(GR_S_BOTHE, "bothE") X(GR_S_OUTV, "outV") X(GR_S_INV, "inV")          \
    X(GR_S_DROP, "drop")

#define GR_X_STEP_ENUM(id, name) id,
typedef enum { GR_STEP_LIST(GR_X_STEP_ENUM) GR_STEP_COUNT } gr_step_kind;

typedef struct gr_step gr_step;
struct gr_step {
    const gr_step  *prev;   /* NULL for the source step */
    gr_step_kind    kind;
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

/*
 * t.name(args): a step (a new traversal in *out) or a terminal (toList,
 * next, hasNext, iterate: the answer in *out).  Unknown names fail with
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

/*
 * worker/gremlin/gremlin.h - the Gremlin-Groovy interpreter's contract.
 *
 * The interpreter runs one job's script against a property graph it reaches
 * only through gr_graph_ops (worker/graph_pg.c on PostgreSQL, an in-memory
 * graph in the tests), and talks to the worker only through gr_host (cancel
 * checks, interruptible sleeps, progress).  It includes common/ only.
 * Everything it allocates lives in job->arena; property maps are jansson
 * objects whose references are released by deferred arena cleanups.
 *
 * Transactions: gr_run never commits on its own at the end of a script.  The
 * script's graph.tx().commit() calls ops->commit; whatever is still open when
 * gr_run returns is the caller's to commit (success) or roll back.
 */
#ifndef GR_GREMLIN_H
#define GR_GREMLIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/err.h"

typedef enum { GR_ELEM_VERTEX = 1, GR_ELEM_EDGE = 2 } gr_elem_kind;
typedef enum { GR_DIR_OUT = 1, GR_DIR_IN = 2, GR_DIR_BOTH = 3 } gr_dir;

/* A vertex or an edge as the store returns it. */
typedef struct gr_elem {
    gr_elem_kind kind;
    int64_t      id;
    const char  *label;     /* (in arena) */
    json_t      *props;     /* object of key -> JSON value; its reference is
                               released when the arena is freed */
    /* edges only */
    int64_t      out_v, in_v;
    const char  *out_label, *in_label; /* (in arena) */
} gr_elem;

/* Predicates of has(key, P) (and of is(P) in the interpreter). */
#define GR_PRED_LIST(X)                                                     \
    X(GR_P_EQ, "eq") X(GR_P_NEQ, "neq") X(GR_P_LT, "lt") X(GR_P_LTE, "lte") \
    X(GR_P_GT, "gt") X(GR_P_GTE, "gte") X(GR_P_INSIDE, "inside")           \
    X(GR_P_OUTSIDE, "outside") X(GR_P_BETWEEN, "between")                  \
    X(GR_P_WITHIN, "within") X(GR_P_WITHOUT, "without")
#define GR_X_PRED_ENUM(id, name) id,
typedef enum { GR_PRED_LIST(GR_X_PRED_ENUM) GR_P_COUNT } gr_pred_op;

/*
 * has(key, P) pushed into the store.  The element must have the key, and
 * its value v must pass: eq/neq v == a (numbers by value); lt/lte/gt/gte
 * v against a; inside a < v < b; outside v < a or v > b; between
 * a <= v < b; within/without v equal to one/none of the items of the JSON
 * array a.  Ordering needs v and a of the same JSON type (two numbers, two
 * strings, two booleans), else the predicate is false; strings compare
 * bytewise.  Operands are numbers, strings or booleans.
 */
typedef struct gr_qpred {
    const char *key;
    gr_pred_op  op;
    json_t     *a, *b; /* b for inside/outside/between only */
} gr_qpred;

/* The filters at the head of g.V()/g.E(), pushed into the store. */
typedef struct gr_query {
    gr_elem_kind   kind;
    const int64_t *ids;       /* g.V(1, 2): only these ids; NULL = all */
    size_t         n_ids;
    const char   **labels;    /* hasLabel(a, b): any of these; NULL = any */
    size_t         n_labels;
    const char   **has_keys;  /* has(k, v) / has(k): all must hold */
    json_t       **has_values; /* NULL entry = key exists (has(k)) */
    size_t         n_has;
    int64_t        limit;     /* -1 = no limit */
    /* added by level 2; zero means "none" */
    const gr_qpred *preds;    /* has(k, P): all must hold */
    size_t          n_preds;
    const char     *order_key; /* order().by(key): elements lacking the key
                                  are left out; ties in ascending id */
    int             order_desc;
    int64_t         offset;   /* matches skipped before limit counts */
} gr_query;

/* Called once per element in id order (or order_key order); return 0 to go on, 1 to stop early,
 * or a negative HT_E* code (with err filled) to fail the scan.  e is
 * borrowed: it and what it points to (label, props) are valid during the
 * call only; the callback copies (or increfs) what it keeps.  The callback
 * may call the other ops (adjacent, scan, count) but never mutates. */
typedef int (*gr_elem_cb)(void *arg, const gr_elem *e, ht_err *err);

typedef struct gr_graph_ops {
    /* A new vertex; id 0 lets the store assign one.  A taken id fails with
     * HT_ECONFLICT. */
    int (*add_vertex)(void *g, ht_arena *a, const char *label, int64_t id,
                      json_t *props, gr_elem *out, ht_err *err);
    int (*add_edge)(void *g, ht_arena *a, const char *label, int64_t out_v,
                    int64_t in_v, json_t *props, gr_elem *out, ht_err *err);
    /* Streams the elements matching q, ascending id.  a holds what the
     * store needs during the call, an amount independent of the number of
     * rows: the elements themselves are borrowed (see gr_elem_cb). */
    int (*scan)(void *g, ht_arena *a, const gr_query *q, gr_elem_cb cb,
                void *arg, ht_err *err);
    int (*count)(void *g, const gr_query *q, int64_t *out, ht_err *err);
    /* Edges at the given vertices in direction dir with any of labels (NULL
     * = any), in batches: cb sees each edge once per matching end (each
     * borrowed, as in scan). */
    int (*adjacent)(void *g, ht_arena *a, const int64_t *vids, size_t n,
                    gr_dir dir, const char **labels, size_t n_labels,
                    gr_elem_cb cb, void *arg, ht_err *err);
    /* Sets one property (value NULL removes it). */
    int (*set_property)(void *g, gr_elem_kind kind, int64_t id,
                        const char *key, json_t *value, ht_err *err);
    /* Removes an element; a vertex takes its edges with it. */
    int (*remove)(void *g, gr_elem_kind kind, int64_t id, ht_err *err);
    int (*commit)(void *g, ht_err *err);
    int (*rollback)(void *g, ht_err *err);
} gr_graph_ops;

/* What the worker offers the running script. */
typedef struct gr_host {
    void *arg;
    /* Called between statements, in loops and between traversal batches.
     * HT_OK: go on.  HT_ECANCELED: raise InterruptedException (a script may
     * catch it).  Any other negative code: stop the script now, uncatchable
     * (grace period over, timeout), err says why. */
    int (*check)(void *arg, ht_err *err);
    /* Waits ms milliseconds; returns early with HT_ECANCELED on a cancel
     * (or another negative code, as check). */
    int (*sleep_ms)(void *arg, int64_t ms, ht_err *err);
    /* gremlinJob.updateProgress(n); the worker decides when to write it. */
    void (*progress)(void *arg, int64_t value);
    /* gremlinJob.setMinSaveInterval(seconds), or NULL: the least time the
     * worker should leave between two progress writes (progress itself is
     * called on every updateProgress; it only records the value). */
    void (*save_interval)(void *arg, int64_t seconds);
} gr_host;

typedef struct gr_job {
    const char         *script;
    json_t             *bindings;   /* object or NULL (borrowed) */
    const char         *graph_name; /* alias for the graph, e.g. "hugegraph" */
    const gr_graph_ops *ops;
    void               *graph;
    const gr_host      *host;
    ht_arena           *arena;      /* may be capped: HT_ENOMEM past it */
    size_t              max_result_items; /* 0 = 800000 */
    size_t              max_result_bytes; /* 0 = 16 MiB */
    int64_t             max_steps;        /* 0 = no step budget */
    /* Cap of each scratch arena a streamed traversal uses for one batch
     * at one step (freed after the batch); 0 = 64 MiB.  What survives a
     * batch (results, a barrier's input) is in arena and counts there. */
    size_t              scratch_limit;
} gr_job;

/*
 * Runs job->script.  On HT_OK *result is the task_result JSON text (in
 * arena).  Otherwise returns the negative code and *result is the failure
 * text "<Kind>: <message>" (in arena), e.g.
 *   "UnsupportedSyntax: line 1, column 14: closures are not supported"
 * HT_ECANCELED means an interrupt ended the script (the task ends
 * cancelled); the caller rolls back what was not committed.
 */
int gr_run(const gr_job *job, char **result);

#endif

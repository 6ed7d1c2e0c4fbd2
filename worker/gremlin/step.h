/*
 * worker/gremlin/step.h - what the step files share while a traversal
 * runs (internal to step*.c; trav.h is the contract with eval.c).
 *
 * A run passes whole streams of traversers from step to step.  A traverser
 * is a value plus what Gremlin keeps beside it: its path (only when the
 * traversal needs one: path, simplePath, as/select, addE().from('a')), the
 * vertex an edge was reached from (for otherV) and its origin.  Origins
 * make child traversals batched: where(out()), by(values('x')),
 * coalesce(...) run their child once over the whole stream, each input
 * traverser an origin of its own, and the barrier steps (count, fold, sum,
 * order, dedup, limit, group...) work per origin; at the top level every
 * traverser has origin 0.
 */
#ifndef GR_STEP_H
#define GR_STEP_H

#include "worker/gremlin/trav.h"

typedef struct gr_path gr_path;
struct gr_path {
    const gr_path *prev;
    gr_value       v;
    const char   **labels; /* as() labels of this object */
    size_t         n_labels;
};

typedef struct gr_trv {
    gr_value       v;
    const gr_path *path;   /* NULL when the run keeps no paths */
    int64_t        from_v; /* an edge's vertex it was reached from, or 0 */
    size_t         origin;
} gr_trv;

typedef struct gr_stream {
    gr_trv *t;
    size_t  n, cap;
} gr_stream;

typedef struct gr_runner {
    gr_ctx *c;
    int     paths;     /* keep traverser paths */
    size_t  n_origins; /* origins are 0 .. n_origins - 1 */
} gr_runner;

/* A step with the modulators that follow (or, for repeat, surround) it. */
#define GR_MAX_BY 8
typedef struct gr_op {
    const gr_step *s;
    const gr_step *by[GR_MAX_BY];
    size_t         n_by;
    const gr_step *from, *to;
    const gr_step *times, *until, *emit;
    int            until_first, emit_first; /* placed before repeat() */
} gr_op;

extern const char *const gr_step_names[];

/* step.c */
gr_stream *gr_stream_new(gr_ctx *c);
/* A deep copy of t (value and path) pushed onto s, both in arena a. */
int gr_trv_copy_push(gr_ctx *c, ht_arena *a, gr_stream *s, const gr_trv *t,
                     int with_path);
int gr_stream_push(gr_ctx *c, gr_stream *s, gr_trv t);
/* t moved on to value v (its path grows when paths are kept). */
int gr_trv_move(gr_runner *r, gr_stream *out, const gr_trv *t, gr_value v);
gr_value gr_elem_value(gr_elem *e);
int gr_step_error(gr_ctx *c, const gr_step *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The stream value as an element (vertices only when vertex_only). */
int gr_need_elem(gr_ctx *c, const gr_step *s, const gr_value *v,
                 int vertex_only);

/* step_run.c */
/* The steps of t, first to last, grouped into ops (in arena). */
int gr_build_ops(gr_ctx *c, const gr_trav *t, gr_op **out, size_t *n_out);
/* Runs ops[i..n) over in, one whole-stream pass per op; *out the last
 * pass's stream (in c->a; may be in itself). */
int gr_run_ops(gr_runner *r, const gr_op *ops, size_t n, size_t i,
               gr_stream *in, gr_stream **out);
/* Runs an anonymous traversal over in (origins renumbered 0..in->n-1);
 * *out gets the results, each with origin = the index of its input. */
int gr_run_child(gr_runner *r, const gr_trav *t, const gr_stream *in,
                 gr_stream **out);
/* Runs t over in keeping its origins (all below n_origins). */
int gr_run_grouped(gr_runner *r, const gr_trav *t, gr_stream *in,
                   size_t n_origins, gr_stream **out);
/* by-projection of values: *vals[i] for vals in[i]; found[i] 0 when the
 * value has no projection (missing key, empty child). by may be NULL
 * (identity). */
int gr_project(gr_runner *r, const gr_step *by, const gr_value *in, size_t n,
               gr_value **out, char **found);

/* step_pipe.c */
/* Runs the top-level traversal t into t->res (keep 0: the results are
 * dropped, for iterate()).  Non-barrier steps pull the head's elements
 * through in batches of GR_BATCH, each batch in scratch arenas freed
 * after it, so counting, filtering and mapping need bounded memory; only
 * barriers and the results themselves are kept in the job arena. */
int gr_trav_run(gr_ctx *c, gr_trav *t, int keep);

/* step_store.c */
/* The head of g.V()/g.E() (ops[0]) and the filters, order and ranges
 * after it as one query in *q (its parts in c->a); *next = the first op
 * not pushed. */
int gr_head_query(gr_runner *r, const gr_op *ops, size_t n_ops,
                  size_t *next, gr_query *q);
/* ops->count on q (0 when q's limit is 0). */
int gr_store_count(gr_ctx *c, const gr_query *q, int64_t *out);
/* ops->scan on q; cb sees borrowed elements (see gremlin.h).  A cb that
 * fails records its error in c and returns it through *cb_rc, which is
 * what this returns then. */
int gr_store_scan(gr_ctx *c, const gr_query *q, gr_elem_cb cb, void *arg,
                  int *cb_rc);
int gr_load_stubs(gr_ctx *c, gr_stream *s);
int gr_load_values(gr_ctx *c, gr_value *vals, size_t n);
int gr_step_adjacent(gr_runner *r, const gr_step *s, gr_stream *in,
                     gr_stream *out);
int gr_step_source_mid(gr_runner *r, const gr_step *s, gr_stream *in,
                       gr_stream *out);
int gr_step_addv(gr_runner *r, const gr_op *ops, size_t n_ops, size_t *i,
                 gr_stream *in, gr_stream *out);
int gr_step_adde(gr_runner *r, const gr_op *op, gr_stream *in, gr_stream *out);
int gr_step_property(gr_runner *r, const gr_step *s, gr_stream *in);
int gr_step_drop(gr_runner *r, const gr_step *s, gr_stream *in);
int gr_collect_ids(gr_ctx *c, const gr_value *args, size_t n, int64_t **ids,
                   size_t *n_ids);

/* step_filter.c */
int gr_step_filter(gr_runner *r, const gr_step *s, gr_stream *in);
int gr_step_range(gr_runner *r, const gr_step *s, gr_stream *in);
int gr_step_simplepath(gr_runner *r, gr_stream *in);
int gr_step_where(gr_runner *r, const gr_step *s, gr_stream *in);
int gr_step_dedup(gr_runner *r, const gr_op *op, gr_stream *in);
/* The as()-labelled object of t's path (the last one), or found 0. */
int gr_path_select(const gr_trv *t, const char *label, gr_value *out);

/* step_map.c */
int gr_step_map(gr_runner *r, const gr_op *op, gr_stream *in, gr_stream *out);

/* step_agg.c */
int gr_step_reduce(gr_runner *r, const gr_op *op, gr_stream *in,
                   gr_stream *out);
int gr_step_order(gr_runner *r, const gr_op *op, gr_stream *in);
/* Hash of a value consistent with gr_value_equals. */
uint64_t gr_value_hash(const gr_value *v);

/* A hash index of distinct values (dedup, group). */
typedef struct gr_vindex {
    gr_value *keys;
    size_t    n, cap;   /* keys */
    size_t   *slots;    /* key index + 1; 0 = empty */
    size_t    n_slots;
} gr_vindex;
/* The index of v, added if new (*added 1); HT_ENOMEM past the arena cap. */
int gr_vindex_put(ht_arena *a, gr_vindex *ix, const gr_value *v, size_t *at,
                  int *added);

#endif

/*
 * worker/gremlin/eval.h - the evaluation context shared by eval.c, the
 * traversal steps and the result writer.
 *
 * Errors are never thrown: a failing function records the error in
 * ctx->err (exception = the kind, "ArithmeticException"; msg = the text)
 * and returns a negative code, which every caller passes up.  A try
 * statement may catch a recorded error unless ctx->fatal is set: limits,
 * memory, store failures and the host's non-cancel stops are fatal.
 * Positive codes are control flow (break, continue, return), never errors.
 */
#ifndef GR_EVAL_H
#define GR_EVAL_H

#include "common/err.h"
#include "worker/gremlin/ast.h"
#include "worker/gremlin/gremlin.h"
#include "worker/gremlin/value.h"

/* Control flow, as positive return codes of statement execution. */
#define GR_FLOW_BREAK    1
#define GR_FLOW_CONTINUE 2
#define GR_FLOW_RETURN   3

/* Element ids per ops->scan/ops->adjacent call in traversal steps. */
#define GR_BATCH 1000

typedef struct gr_var {
    const char *name;
    gr_value    v;
    int         type; /* a declared type's coercion: 0 none, 'i', 'd', 's', 'b' */
} gr_var;

typedef struct gr_ctx {
    const gr_job *job;
    ht_arena     *a;
    ht_err        err;   /* the pending error; exception holds its kind */
    int           fatal; /* the pending error cannot be caught */
    int64_t       steps;
    gr_var       *vars;  /* block-scoped declarations, innermost last */
    size_t        n_vars, cap_vars;
    gr_var       *globals; /* bindings and undeclared assignments */
    size_t        n_globals, cap_globals;
    gr_value      ret;   /* what a return statement returned */
    gr_value      last;  /* the value of the last statement run */
    int64_t       progress;
    int64_t       min_save_interval;
} gr_ctx;

/* Records a catchable error of the given kind; returns code. */
int gr_ctx_throw(gr_ctx *c, int code, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records an error no try statement can catch; returns code. */
int gr_ctx_fatal(gr_ctx *c, int code, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The arena cap was reached: a fatal LimitExceedException (HT_ENOMEM). */
int gr_ctx_oom(gr_ctx *c);
/* A failed store call (rc, err from ops): HT_ECONFLICT is a catchable
 * IllegalArgumentException, anything else a fatal BackendException. */
int gr_ctx_store_error(gr_ctx *c, int rc, const ht_err *err);
/* Asks the host whether to go on: HT_OK, HT_ECANCELED (a catchable
 * InterruptedException) or a fatal code. */
int gr_ctx_check(gr_ctx *c);
/* Counts n evaluation steps against job->max_steps. */
int gr_ctx_tick(gr_ctx *c, int64_t n);
/* Makes json_decref(j) run when the arena is freed; on failure decrefs
 * at once and returns gr_ctx_oom. */
int gr_ctx_keep_json(gr_ctx *c, json_t *j);

/* The task_result text for a program value (in arena); HT_OK or an error
 * recorded in c (result limits, memory). */
int gr_result_write(gr_ctx *c, const gr_value *v, char **out);

/* Runs a whole parsed script; the program's value goes to *out. */
int gr_eval_program(gr_ctx *c, const gr_node *root, gr_value *out);

#endif

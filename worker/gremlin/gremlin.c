/*
 * worker/gremlin/gremlin.c - gr_run: parse, check, evaluate, write the
 * result (see gremlin.h).
 *
 * This is the only place that turns the recorded error into the failure
 * text "<Kind>: <message>"; everything below it just returns codes.
 */
#include "worker/gremlin/gremlin.h"

#include <string.h>

#include "worker/gremlin/ast.h"
#include "worker/gremlin/eval.h"
#include "worker/gremlin/value.h"

/* Bindings become script variables before the first statement. */
static int
bind(gr_ctx *c)
{
    const char *key;
    json_t     *val;

    if (c->job->bindings == NULL || !json_is_object(c->job->bindings))
        return HT_OK;
    json_object_foreach(c->job->bindings, key, val) {
        gr_var  *nv;
        gr_value v;
        char    *name = ht_arena_strdup(c->a, key);

        if (name == NULL || gr_value_from_json(c->a, val, &v) != HT_OK)
            return gr_ctx_oom(c);
        if (c->n_globals == c->cap_globals) {
            size_t cap = c->cap_globals ? c->cap_globals * 2 : 16;

            nv = ht_arena_alloc(c->a, cap * sizeof(*nv));
            if (nv == NULL)
                return gr_ctx_oom(c);
            if (c->n_globals)
                memcpy(nv, c->globals, c->n_globals * sizeof(*nv));
            c->globals = nv;
            c->cap_globals = cap;
        }
        c->globals[c->n_globals].name = name;
        c->globals[c->n_globals].v = v;
        c->globals[c->n_globals].type = 0;
        c->n_globals++;
    }
    return HT_OK;
}

static char *
failure_text(ht_arena *a, const ht_err *err)
{
    char *s = ht_arena_printf(a, "%s: %s",
                              err->exception ? err->exception : "Exception",
                              err->msg);

    /* the arena may be full; the text must still reach the caller */
    return s ? s : (char *) "LimitExceedException: job memory limit exceeded";
}

int
gr_run(const gr_job *job, char **result)
{
    gr_ctx   c;
    gr_node *root;
    gr_value v;
    int      rc;

    memset(&c, 0, sizeof(c));
    c.job = job;
    c.a = job->arena;
    ht_err_clear(&c.err);
    rc = gr_parse_script(c.a, job->script ? job->script : "", &root, &c.err);
    if (rc == HT_OK)
        rc = bind(&c);
    if (rc == HT_OK)
        rc = gr_eval_program(&c, root, &v);
    if (rc == HT_OK)
        rc = gr_result_write(&c, &v, result);
    if (rc != HT_OK) {
        if (rc > 0) /* cannot happen: flow codes end in gr_eval_program */
            rc = HT_EINTERNAL;
        *result = failure_text(c.a, &c.err);
    }
    return rc;
}

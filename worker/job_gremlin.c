/*
 * worker/job_gremlin.c - the gremlin job kind: decode task_input, run the
 * script on this graph's rows through graph_pg.c, report its value.
 */
#include <string.h>

#include "worker/graph_pg.h"
#include "worker/gremlin/gremlin.h"
#include "worker/job.h"

static int
host_check(void *arg, ht_err *err)
{
    return wk_job_check(arg, err);
}

static int
host_sleep(void *arg, int64_t ms, ht_err *err)
{
    return wk_job_sleep(arg, ms, err);
}

static void
host_progress(void *arg, int64_t value)
{
    wk_job *job = arg;

    job->progress = value;
}

static void
host_save_interval(void *arg, int64_t seconds)
{
    wk_job *job = arg;

    job->save_every_ms = seconds > 0 ? seconds * 1000 : 0;
}

static void
decref(void *p)
{
    json_decref(p);
}

int
wk_run_gremlin(wk_job *job, char **result)
{
    json_error_t jerr;
    json_t      *input, *script, *bindings;
    wk_graph_pg  pg = { job->gdb, job->task.graph };
    gr_host      host = { .arg = job, .check = host_check,
                          .sleep_ms = host_sleep, .progress = host_progress,
                          .save_interval = host_save_interval };
    gr_job       gj;

    input = job->task.input ? json_loads(job->task.input, 0, &jerr) : NULL;
    if (input == NULL || ht_arena_defer(job->arena, decref, input) != 0) {
        json_decref(input);
        *result = ht_arena_strdup(job->arena,
                                  "IllegalArgumentException: the task input is not valid JSON");
        return HT_EINVAL;
    }
    script = json_object_get(input, "gremlin");
    bindings = json_object_get(input, "bindings");
    if (!json_is_string(script) || (bindings != NULL && !json_is_null(bindings) &&
                                    !json_is_object(bindings))) {
        *result = ht_arena_strdup(job->arena,
                                  "IllegalArgumentException: the task input has no "
                                  "gremlin script or bad bindings");
        return HT_EINVAL;
    }
    memset(&gj, 0, sizeof(gj));
    gj.script = json_string_value(script);
    gj.bindings = json_is_object(bindings) ? bindings : NULL;
    gj.graph_name = job->task.graph;
    gj.ops = &wk_graph_pg_ops;
    gj.graph = &pg;
    gj.host = &host;
    gj.arena = job->arena;
    gj.max_result_bytes = (size_t) job->cfg->max_result_bytes;
    /* Each streamed batch gets its own scratch arena, capped like the job. */
    gj.scratch_limit = (size_t) job->cfg->job_mem_limit;
    return gr_run(&gj, result);
}

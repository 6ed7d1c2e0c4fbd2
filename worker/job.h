/*
 * worker/job.h - one claimed task while it runs in a worker process, and the
 * table of job kinds.
 *
 * A job kind is a task type with a run function; nothing else in the worker
 * knows what a gremlin job is.  The run function reports through the host
 * hooks (wk_job_check, wk_job_sleep, progress) and returns the task_result
 * text or the failure text.
 */
#ifndef WK_JOB_H
#define WK_JOB_H

#include <signal.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/cfg.h"
#include "common/db.h"
#include "common/store_task.h"
#include "proto/bus.h"
#include "worker/batch.h"

typedef struct wk_job {
    const ht_cfg *cfg;
    ht_db        *ctrl;     /* heartbeats and short state changes */
    ht_db        *gdb;      /* the job's graph transaction and its finish */
    ht_sub       *sub;      /* cancel hints; may be NULL */
    ht_arena     *arena;    /* capped at cfg->job_mem_limit */
    ht_claim      task;
    const char   *server;
    int64_t       progress;       /* latest value the script reported */
    int64_t       saved_progress; /* what the row holds */
    int64_t       saved_ms;       /* when it was written */
    int64_t       save_every_ms;  /* gremlinJob.setMinSaveInterval; 0 = every beat */
    int64_t       started_ms;
    int64_t       next_beat_ms;
    int64_t       cancel_ms;   /* when the cancel was seen; 0 = none */
    int           raised;      /* InterruptedException already raised */
    int           lost;        /* the row is no longer ours: write nothing */
    int           released;    /* shutdown: hand the task back */
    volatile sig_atomic_t *stopping; /* set by SIGTERM */
    wk_batch     *batch;       /* local queue and finish buffer; may be NULL */
    int64_t       drain_until; /* 0 until stopping is seen */
} wk_job;

/* The host's check: see gr_host.check. */
int wk_job_check(wk_job *job, ht_err *err);
/* The host's interruptible sleep: see gr_host.sleep_ms. */
int wk_job_sleep(wk_job *job, int64_t ms, ht_err *err);

typedef struct wk_kind {
    const char *type;
    const char *callable;
    /* Runs the job; on HT_OK *result is its task_result, otherwise the
     * failure text (both in job->arena). */
    int (*run)(wk_job *job, char **result);
} wk_kind;

/* The kind of a task type, or NULL. */
const wk_kind *wk_kind_find(const char *type);

/* Runs a claimed task to its final write (or hands it back). */
void wk_job_execute(wk_job *job);

/* The gremlin kind's run function (job_gremlin.c). */
int wk_run_gremlin(wk_job *job, char **result);

#endif

/*
 * worker/job_run.c - one claimed task from start to its final write.
 *
 * While the script runs, wk_job_check() is its only window on the world:
 * it takes cancel hints from nng, and once per heartbeat interval extends
 * the lease, writes progress and reads the status back (a cancel whose
 * hint was lost shows up there).  A cancel raises InterruptedException once;
 * a script that carries on past the grace period is stopped for good.
 *
 * The final write is fenced on (graph, id, attempt): if the lease was taken
 * over, it matches no row and nothing changes.  On success the job's open
 * graph transaction and the success status commit together, so a task's
 * uncommitted graph writes are durable exactly when it is marked success.
 */
#include "worker/job.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "worker/metrics.h"

/* Takes every waiting hint; notes a cancel of our task. */
static void
drain_hints(wk_job *job)
{
    ht_msg m;

    if (job->sub == NULL)
        return;
    while (ht_sub_recv(job->sub, &m) == HT_OK) {
        if (m.type == HT_MSG_CANCEL && m.task_id == job->task.id &&
            strcmp(m.graph, job->task.graph) == 0 && job->cancel_ms == 0) {
            job->cancel_ms = ht_now_mono_ms();
            HT_LOG_INFO("task.cancel_seen", "via=hint");
        }
    }
}

static void
heartbeat(wk_job *job, int64_t now)
{
    ht_task_status st;
    ht_err         err;
    int            rc;
    int64_t        progress = job->saved_progress;

    job->next_beat_ms = now + job->cfg->heartbeat_ms;
    /* The lease is renewed on every beat; progress only once per save
     * interval (gremlinJob.setMinSaveInterval). */
    if (job->progress != job->saved_progress &&
        now - job->saved_ms >= job->save_every_ms)
        progress = job->progress;
    rc = ht_store_task_heartbeat(job->ctrl, job->task.graph, job->task.id,
                                 job->task.attempt, job->cfg->lease_ms,
                                 progress, &st, &err);
    if (rc == HT_OK && progress != job->saved_progress) {
        job->saved_progress = progress;
        job->saved_ms = now;
    }
    if (rc == HT_ECONFLICT) {
        job->lost = 1;
        HT_LOG_WARN("task.lost", "why=\"lease taken over, deleted or completed\"");
    } else if (rc != HT_OK) {
        /* Keep running: the lease may still hold when the database is back. */
        HT_LOG_WARN("task.heartbeat_failed", "detail=\"%s\"", err.detail);
    } else if (st == HT_TASK_CANCELLING && job->cancel_ms == 0) {
        job->cancel_ms = now;
        HT_LOG_INFO("task.cancel_seen", "via=heartbeat");
    }
    if (job->batch != NULL)
        wk_batch_extend(job->batch);
}

/* Tasks waiting behind a job that has run this long go back to the queue,
 * for other workers. */
#define HAND_BACK_MS 200

static void
batch_tick(wk_job *job, int64_t now)
{
    wk_batch_flush_due(job->batch, now);
    if (now - job->started_ms >= HAND_BACK_MS && wk_batch_waiting(job->batch) > 0)
        wk_batch_release(job->batch);
}

int
wk_job_check(wk_job *job, ht_err *err)
{
    int64_t now = ht_now_mono_ms();

    drain_hints(job);
    if (now >= job->next_beat_ms)
        heartbeat(job, now);
    if (job->batch != NULL)
        batch_tick(job, now);
    if (job->lost)
        return ht_err_set(err, HT_ECONFLICT, 0, NULL,
                          "the task is no longer owned by this worker");
    if (*job->stopping && job->drain_until == 0)
        job->drain_until = now + job->cfg->drain_ms;
    if (job->drain_until != 0 && now >= job->drain_until) {
        job->released = 1;
        return ht_err_set(err, HT_EIO, 0, NULL, "the worker is shutting down");
    }
    if (job->cfg->job_timeout_ms > 0 &&
        now - job->started_ms >= job->cfg->job_timeout_ms)
        return ht_err_set(err, HT_ETIMEDOUT, 0, NULL,
                          "the job ran longer than the limit "
                          "of %d ms", job->cfg->job_timeout_ms);
    if (job->cancel_ms != 0) {
        if (!job->raised) {
            job->raised = 1;
            return ht_err_set(err, HT_ECANCELED, 0, NULL, "InterruptedException");
        }
        if (now - job->cancel_ms >= job->cfg->cancel_grace_ms)
            return ht_err_set(err, HT_ESTOPPED, 0, NULL,
                              "the script ignored the cancel for %d ms",
                              job->cfg->cancel_grace_ms);
    }
    return HT_OK;
}

int
wk_job_sleep(wk_job *job, int64_t ms, ht_err *err)
{
    int64_t end = ht_now_mono_ms() + (ms > 0 ? ms : 0);

    for (;;) {
        int64_t now = ht_now_mono_ms();
        int64_t wait = end - now;
        int     rc = wk_job_check(job, err);
        struct pollfd pfd;

        if (rc != HT_OK)
            return rc;
        if (wait <= 0)
            return HT_OK;
        if (job->next_beat_ms - now < wait)
            wait = job->next_beat_ms - now;
        if (wait < 1)
            wait = 1;
        if (job->sub != NULL) {
            pfd.fd = ht_sub_fd(job->sub);
            pfd.events = POLLIN;
            if (poll(&pfd, 1, (int) wait) < 0 && errno != EINTR)
                return ht_err_set(err, HT_EIO, 0, NULL, "poll failed");
        } else if (poll(NULL, 0, (int) wait) < 0 && errno != EINTR) {
            return ht_err_set(err, HT_EIO, 0, NULL, "poll failed");
        }
    }
}

/* Rolls back whatever the job left open on its graph connection. */
static void
rollback_graph(wk_job *job)
{
    ht_err err;

    if (ht_db_in_tx(job->gdb) && ht_db_simple(job->gdb, "ROLLBACK", &err) != HT_OK)
        HT_LOG_WARN("task.rollback_failed", "detail=\"%s\"", err.detail);
}

static void
log_final(wk_job *job, ht_task_status st)
{
    wk_metrics_final((int) st);
    HT_LOG_INFO("task.finished", "status=%s attempt=%d ms=%" PRId64,
                ht_task_status_name(st), job->task.attempt,
                ht_now_mono_ms() - job->started_ms);
}

/* Final write outside any graph transaction. */
static void
finish_plain(wk_job *job, ht_task_status st, const char *result)
{
    ht_task_status final;
    ht_err         err;
    int            rc;

    if (job->batch != NULL && (result == NULL || strlen(result) <= WK_BATCH_MAX_RESULT)) {
        ht_attempt t = { job->task.graph, job->task.id, job->task.attempt, st,
                         result, job->progress };
        wk_batch_finish(job->batch, &t);
        return;
    }
    rc = ht_store_task_finish(job->ctrl, job->task.graph, job->task.id,
                              job->task.attempt, st, result, job->progress,
                              &final, &err);
    if (rc == HT_OK)
        log_final(job, final);
    else if (rc == HT_ECONFLICT) {
        wk_metrics_final(-1);
        HT_LOG_WARN("task.finish_fenced", "status=%s", ht_task_status_name(st));
    } else
        HT_LOG_ERROR("task.finish_failed", "status=%s detail=\"%s\"",
                     ht_task_status_name(st), err.detail);
}

/* Success: the status and the job's open graph writes commit together. */
static void
finish_success(wk_job *job, const char *result)
{
    ht_task_status final;
    ht_err         err;
    int            rc;

    if (!ht_db_in_tx(job->gdb)) {
        finish_plain(job, HT_TASK_SUCCESS, result);
        return;
    }
    if (ht_db_tx_failed(job->gdb)) {
        rollback_graph(job);
        finish_plain(job, HT_TASK_FAILED,
                     "BackendException: the job's transaction had failed");
        return;
    }
    rc = ht_store_task_finish(job->gdb, job->task.graph, job->task.id,
                              job->task.attempt, HT_TASK_SUCCESS, result,
                              job->progress, &final, &err);
    if (rc == HT_OK && final == HT_TASK_SUCCESS) {
        rc = ht_db_simple(job->gdb, "COMMIT", &err);
        if (rc == HT_OK) {
            log_final(job, final);
            return;
        }
        HT_LOG_ERROR("task.commit_failed", "detail=\"%s\"", err.detail);
        finish_plain(job, HT_TASK_FAILED,
                     "BackendException: committing the job's writes failed");
        return;
    }
    /* Cancelled meanwhile (or fenced): its uncommitted writes go. */
    rollback_graph(job);
    if (rc == HT_OK)
        finish_plain(job, HT_TASK_CANCELLED, NULL);
    else if (rc == HT_ECONFLICT) {
        wk_metrics_final(-1);
        HT_LOG_WARN("task.finish_fenced", "status=success");
    } else
        HT_LOG_ERROR("task.finish_failed", "status=success detail=\"%s\"", err.detail);
}

static const char *
limit_result(wk_job *job, const char *result)
{
    size_t n = result ? strlen(result) : 0;

    if ((int64_t) n <= job->cfg->max_result_bytes)
        return result;
    return ht_arena_printf(job->arena,
                           "LimitExceedException: the task result of %zu bytes "
                           "exceeds the result limit of %" PRId64 " bytes",
                           n, job->cfg->max_result_bytes);
}

void
wk_job_execute(wk_job *job)
{
    const wk_kind *kind = wk_kind_find(job->task.type);
    char          *result = NULL;
    int            rc;

    wk_metrics_job_begin();
    job->started_ms = ht_now_mono_ms();
    job->next_beat_ms = job->started_ms + job->cfg->heartbeat_ms;
    ht_log_ctx_set("graph=%s task=%" PRId64, job->task.graph, job->task.id);
    HT_LOG_DEBUG("task.claimed", "type=%s attempt=%d", job->task.type,
                 job->task.attempt);
    if (kind == NULL) {
        char t[96];
        (void) snprintf(t, sizeof(t), "%s", job->task.type ? job->task.type : "");
        finish_plain(job, HT_TASK_FAILED,
                     ht_arena_printf(job->arena,
                                     "IllegalArgumentException: unknown task type '%s'", t));
        wk_metrics_job_end();
        ht_log_ctx_set(NULL);
        return;
    }
    rc = kind->run(job, &result);
    if (result == NULL)
        result = "[]";
    if (job->lost) {
        rollback_graph(job);
        HT_LOG_WARN("task.abandoned", "why=\"no longer ours; nothing written\"");
    } else if (job->released) {
        ht_err err;
        rollback_graph(job);
        if (ht_store_task_release(job->ctrl, job->task.graph, job->task.id,
                                  job->task.attempt, &err) == HT_OK)
            HT_LOG_INFO("task.released", "why=shutdown");
    } else if (rc == HT_OK && job->cancel_ms == 0) {
        const char *r = limit_result(job, result);
        if (r != result) {
            rollback_graph(job);
            finish_plain(job, HT_TASK_FAILED, r);
        } else {
            finish_success(job, r);
        }
    } else if (rc == HT_OK || job->cancel_ms != 0) {
        rollback_graph(job);
        finish_plain(job, HT_TASK_CANCELLED, NULL);
    } else {
        rollback_graph(job);
        finish_plain(job, HT_TASK_FAILED, limit_result(job, result));
    }
    wk_metrics_job_end();
    ht_log_ctx_set(NULL);
}

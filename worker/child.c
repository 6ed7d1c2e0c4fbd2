/*
 * worker/child.c - a worker process: claim, run, repeat.
 *
 * Idle, it waits on its SUB socket for a job hint, and polls PostgreSQL
 * every poll interval anyway (hints get lost).  Between claims it runs the
 * rescue statement now and then, so expired leases are re-queued even when
 * every other process of the fleet is gone.  One job at a time; a crash
 * inside a job costs this process only (the supervisor forks a new one).
 */
#include "worker/child.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/store_task.h"
#include "common/util.h"
#include "proto/bus.h"
#include "worker/batch.h"
#include "worker/job.h"
#include "worker/metrics.h"
#include "worker/retention.h"

static volatile sig_atomic_t child_stopping;

static void
on_term(int sig)
{
    (void) sig;
    child_stopping = 1;
}

/* Waits up to ms for a hint of work for one of our graphs. */
static void
wait_for_work(ht_sub *sub, int ms, char **graphs, int n_graphs)
{
    struct pollfd pfd;
    ht_msg        m;
    int64_t       end = ht_now_mono_ms() + ms;

    while (!child_stopping) {
        int64_t left = end - ht_now_mono_ms();
        if (left <= 0)
            return;
        if (sub == NULL) {
            (void) poll(NULL, 0, (int) left);
            return;
        }
        pfd.fd = ht_sub_fd(sub);
        pfd.events = POLLIN;
        if (poll(&pfd, 1, (int) left) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        while (ht_sub_recv(sub, &m) == HT_OK) {
            if (m.type == HT_MSG_WAKE)
                return;
            if (m.type != HT_MSG_JOB)
                continue;
            for (int i = 0; i < n_graphs; i++)
                if (strcmp(graphs[i], m.graph) == 0)
                    return;
        }
    }
}

static void
rescue(ht_db *db)
{
    ht_err err;
    int    n = 0;

    if (ht_store_task_rescue(db, &n, &err) == HT_OK) {
        wk_metrics_rescued(n);
        if (n > 0)
            HT_LOG_INFO("task.rescued", "count=%d", n);
    } else {
        HT_LOG_DEBUG("task.rescue_failed", "detail=\"%s\"", err.detail);
    }
}

int
wk_child_main(const ht_cfg *cfg, int slot, wk_claim_gate *gate)
{
    struct sigaction sa;
    char             host[128], server[192];
    char            *graph_buf = ht_xstrdup(cfg->graphs);
    char            *graphs[64];
    int              n_graphs = ht_cfg_split(graph_buf, graphs, 64);
    ht_db           *ctrl, *gdb;
    ht_sub          *sub;
    ht_err           err;
    int64_t          next_rescue = 0;
    wk_batch         batch;
    int              db_down = 0;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
        free(graph_buf);
        return 1;
    }
    if (gethostname(host, sizeof(host)) != 0)
        (void) snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    (void) snprintf(server, sizeof(server), "%s:%d",
                    cfg->server_id[0] ? cfg->server_id : host, (int) getpid());

    ctrl = ht_db_open(cfg->database_url, "hugetask-worker", 0, NULL);
    /* A generic plan cached while the queue was empty joins the claim
     * through the whole queue (seen: 630 ms per claim after a burst of
     * 20 000 inserts, before autovacuum analysed them).  Custom plans see
     * the table's real size; planning them costs ~0.1 ms a statement, which
     * batching spreads over many tasks. */
    ht_db_set_options(ctrl, "-c plan_cache_mode=force_custom_plan");
    gdb = ht_db_open(cfg->database_url, "hugetask-worker-job", 0, NULL);
    sub = ht_sub_open(cfg->subscribe, &err);
    if (sub == NULL)
        HT_LOG_WARN("bus.sub_failed", "msg=\"%s\" detail=\"%s\" fallback=polling",
                    err.msg, err.detail);
    HT_LOG_INFO("worker.started", "slot=%d server=%s", slot, server);

    wk_batch_init(&batch, cfg, ctrl, gate);
    while (!child_stopping) {
        const ht_claim *claim;
        ht_arena       *arena;
        wk_job          job;
        int64_t         t0;
        int             rc;

        if (ht_now_mono_ms() >= next_rescue) {
            rescue(ctrl);
            /* Spread the fleet's rescues over half a lease. */
            next_rescue = ht_now_mono_ms() + cfg->lease_ms / 2 +
                          (getpid() % 7) * (cfg->lease_ms / 20 + 1);
        }
        if (wk_batch_waiting(&batch) == 0)
            wk_retention_tick(cfg, ctrl, gate); /* between jobs, nothing claimed waits */
        rc = wk_batch_fill(&batch, (const char *const *) graphs, n_graphs, server, &err);
        if (rc != HT_OK) {
            /* Nothing to claim (or no database): write what is buffered,
             * then sleep until a hint or the next poll. */
            wk_batch_flush(&batch);
            if (rc == HT_ENOTFOUND) {
                if (db_down)
                    HT_LOG_INFO("db.back", "");
                db_down = 0;
            } else if (!db_down) {
                db_down = 1;
                HT_LOG_WARN("db.claim_failed", "detail=\"%s\"", err.detail);
            }
            wait_for_work(sub, wk_retention_wait_ms(cfg, cfg->poll_ms), graphs, n_graphs);
            continue;
        }
        db_down = 0;
        claim = wk_batch_next(&batch);
        arena = ht_arena_new(65536, (size_t) cfg->job_mem_limit);
        memset(&job, 0, sizeof(job));
        job.task = *claim;
        job.cfg = cfg;
        job.ctrl = ctrl;
        job.gdb = gdb;
        job.sub = sub;
        job.arena = arena;
        job.server = server;
        job.stopping = &child_stopping;
        job.batch = &batch;
        t0 = ht_now_mono_ms();
        wk_job_execute(&job);
        wk_batch_job_took(&batch, ht_now_mono_ms() - t0);
        ht_arena_free(arena);
        if (wk_batch_waiting(&batch) == 0)
            wk_batch_flush(&batch);
    }
    /* Stopping: what we claimed but did not start goes back, unpunished. */
    wk_batch_release(&batch);
    wk_batch_flush(&batch);
    wk_batch_fini(&batch);
    HT_LOG_INFO("worker.stopping", "slot=%d", slot);
    ht_sub_close(sub);
    if (sub != NULL)
        ht_bus_fini();
    ht_db_close(gdb);
    ht_db_close(ctrl);
    free(graph_buf);
    return 0;
}

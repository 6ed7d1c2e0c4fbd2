/*
 * worker/batch.c - the local queue and the finish buffer (see batch.h).
 */
#include "worker/batch.h"

#include <inttypes.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "worker/metrics.h"

/* Buffered finishes are written at most this long after the first. */
#define FLUSH_DELAY_MS 5
/* A slow claim, or a full batch (a burst of queued tasks), may mean the
 * planner's view of the table is stale: autovacuum analyses it only after
 * its naptime, and until then the batch statements can be planned for an
 * empty queue.  So the worker analyses it, at most once per
 * ANALYZE_EVERY_MS from each daemon (an ANALYZE of a 20 000-row burst costs
 * ~90 ms of the server's CPU: one per process was most of a 16-slot drain). */
#define SLOW_CLAIM_MS    25
#define ANALYZE_EVERY_MS 60000
/* A job slower than this ends batching until jobs are quick again. */
#define SLOW_JOB_MS    20
/* The batch doubles only while its inputs add up to less than this. */
#define BATCH_GROW_BYTES ((size_t) 4 << 20)

void
wk_batch_init(wk_batch *b, const ht_cfg *cfg, ht_db *db, wk_claim_gate *gate)
{
    memset(b, 0, sizeof(*b));
    b->cfg = cfg;
    b->db = db;
    b->gate = gate;
    b->want = 1;
}

void
wk_batch_fini(wk_batch *b)
{
    ht_arena_free(b->claims_arena);
    ht_arena_free(b->done_arena);
    b->claims_arena = b->done_arena = NULL;
}

static const ht_attempt *
waiting_attempts(wk_batch *b, ht_arena *a, size_t *n)
{
    ht_attempt *t;

    *n = (size_t) (b->n_claims - b->next);
    t = ht_arena_calloc(a, sizeof(*t) * (*n ? *n : 1));
    if (t == NULL)
        return NULL;
    for (size_t k = 0; k < *n; k++) {
        const ht_claim *c = &b->claims[b->next + (int) k];
        t[k].graph = c->graph;
        t[k].id = c->id;
        t[k].attempt = c->attempt;
    }
    return t;
}

static size_t
batch_bytes(const wk_batch *b)
{
    size_t sum = 0;

    for (int k = 0; k < b->n_claims; k++)
        sum += b->claims[k].input ? strlen(b->claims[k].input) : 0;
    return sum;
}

int
wk_batch_fill(wk_batch *b, const char *const *graphs, int n_graphs,
              const char *server, ht_err *err)
{
    int     max = b->cfg->claim_batch;
    int     n = 0;
    int     gated;
    int64_t t0, took;
    int     rc;

    if (b->next < b->n_claims)
        return HT_OK;
    ht_arena_free(b->claims_arena);
    b->claims_arena = ht_arena_new(16384, 0);
    b->claims = NULL;
    b->n_claims = b->next = 0;
    gated = wk_claim_gate_enter(b->gate);
    t0 = ht_now_mono_ms();
    rc = ht_store_task_claim(b->db, b->claims_arena, graphs, n_graphs, server,
                             b->cfg->lease_ms, b->want < max ? b->want : max,
                             &b->claims, &n, err);
    took = ht_now_mono_ms() - t0;
    if (rc == HT_OK && (took >= SLOW_CLAIM_MS || n == max) &&
        wk_claim_gate_turn(b->gate, WK_TURN_ANALYZE, &b->analyze_due, t0,
                           ANALYZE_EVERY_MS, NULL)) {
        ht_err aerr;
        if (ht_store_task_analyze(b->db, &aerr) == HT_OK)
            HT_LOG_INFO("db.analyzed", "claim_ms=%" PRId64 " claimed=%d", took, n);
        else
            HT_LOG_WARN("db.analyze_failed", "detail=\"%s\"", aerr.detail);
    }
    if (gated)
        wk_claim_gate_leave(b->gate);
    if (rc != HT_OK)
        return rc;
    b->n_claims = n;
    wk_metrics_claimed(b->claims, n);
    /* A full batch of quick jobs: ask for more next time, unless their
     * inputs are large (the batch holds every input until its job runs). */
    if (n == b->want && b->want < max && batch_bytes(b) < BATCH_GROW_BYTES)
        b->want *= 2;
    return HT_OK;
}

const ht_claim *
wk_batch_next(wk_batch *b)
{
    if (b->next >= b->n_claims)
        return NULL;
    return &b->claims[b->next++];
}

int
wk_batch_waiting(const wk_batch *b)
{
    return b->n_claims - b->next;
}

void
wk_batch_job_took(wk_batch *b, int64_t ms)
{
    if (ms > SLOW_JOB_MS)
        b->want = 1;
}

void
wk_batch_flush(wk_batch *b)
{
    int    final[WK_BATCH_MAX];
    ht_err err;
    int    rc;

    if (b->n_done == 0)
        return;
    rc = ht_store_task_finish_many(b->db, b->done_arena, b->done, b->n_done,
                                   final, &err);
    if (rc != HT_OK) {
        /* The leases run out and the rescue re-queues these tasks: they
         * run again rather than being lost. */
        HT_LOG_ERROR("task.finish_failed", "count=%zu detail=\"%s\"", b->n_done,
                     err.detail);
    } else {
        ht_log_hold(1);
        for (size_t k = 0; k < b->n_done; k++) {
            const ht_attempt *t = &b->done[k];
            wk_metrics_final(final[k]);
            if (final[k] < 0)
                HT_LOG_WARN("task.finish_fenced", "graph=%s task=%" PRId64 " attempt=%d",
                            t->graph, t->id, t->attempt);
            else
                HT_LOG_INFO("task.finished", "graph=%s task=%" PRId64 " status=%s attempt=%d",
                            t->graph, t->id, ht_task_status_name((ht_task_status) final[k]),
                            t->attempt);
        }
        ht_log_hold(0);
    }
    ht_arena_free(b->done_arena);
    b->done_arena = NULL;
    b->n_done = 0;
}

void
wk_batch_flush_due(wk_batch *b, int64_t now_ms)
{
    if (b->n_done > 0 && now_ms - b->first_done_ms >= FLUSH_DELAY_MS)
        wk_batch_flush(b);
}

void
wk_batch_finish(wk_batch *b, const ht_attempt *t)
{
    ht_attempt *d;

    if (b->done_arena == NULL)
        b->done_arena = ht_arena_new(65536, 0);
    if (b->n_done == 0)
        b->first_done_ms = ht_now_mono_ms();
    d = &b->done[b->n_done];
    *d = *t;
    d->graph = ht_arena_strdup(b->done_arena, t->graph);
    d->result = t->result ? ht_arena_strdup(b->done_arena, t->result) : NULL;
    b->n_done++;
    if (b->n_done == WK_BATCH_MAX)
        wk_batch_flush(b);
}

/* Extends (release 0) or hands back (release 1) the waiting tasks. */
static void
waiting_update(wk_batch *b, int release)
{
    ht_arena         *a;
    const ht_attempt *t;
    size_t            n = 0;
    ht_err            err;
    int               rc = HT_ENOMEM;

    if (wk_batch_waiting(b) == 0)
        return;
    a = ht_arena_new(4096, 0);
    t = waiting_attempts(b, a, &n);
    if (t != NULL)
        rc = release ? ht_store_task_release_many(b->db, a, t, n, &err)
                     : ht_store_task_extend_many(b->db, a, t, n, b->cfg->lease_ms, &err);
    if (rc == HT_OK && release)
        HT_LOG_DEBUG("task.handed_back", "count=%zu", n);
    else if (rc != HT_OK)
        HT_LOG_WARN(release ? "task.release_failed" : "task.extend_failed",
                    "count=%zu detail=\"%s\"", n, t ? err.detail : "out of memory");
    ht_arena_free(a);
    if (release)
        b->next = b->n_claims;
}

void
wk_batch_extend(wk_batch *b)
{
    waiting_update(b, 0);
}

void
wk_batch_release(wk_batch *b)
{
    waiting_update(b, 1);
}

/*
 * worker/retention.c - the retention pass of one worker process (see
 * retention.h).
 *
 * A pass is a small state machine driven by wk_retention_tick: take the
 * fleet lock (or give up until the next interval), then one batch per
 * tick, tasks first and events second, each phase ending with a batch
 * that deleted fewer rows than it could; then release the lock and log.
 * A database error ends the pass early (logged) and the next interval
 * tries again: nothing is lost, retention is only late.
 */
#include "worker/retention.h"

#include <inttypes.h>
#include <unistd.h>

#include "common/log.h"
#include "common/store_task.h"
#include "common/util.h"
#include "worker/metrics.h"

enum { PHASE_TASKS, PHASE_EVENTS, PHASE_DONE };

typedef struct pass {
    int     active;     /* holds the lock, between batches */
    int     phase;
    int64_t next_ms;    /* monotonic: next step due; 0 = not scheduled yet */
    int64_t began_ms;
    int64_t busy_ms;    /* time spent inside the batch statements */
    int64_t tasks, events;
    int     batches;
} pass;

static pass st;
/* The daemon's next pass when the gate has no shared memory. */
static int64_t local_due;

/* 1 when this process takes the daemon's turn due now; else 0 and
 * st.next_ms is the next turn's time. */
static int
take_turn(wk_claim_gate *gate, int64_t now, int64_t every_ms)
{
    int64_t t = 0;

    if (wk_claim_gate_turn(gate, WK_TURN_RETENTION, &local_due, now, every_ms, &t))
        return 1;
    st.next_ms = t > now ? t : now + WK_RETENTION_PAUSE_MS;
    return 0;
}

static void
end_pass(ht_db *db, int64_t now, int64_t every_ms, int failed)
{
    ht_err err;

    if (ht_store_task_retention_unlock(db, &err) != HT_OK)
        HT_LOG_WARN("retention.unlock_failed", "detail=\"%s\"", err.detail);
    if (!failed) {
        HT_LOG_INFO("retention", "deleted=%" PRId64 " events=%" PRId64 " batches=%d"
                    " ms=%" PRId64 " busy_ms=%" PRId64,
                    st.tasks, st.events, st.batches, now - st.began_ms, st.busy_ms);
        wk_metrics_retention(st.tasks, st.events);
    }
    st.active = 0;
    st.next_ms = now + every_ms;
}

void
wk_retention_tick(const ht_cfg *cfg, ht_db *db, wk_claim_gate *gate)
{
    int64_t now, t0, n = 0, every_ms;
    ht_err  err;
    int     rc;

    if (cfg->retention_s <= 0)
        return;
    now = ht_now_mono_ms();
    every_ms = cfg->retention_every_s * 1000;
    if (st.next_ms == 0) {
        /* Spread the processes' first tries over the first second or so;
         * the lock makes one of them win anyway. */
        int64_t first = (getpid() % 16) * 100;
        st.next_ms = now + (first < every_ms ? first : every_ms);
    }
    if (now < st.next_ms)
        return;
    if (!st.active) {
        int got = 0;
        if (!take_turn(gate, now, every_ms))
            return;
        if (ht_store_task_retention_lock(db, &got, &err) != HT_OK) {
            HT_LOG_DEBUG("retention.lock_failed", "detail=\"%s\"", err.detail);
            st.next_ms = now + every_ms;
            return;
        }
        if (!got) {
            /* Another process of the fleet is at it. */
            st.next_ms = now + every_ms;
            return;
        }
        st.active = 1;
        st.phase = PHASE_TASKS;
        st.began_ms = now;
        st.busy_ms = 0;
        st.tasks = st.events = 0;
        st.batches = 0;
    }
    t0 = ht_now_mono_ms();
    if (st.phase == PHASE_TASKS)
        rc = ht_store_task_retention_tasks(db, cfg->retention_s, cfg->retention_batch,
                                           &n, &err);
    else
        rc = ht_store_task_retention_events(db, cfg->retention_s, cfg->retention_batch,
                                            &n, &err);
    now = ht_now_mono_ms();
    st.busy_ms += now - t0;
    st.batches++;
    if (rc != HT_OK) {
        HT_LOG_WARN("retention.failed", "what=%s deleted=%" PRId64 " events=%" PRId64
                    " detail=\"%s\"", st.phase == PHASE_TASKS ? "tasks" : "events",
                    st.tasks, st.events, err.detail);
        end_pass(db, now, every_ms, 1);
        return;
    }
    if (st.phase == PHASE_TASKS)
        st.tasks += n;
    else
        st.events += n;
    if (n < cfg->retention_batch)
        st.phase++;
    if (st.phase == PHASE_DONE)
        end_pass(db, now, every_ms, 0);
    else
        st.next_ms = now + WK_RETENTION_PAUSE_MS;
}

int
wk_retention_wait_ms(const ht_cfg *cfg, int idle_ms)
{
    int64_t left;

    if (cfg->retention_s <= 0 || st.next_ms == 0)
        return idle_ms;
    left = st.next_ms - ht_now_mono_ms();
    if (left < 1)
        left = 1;
    return left < idle_ms ? (int) left : idle_ms;
}

/*
 * worker/batch.h - a worker process's local queue of claimed tasks and its
 * buffer of finished ones.
 *
 * Claiming and finishing one task per round trip caps a PostgreSQL queue at
 * a few thousand jobs a second on a small machine.  So a worker process
 * claims several queued tasks in one statement and writes the final status
 * of several in one statement.  Each task keeps its own lease and attempt
 * number, so fencing, rescue and cancel work exactly as for one task.
 *
 * The batch adapts: it starts at one task and doubles while jobs are quick,
 * and drops back to one as soon as a job is slow.  Tasks still waiting
 * behind a job that has run for a while are handed back to the queue for
 * other workers, and buffered finishes are written within a few
 * milliseconds, so batching costs no latency when the queue is short.
 */
#ifndef WK_BATCH_H
#define WK_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/db.h"
#include "common/store_task.h"
#include "worker/claim_gate.h"

#define WK_BATCH_MAX 256
/* Results larger than this are written on their own, not buffered. */
#define WK_BATCH_MAX_RESULT 65536

typedef struct wk_batch {
    const ht_cfg *cfg;
    ht_db        *db;
    wk_claim_gate *gate;       /* may be NULL */
    ht_arena     *claims_arena;
    ht_claim     *claims;      /* the local queue */
    int           n_claims, next;
    int           want;        /* how many to claim next time */
    ht_arena     *done_arena;
    ht_attempt    done[WK_BATCH_MAX];
    size_t        n_done;
    int64_t       first_done_ms;
    int64_t       analyze_due;  /* next ANALYZE, when the gate has no shared memory */
} wk_batch;

void wk_batch_init(wk_batch *b, const ht_cfg *cfg, ht_db *db,
                   wk_claim_gate *gate);
void wk_batch_fini(wk_batch *b);

/* Claims more tasks when the local queue is empty.  HT_OK, HT_ENOTFOUND
 * when nothing is queued, or a database error. */
int wk_batch_fill(wk_batch *b, const char *const *graphs, int n_graphs,
                  const char *server, ht_err *err);
/* The next claimed task to run (borrowed until the next fill), or NULL. */
const ht_claim *wk_batch_next(wk_batch *b);
/* Claimed tasks not started yet. */
int wk_batch_waiting(const wk_batch *b);

/* Tells the batch how long the last job ran, to size the next claim. */
void wk_batch_job_took(wk_batch *b, int64_t ms);

/* Buffers a final write (the result is copied).  Writes the buffer when it
 * is full. */
void wk_batch_finish(wk_batch *b, const ht_attempt *t);
/* Writes buffered finishes now. */
void wk_batch_flush(wk_batch *b);
/* Writes buffered finishes older than a few milliseconds. */
void wk_batch_flush_due(wk_batch *b, int64_t now_ms);

/* Extends the leases of the waiting tasks. */
void wk_batch_extend(wk_batch *b);
/* Hands the waiting tasks back to the queue (no retry counted). */
void wk_batch_release(wk_batch *b);

#endif

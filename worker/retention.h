/*
 * worker/retention.h - deleting old completed tasks and task_events, from
 * the worker processes, one at a time across the whole fleet.
 *
 * With --retention AGE, one worker process of each daemon runs a pass
 * every --retention-interval: the processes share the time of the next
 * pass (memory the supervisor maps before it forks), and the first to see
 * it due takes the turn.  Across daemons, a fleet-wide advisory lock (a
 * session lock on the process's control connection) lets one pass delete
 * at a time; a daemon that finds the lock taken skips its turn.  A pass deletes in batches of at most --retention-batch rows,
 * each batch its own short autocommit statement with SKIP LOCKED, first
 * completed tasks older than AGE (oldest first), then task_events older
 * than AGE.  The process runs one batch per call of wk_retention_tick,
 * which the worker loop makes between jobs, with a pause of
 * WK_RETENTION_PAUSE_MS before the next batch: a pass never holds up a
 * claim by more than one batch, and a long backlog drains at a bounded
 * rate.  One log line per pass (evt=retention).
 *
 * The pass's state is per process and lives here.  A process that dies
 * mid-pass loses its connection and with it the lock; the next turn of
 * any process starts afresh.
 */
#ifndef WK_RETENTION_H
#define WK_RETENTION_H

#include "common/cfg.h"
#include "common/db.h"
#include "worker/claim_gate.h"

/* Pause between two batches of one pass. */
#define WK_RETENTION_PAUSE_MS 50

/* Runs the next retention step if one is due (at most one batch); cheap
 * (a clock read) when none is.  Call between jobs, on the process's control
 * connection.  One process of the daemon takes each interval's turn
 * through gate (WK_TURN_RETENTION; per process when gate is NULL, and the
 * fleet lock keeps passes apart anyway).  Does nothing unless
 * cfg->retention_s > 0. */
void wk_retention_tick(const ht_cfg *cfg, ht_db *db, wk_claim_gate *gate);

/* How long an idle process may sleep before its next retention step is
 * due: idle_ms, or less while a pass is under way. */
int wk_retention_wait_ms(const ht_cfg *cfg, int idle_ms);

#endif

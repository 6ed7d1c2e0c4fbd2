/*
 * worker/claim_gate.h - lets one worker process of a daemon claim at a time.
 *
 * When many processes of one host claim at once, their claim statements
 * scan the same head of the queue and trip over each other's row locks
 * (SKIP LOCKED skips them, but every skip costs).  A process-shared mutex,
 * made by the supervisor before it forks, takes turns instead: a claim is a
 * millisecond, so waiting for it is cheaper than colliding in PostgreSQL.
 * It is only an optimisation: a process that cannot get the gate within a
 * short wait (its holder stopped with SIGSTOP, say) claims anyway, and a
 * holder that dies leaves the mutex to the next process (robust mutex).
 */
#ifndef WK_CLAIM_GATE_H
#define WK_CLAIM_GATE_H

#include <stdint.h>

typedef struct wk_claim_gate wk_claim_gate;

/* Shared memory for the gate; NULL if it could not be made (claims then go
 * ungated).  Call before fork; the children inherit it. */
wk_claim_gate *wk_claim_gate_new(void);
void           wk_claim_gate_free(wk_claim_gate *g);

/* Waits up to a few milliseconds for the gate; returns 1 when taken (then
 * call wk_claim_gate_leave), 0 when going ahead without it. */
int  wk_claim_gate_enter(wk_claim_gate *g);
void wk_claim_gate_leave(wk_claim_gate *g);

/* Returns 1 when the caller should run the daemon's next ANALYZE (the last
 * one, by any of its processes, is every_ms old or there was none) and
 * records now_ms as its time; 0 otherwise.  Without shared memory (g NULL)
 * *last_ms keeps the time per process instead.  CLOCK_MONOTONIC is shared
 * by the processes of one host, so the times compare. */
int wk_claim_gate_analyze_turn(wk_claim_gate *g, int64_t *last_ms,
                               int64_t now_ms, int64_t every_ms);

#endif

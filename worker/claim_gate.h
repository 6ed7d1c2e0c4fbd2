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
 *
 * The same shared memory holds the daemon's turns: work that one process
 * of the daemon does per interval (ANALYZE after a burst, a retention
 * pass), taken by whichever process gets there first.
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

/* Work one process of the daemon does per interval, whichever comes first. */
typedef enum { WK_TURN_ANALYZE, WK_TURN_RETENTION, WK_TURN_COUNT } wk_turn;

/* Returns 1 when the caller takes the daemon's turn of this kind (it is
 * due: the last one was taken every_ms ago, or none was) and makes the
 * next one due every_ms from now_ms; 0 otherwise, with *next_ms (if not
 * NULL) the time the next one is due.  Without shared memory (g NULL) the
 * turn is per process and *local_due keeps its due time.  Times are
 * CLOCK_MONOTONIC ms, one clock for every process of a host. */
int wk_claim_gate_turn(wk_claim_gate *g, wk_turn which, int64_t *local_due,
                       int64_t now_ms, int64_t every_ms, int64_t *next_ms);

#endif

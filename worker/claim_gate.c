/*
 * worker/claim_gate.c - the claim gate (see claim_gate.h).
 */
#include "worker/claim_gate.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"

/* How long a process waits for the gate before claiming without it. */
#define GATE_WAIT_MS 50

struct wk_claim_gate {
    pthread_mutex_t  mu;
    _Atomic int64_t  due[WK_TURN_COUNT]; /* next turn of each kind, mono ms */
};

wk_claim_gate *
wk_claim_gate_new(void)
{
    pthread_mutexattr_t attr;
    wk_claim_gate      *g;

    g = mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
             -1, 0);
    if (g == MAP_FAILED)
        return NULL;
    if (pthread_mutexattr_init(&attr) != 0) {
        (void) munmap(g, sizeof(*g));
        return NULL;
    }
    if (pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) != 0 ||
        pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) != 0 ||
        pthread_mutex_init(&g->mu, &attr) != 0) {
        (void) pthread_mutexattr_destroy(&attr);
        (void) munmap(g, sizeof(*g));
        return NULL;
    }
    (void) pthread_mutexattr_destroy(&attr);
    for (int k = 0; k < WK_TURN_COUNT; k++)
        atomic_init(&g->due[k], 0);
    return g;
}

void
wk_claim_gate_free(wk_claim_gate *g)
{
    if (g == NULL)
        return;
    (void) pthread_mutex_destroy(&g->mu);
    (void) munmap(g, sizeof(*g));
}

int
wk_claim_gate_enter(wk_claim_gate *g)
{
    struct timespec until;
    int             rc;

    if (g == NULL || clock_gettime(CLOCK_REALTIME, &until) != 0)
        return 0;
    until.tv_nsec += GATE_WAIT_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    rc = pthread_mutex_timedlock(&g->mu, &until);
    if (rc == EOWNERDEAD) {
        /* Its holder died mid-claim; the gate guards no data, so it is
         * consistent as it is. */
        (void) pthread_mutex_consistent(&g->mu);
        rc = 0;
    }
    return rc == 0;
}

void
wk_claim_gate_leave(wk_claim_gate *g)
{
    if (g != NULL && pthread_mutex_unlock(&g->mu) != 0)
        HT_LOG_WARN("worker.gate_unlock_failed", "");
}

int
wk_claim_gate_turn(wk_claim_gate *g, wk_turn which, int64_t *local_due,
                   int64_t now_ms, int64_t every_ms, int64_t *next_ms)
{
    int64_t due;

    HT_ASSERT(which >= 0 && which < WK_TURN_COUNT);
    if (g == NULL) {
        if (now_ms < *local_due) {
            if (next_ms != NULL)
                *next_ms = *local_due;
            return 0;
        }
        *local_due = now_ms + every_ms;
        return 1;
    }
    due = atomic_load(&g->due[which]);
    /* Of the processes that saw the same due time, one wins the swap. */
    if (due <= now_ms &&
        atomic_compare_exchange_strong(&g->due[which], &due, now_ms + every_ms))
        return 1;
    if (next_ms != NULL)
        *next_ms = atomic_load(&g->due[which]);
    return 0;
}

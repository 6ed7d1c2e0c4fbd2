/*
 * worker/metrics.h - the worker daemon's counters, shared by its processes.
 *
 * The supervisor maps one MAP_SHARED anonymous page set before it forks the
 * first worker process (wk_metrics_init); every worker process, including
 * replacements forked later, inherits the mapping and the process-wide
 * pointer to it, and bumps counters with C11 atomics (relaxed: each counter
 * is independent, and a scrape may see one job's counters half-updated,
 * which Prometheus tolerates).  Counters survive the death of the process
 * that bumped them, so a killed worker loses none of its history.
 *
 * The hooks are no-ops until wk_metrics_init succeeds (and in processes
 * that never call it, e.g. unit tests), so the worker code calls them
 * unconditionally.  Nothing here allocates or locks: a hook is one or two
 * atomic adds.
 *
 * Rendering (Prometheus text format 0.0.4) works on a plain snapshot, so it
 * is pure and unit-tested.  Not here: the HTTP side (metrics_http.c) and the
 * supervisor's gauges, which pool.c passes in.
 */
#ifndef WK_METRICS_H
#define WK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/store_task.h"
#include "common/task.h"

/* Upper bounds of the run-time histogram, in microseconds (1 ms .. 1 h),
 * and of the claim-batch-size histogram (tasks per claim statement). */
#define WK_RUN_BUCKETS_US                                                  \
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,         \
    1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 300000000,    \
    900000000, 1800000000, 3600000000
#define WK_N_RUN_BUCKETS   19
#define WK_CLAIM_BUCKETS   1, 2, 4, 8, 16, 32, 64, 128, 256
#define WK_N_CLAIM_BUCKETS 9

/* Final statuses a worker writes, as counter indexes. */
enum { WK_OUT_SUCCESS, WK_OUT_FAILED, WK_OUT_CANCELLED, WK_N_OUTCOMES };

/* A plain copy of the shared counters (see wk_metrics_snapshot).  Bucket
 * arrays are per bucket (not cumulative); the last slot is +Inf. */
typedef struct wk_metrics_snap {
    uint64_t finished[WK_N_OUTCOMES]; /* final writes, by status written */
    uint64_t fenced;                  /* final writes that matched no row */
    uint64_t run_bucket[WK_N_RUN_BUCKETS + 1];
    uint64_t run_count;
    uint64_t run_sum_us;
    uint64_t claims;                  /* claim statements that got tasks */
    uint64_t claimed;                 /* tasks they got */
    uint64_t claim_bucket[WK_N_CLAIM_BUCKETS + 1];
    uint64_t retried;                 /* claims of tasks with retries > 0 */
    uint64_t rescued;                 /* expired leases moved by our rescue */
    uint64_t retention_passes;
    uint64_t retention_tasks;         /* completed tasks deleted */
    uint64_t retention_events;        /* task_events rows deleted */
} wk_metrics_snap;

/* What the supervisor knows itself. */
typedef struct wk_pool_gauges {
    int      alive;       /* worker processes running now */
    int      configured;  /* --workers */
    uint64_t restarts;    /* worker processes re-forked after a death */
    int64_t  started_ms;  /* supervisor start, epoch ms */
} wk_pool_gauges;

/* Maps the shared counters; call in the supervisor before the first fork.
 * 0, or -1 when mmap failed (the daemon then runs without counters: the
 * hooks stay no-ops and the snapshot is all zero). */
int  wk_metrics_init(void);
/* Unmaps them (supervisor, at exit). */
void wk_metrics_fini(void);
/* Copies the counters into *out (all zero when not initialised). */
void wk_metrics_snapshot(wk_metrics_snap *out);

/* ---- hooks, called by the worker processes ---- */

/* A final write ended: written is the status it wrote (an ht_task_status:
 * success, failed or cancelled count, others are ignored), or -1 when it
 * found the task no longer ours (fenced). */
void wk_metrics_final(int written);
/* A job starts / has ended (its run time goes into the histogram). */
void wk_metrics_job_begin(void);
void wk_metrics_job_end(void);
/* A claim statement returned the n tasks of c (re-runs are those with
 * retries > 0). */
void wk_metrics_claimed(const ht_claim *c, int n);
/* The rescue moved n expired leases. */
void wk_metrics_rescued(int n);
/* A retention pass ended after deleting tasks and events rows. */
void wk_metrics_retention(int64_t tasks, int64_t events);

/* ---- rendering ---- */

/* Adds one histogram observation of us microseconds to a snapshot (the
 * bucketing the hooks use; for tests). */
void wk_metrics_snap_observe(wk_metrics_snap *s, uint64_t us);

/* Renders the Prometheus text exposition (format 0.0.4) of s and g, every
 * series labelled server="<server>" (escaped).  *out is malloc'd (caller
 * frees) and NUL-terminated, *len its length without the NUL. */
void wk_metrics_render(const wk_metrics_snap *s, const wk_pool_gauges *g,
                       const char *server, char **out, size_t *len);

#endif

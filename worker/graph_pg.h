/*
 * worker/graph_pg.h - gr_graph_ops on PostgreSQL (common/store_graph.c).
 *
 * The first write of a job opens a transaction on the job's graph
 * connection; graph.tx().commit() commits it.  What is still open when the
 * script ends is committed together with the task's final status (see
 * job_run.c), or rolled back when the job fails or is cancelled.
 */
#ifndef WK_GRAPH_PG_H
#define WK_GRAPH_PG_H

#include "common/db.h"
#include "worker/gremlin/gremlin.h"

typedef struct wk_graph_pg {
    ht_db      *db;
    const char *graph;
} wk_graph_pg;

extern const gr_graph_ops wk_graph_pg_ops;

#endif

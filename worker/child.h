/*
 * worker/child.h - the life of one worker process.
 */
#ifndef WK_CHILD_H
#define WK_CHILD_H

#include "common/cfg.h"

/* Runs a worker process until SIGTERM; returns its exit status.  Opens its
 * own database connections and nng socket (nothing crosses the fork). */
int wk_child_main(const ht_cfg *cfg, int slot);

#endif

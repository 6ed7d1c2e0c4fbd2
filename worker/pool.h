/*
 * worker/pool.h - the supervisor that keeps cfg->workers children alive.
 */
#ifndef WK_POOL_H
#define WK_POOL_H

#include "common/cfg.h"

/* Forks the workers and supervises them until SIGTERM/SIGINT; returns the
 * process exit status. */
int wk_pool_run(const ht_cfg *cfg);

#endif

/*
 * worker/child.h - the life of one worker process.
 */
#ifndef WK_CHILD_H
#define WK_CHILD_H

#include "common/cfg.h"
#include "worker/claim_gate.h"

/* Runs a worker process until SIGTERM; returns its exit status.  Opens its
 * own database connections and nng socket (nothing crosses the fork but
 * the claim gate, which may be NULL). */
int wk_child_main(const ht_cfg *cfg, int slot, wk_claim_gate *gate);

#endif

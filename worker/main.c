/*
 * worker/main.c - hugetask-worker: configuration, then the supervisor.
 */
#include "common/cfg.h"
#include "common/log.h"
#include "worker/pool.h"

int
main(int argc, char **argv)
{
    ht_cfg cfg;
    int    rc, lvl;

    rc = ht_cfg_load(&cfg, HT_CFG_FOR_WORKER, "hugetask-worker", argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    lvl = ht_log_level_parse(cfg.log_level);
    ht_log_init("worker", lvl < 0 ? HT_LOG_LINFO : (ht_log_level) lvl);
    rc = wk_pool_run(&cfg);
    ht_cfg_fini(&cfg);
    return rc;
}

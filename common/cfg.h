/*
 * common/cfg.h - every configuration knob of both daemons, in one table.
 *
 * Precedence: defaults < environment (HUGETASK_*, DATABASE_URL) < command
 * line.  All problems are reported at once; the caller exits 2.  After
 * ht_cfg_load the struct is read-only and passed down as const ht_cfg *.
 */
#ifndef HT_CFG_H
#define HT_CFG_H

#include <stdint.h>

/* Which program a knob belongs to. */
#define HT_CFG_FOR_API    1
#define HT_CFG_FOR_WORKER 2
#define HT_CFG_FOR_BOTH   3

typedef struct ht_cfg {
    char   *listen;          /* api: HOST:PORT */
    char   *database_url;
    char   *pub;             /* api: nng PUB endpoint it binds */
    char   *subscribe;       /* worker: comma-separated PUB endpoints */
    char   *graphs;          /* comma-separated graph names */
    char   *log_level;
    char   *server_id;       /* worker: task_server value; default host */
    int     threads;         /* api: HTTP worker threads */
    int     workers;         /* worker: processes */
    int     claim_batch;     /* worker: most tasks claimed at once */
    int     poll_ms;
    int     lease_ms;
    int     heartbeat_ms;
    int     max_retries;
    int     cancel_grace_ms;
    int     drain_ms;
    int     job_timeout_ms;  /* 0 = none */
    int64_t max_input_bytes;
    int64_t max_result_bytes;
    int64_t job_mem_limit;
    int64_t max_pending;     /* queued tasks per graph */
    /* worker: metrics endpoint and retention (issue 7) */
    char   *metrics_listen;     /* HOST:PORT of /metrics and /health; "" = off */
    int64_t retention_s;        /* age of completed tasks to delete; 0 = keep */
    int     retention_batch;    /* rows per retention statement */
    int64_t retention_every_s;  /* seconds between retention passes */
    char   *auth;            /* api: "none" or "basic" */
    int     migrate;         /* api: apply migrations and exit */
    int     print_config;
} ht_cfg;

/* Parses defaults, environment and argv for program `prog` (HT_CFG_FOR_*).
 * Returns 0 when the program should run, 1 when it printed --help or
 * --print-config and should exit 0, and 2 after printing errors. */
int ht_cfg_load(ht_cfg *cfg, int prog, const char *progname, int argc,
                char **argv);

/* Frees the strings of a loaded config. */
void ht_cfg_fini(ht_cfg *cfg);

/* Splits a comma list into at most max trimmed, non-empty items pointing
 * into buf (which it modifies).  Returns the count. */
int ht_cfg_split(char *buf, char **items, int max);

/* Checks a graph name against [A-Za-z][A-Za-z0-9_]{0,47}. */
int ht_graph_name_ok(const char *name);

#endif

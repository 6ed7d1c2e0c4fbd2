/*
 * common/cfg.c - the knob table and its parser (see cfg.h).
 *
 * Every knob is one row: flag name, environment variable, type, where it
 * lives in ht_cfg, default, bounds, which program uses it, help text.  The
 * parser, --help and --print-config all walk the same table, so they cannot
 * disagree.  getenv appears nowhere else in the code base.
 */
#include "common/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"

/* T_SECS: an int64 number of seconds, written as N or N followed by s, m,
 * h or d. */
typedef enum { T_STR, T_INT, T_I64, T_FLAG, T_SECS } opt_type;

typedef struct opt {
    const char *name;
    const char *env;
    opt_type    type;
    size_t      off;
    const char *def;
    int64_t     min, max;
    int         prog;
    int         secret;
    const char *help;
} opt;

#define F(field) offsetof(ht_cfg, field)
#define MIB      (1024LL * 1024LL)

static const opt opts[] = {
    { "listen", "HUGETASK_LISTEN", T_STR, F(listen), "127.0.0.1:8080", 0, 0,
      HT_CFG_FOR_API, 0, "HTTP address to listen on (HOST:PORT)" },
    { "database-url", "DATABASE_URL", T_STR, F(database_url), "", 0, 0,
      HT_CFG_FOR_BOTH, 1, "PostgreSQL connection URL (required)" },
    { "pub", "HUGETASK_PUB", T_STR, F(pub), "tcp://127.0.0.1:28080", 0, 0,
      HT_CFG_FOR_API, 0, "nng PUB endpoint the API binds for job/cancel hints" },
    { "subscribe", "HUGETASK_SUBSCRIBE", T_STR, F(subscribe),
      "tcp://127.0.0.1:28080", 0, 0, HT_CFG_FOR_WORKER, 0,
      "comma-separated PUB endpoints of every API process" },
    { "graphs", "HUGETASK_GRAPHS", T_STR, F(graphs), "hugegraph", 0, 0,
      HT_CFG_FOR_BOTH, 0, "comma-separated graph names served" },
    { "log-level", "HUGETASK_LOG_LEVEL", T_STR, F(log_level), "info", 0, 0,
      HT_CFG_FOR_BOTH, 0, "debug, info, warn or error" },
    { "server-id", "HUGETASK_SERVER_ID", T_STR, F(server_id), "", 0, 0,
      HT_CFG_FOR_WORKER, 0, "name written to task_server (default: host name)" },
    { "threads", "HUGETASK_THREADS", T_INT, F(threads), "128", 2, 1024,
      HT_CFG_FOR_API, 0,
      "HTTP worker threads; each serves one open connection at a time, and an idle keep-alive connection holds its thread for up to 5 s" },
    { "workers", "HUGETASK_WORKERS", T_INT, F(workers), "4", 1, 256,
      HT_CFG_FOR_WORKER, 0, "worker processes, each runs one job at a time" },
    { "claim-batch", "HUGETASK_CLAIM_BATCH", T_INT, F(claim_batch), "256", 1,
      256, HT_CFG_FOR_WORKER, 0,
      "most queued tasks a worker process claims at once while jobs are quick" },
    { "poll-ms", "HUGETASK_POLL_MS", T_INT, F(poll_ms), "1000", 10, 60000,
      HT_CFG_FOR_WORKER, 0, "how often an idle worker polls for queued tasks" },
    { "lease-ms", "HUGETASK_LEASE_MS", T_INT, F(lease_ms), "10000", 100,
      3600000, HT_CFG_FOR_WORKER, 0,
      "lease of a running task; expired leases are re-queued" },
    { "heartbeat-ms", "HUGETASK_HEARTBEAT_MS", T_INT, F(heartbeat_ms), "1000",
      20, 600000, HT_CFG_FOR_WORKER, 0,
      "how often a running task's lease, progress and status are refreshed" },
    { "max-retries", "HUGETASK_MAX_RETRIES", T_INT, F(max_retries), "3", 0,
      100, HT_CFG_FOR_BOTH, 0, "re-runs after a lost worker before failing" },
    { "cancel-grace-ms", "HUGETASK_CANCEL_GRACE_MS", T_INT,
      F(cancel_grace_ms), "3000", 0, 600000, HT_CFG_FOR_WORKER, 0,
      "time a cancelled script gets to stop before it is killed" },
    { "drain-ms", "HUGETASK_DRAIN_MS", T_INT, F(drain_ms), "10000", 0,
      3600000, HT_CFG_FOR_WORKER, 0,
      "on SIGTERM, time running jobs get to finish before they are handed back" },
    { "job-timeout-ms", "HUGETASK_JOB_TIMEOUT_MS", T_INT, F(job_timeout_ms),
      "0", 0, 2147483647, HT_CFG_FOR_WORKER, 0,
      "wall-clock limit of one job (0 = none)" },
    { "max-input-bytes", "HUGETASK_MAX_INPUT_BYTES", T_I64,
      F(max_input_bytes), "16777216", 1024, 1024 * MIB, HT_CFG_FOR_API, 0,
      "largest request body accepted" },
    { "max-result-bytes", "HUGETASK_MAX_RESULT_BYTES", T_I64,
      F(max_result_bytes), "16777216", 16, 1024 * MIB, HT_CFG_FOR_WORKER, 0,
      "largest task_result a job may write" },
    { "job-mem-limit", "HUGETASK_JOB_MEM_LIMIT", T_I64, F(job_mem_limit),
      "268435456", MIB, 64 * 1024 * MIB, HT_CFG_FOR_WORKER, 0,
      "memory one job's interpreter may use, in bytes" },
    { "max-pending", "HUGETASK_MAX_PENDING", T_I64, F(max_pending), "100000",
      1, 1000000000, HT_CFG_FOR_API, 0, "queued tasks allowed per graph" },
    /* worker: metrics endpoint and retention (issue 7) */
    { "metrics-listen", "HUGETASK_METRICS_LISTEN", T_STR, F(metrics_listen), "",
      0, 0, HT_CFG_FOR_WORKER, 0,
      "HOST:PORT where the supervisor serves GET /metrics and /health (empty = off)" },
    { "retention", "HUGETASK_RETENTION", T_SECS, F(retention_s), "0", 0,
      100LL * 365 * 86400, HT_CFG_FOR_WORKER, 0,
      "delete completed tasks and task_events older than this (seconds, or N with s, m, h or d; 0 = keep forever)" },
    { "retention-batch", "HUGETASK_RETENTION_BATCH", T_INT, F(retention_batch),
      "1000", 1, 100000, HT_CFG_FOR_WORKER, 0,
      "most rows one retention statement deletes (each batch is its own short transaction)" },
    { "retention-interval", "HUGETASK_RETENTION_INTERVAL", T_SECS,
      F(retention_every_s), "60", 1, 7LL * 86400, HT_CFG_FOR_WORKER, 0,
      "time between retention passes of each worker daemon (seconds, or N with s, m, h or d)" },
    /* api: auth (issue 7) */
    { "auth", "HUGETASK_AUTH", T_STR, F(auth), "none", 0, 0, HT_CFG_FOR_API, 0,
      "none, or basic: HTTP basic auth against the users table (see hugetask-api user add); every route but /health and /versions needs it, /metrics included (give Prometheus basic_auth)" },
    { "migrate", NULL, T_FLAG, F(migrate), "0", 0, 1, HT_CFG_FOR_API, 0,
      "apply the sql/ migrations and exit" },
    { "print-config", NULL, T_FLAG, F(print_config), "0", 0, 1,
      HT_CFG_FOR_BOTH, 0, "print the effective configuration and exit" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* "90", "90s", "15m", "2h", "30d" -> seconds.  0, or -1 on junk or
 * overflow. */
static int
parse_secs(const char *val, int64_t *out)
{
    char    num[32];
    size_t  n = strlen(val);
    int64_t unit = 1, v;

    if (n == 0 || n >= sizeof(num))
        return -1;
    switch (val[n - 1]) {
    case 's': unit = 1; n--; break;
    case 'm': unit = 60; n--; break;
    case 'h': unit = 3600; n--; break;
    case 'd': unit = 86400; n--; break;
    default: break;
    }
    memcpy(num, val, n);
    num[n] = '\0';
    if (ht_parse_i64(num, &v) != 0 || v < 0 || v > INT64_MAX / unit)
        return -1;
    *out = v * unit;
    return 0;
}

static int
set_value(ht_cfg *cfg, const opt *o, const char *val, const char *origin)
{
    char   *base = (char *) cfg + o->off;
    int64_t v;

    switch (o->type) {
    case T_STR: {
        char **slot = (char **) (void *) base;
        free(*slot);
        *slot = ht_xstrdup(val);
        return 0;
    }
    case T_FLAG:
        *(int *) (void *) base = 1;
        return 0;
    case T_SECS:
        if (parse_secs(val, &v) != 0 || v < o->min || v > o->max) {
            fprintf(stderr,
                    "invalid value \"%s\" for %s (from %s): expected seconds from "
                    "%lld to %lld, as N or N followed by s, m, h or d\n",
                    val, o->name, origin, (long long) o->min, (long long) o->max);
            return -1;
        }
        *(int64_t *) (void *) base = v;
        return 0;
    case T_INT:
    case T_I64:
        if (ht_parse_i64(val, &v) != 0 || v < o->min || v > o->max) {
            fprintf(stderr,
                    "invalid value \"%s\" for %s (from %s): expected an integer "
                    "from %lld to %lld\n",
                    val, o->name, origin, (long long) o->min, (long long) o->max);
            return -1;
        }
        if (o->type == T_INT)
            *(int *) (void *) base = (int) v;
        else
            *(int64_t *) (void *) base = v;
        return 0;
    }
    return -1;
}

static void
print_help(int prog, const char *progname)
{
    printf("usage: %s [options]\n\nOptions (flag, environment variable, default):\n",
           progname);
    for (size_t i = 0; i < NOPTS; i++) {
        const opt *o = &opts[i];
        if (!(o->prog & prog))
            continue;
        printf("  --%s%s\n      %s", o->name, o->type == T_FLAG ? "" : " VALUE",
               o->help);
        if (o->env != NULL)
            printf("\n      env %s", o->env);
        if (o->type != T_FLAG)
            printf(", default \"%s\"", o->def);
        printf("\n");
    }
    printf("  --help\n      this text\n");
}

static void
print_config(const ht_cfg *cfg, int prog)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const opt  *o = &opts[i];
        const char *base = (const char *) cfg + o->off;
        if (!(o->prog & prog) || o->type == T_FLAG)
            continue;
        if (o->type == T_STR) {
            const char *s = *(char *const *) (const void *) base;
            printf("%s=%s\n", o->name, o->secret && s[0] ? "********" : s);
        } else if (o->type == T_INT) {
            printf("%s=%d\n", o->name, *(const int *) (const void *) base);
        } else {
            printf("%s=%lld\n", o->name,
                   (long long) *(const int64_t *) (const void *) base);
        }
    }
}

int
ht_cfg_load(ht_cfg *cfg, int prog, const char *progname, int argc, char **argv)
{
    int bad = 0;

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].type != T_FLAG && set_value(cfg, &opts[i], opts[i].def, "default") != 0)
            bad = 1;
    for (size_t i = 0; i < NOPTS; i++) {
        const char *v;
        if (opts[i].env == NULL || !(opts[i].prog & prog))
            continue;
        v = getenv(opts[i].env);
        if (v != NULL && *v != '\0' && set_value(cfg, &opts[i], v, opts[i].env) != 0)
            bad = 1;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        const char *eq;
        size_t      len;
        const opt  *o = NULL;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_help(prog, progname);
            ht_cfg_fini(cfg);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "%s: unexpected argument \"%s\"\n", progname, arg);
            bad = 1;
            continue;
        }
        arg += 2;
        eq = strchr(arg, '=');
        len = eq ? (size_t) (eq - arg) : strlen(arg);
        for (size_t i = 0; i < NOPTS; i++)
            if ((opts[i].prog & prog) && strlen(opts[i].name) == len &&
                strncmp(opts[i].name, arg, len) == 0)
                o = &opts[i];
        if (o == NULL) {
            fprintf(stderr, "%s: unknown option \"--%.*s\" (see --help)\n",
                    progname, (int) len, arg);
            bad = 1;
            continue;
        }
        if (o->type == T_FLAG) {
            if (eq != NULL) {
                fprintf(stderr, "%s: --%s takes no value\n", progname, o->name);
                bad = 1;
            } else {
                (void) set_value(cfg, o, "1", "command line");
            }
            continue;
        }
        if (eq == NULL && a + 1 >= argc) {
            fprintf(stderr, "%s: --%s needs a value\n", progname, o->name);
            bad = 1;
            continue;
        }
        if (set_value(cfg, o, eq ? eq + 1 : argv[++a], "command line") != 0)
            bad = 1;
    }
    if (!bad && cfg->database_url[0] == '\0' && !cfg->print_config) {
        fprintf(stderr, "%s: --database-url (or DATABASE_URL) is required\n", progname);
        bad = 1;
    }
    if (!bad) {
        char  buf[1024];
        char *items[64];
        int   n;
        (void) snprintf(buf, sizeof(buf), "%s", cfg->graphs);
        n = ht_cfg_split(buf, items, 64);
        if (n == 0) {
            fprintf(stderr, "%s: --graphs names no graph\n", progname);
            bad = 1;
        }
        for (int i = 0; i < n; i++) {
            if (!ht_graph_name_ok(items[i])) {
                fprintf(stderr,
                        "%s: invalid graph name \"%s\": expected "
                        "[A-Za-z][A-Za-z0-9_]{0,47}\n", progname, items[i]);
                bad = 1;
            }
            for (int j = 0; j < i; j++)
                if (strcmp(items[i], items[j]) == 0) {
                    fprintf(stderr, "%s: graph \"%s\" is listed twice in --graphs\n",
                            progname, items[i]);
                    bad = 1;
                }
        }
        if (strcasecmp(cfg->auth, "none") != 0 && strcasecmp(cfg->auth, "basic") != 0) {
            fprintf(stderr, "%s: invalid --auth \"%s\": expected none or basic\n",
                    progname, cfg->auth);
            bad = 1;
        }
        if (ht_log_level_parse(cfg->log_level) < 0) {
            fprintf(stderr, "%s: invalid --log-level \"%s\": expected debug, info, "
                    "warn or error\n", progname, cfg->log_level);
            bad = 1;
        }
    }
    if (bad) {
        ht_cfg_fini(cfg);
        return 2;
    }
    if (cfg->print_config) {
        print_config(cfg, prog);
        ht_cfg_fini(cfg);
        return 1;
    }
    return 0;
}

void
ht_cfg_fini(ht_cfg *cfg)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].type == T_STR) {
            char **slot = (char **) (void *) ((char *) cfg + opts[i].off);
            free(*slot);
            *slot = NULL;
        }
}

int
ht_cfg_split(char *buf, char **items, int max)
{
    int   n = 0;
    char *save = NULL;

    for (char *tok = strtok_r(buf, ",", &save); tok != NULL && n < max;
         tok = strtok_r(NULL, ",", &save)) {
        char *end;
        while (isspace((unsigned char) *tok))
            tok++;
        end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char) end[-1]))
            *--end = '\0';
        if (*tok != '\0')
            items[n++] = tok;
    }
    return n;
}

int
ht_graph_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 48 || !isalpha((unsigned char) name[0]))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char) name[i]) && name[i] != '_')
            return 0;
    return 1;
}

/*
 * api-server/main.c - hugetask-api: configuration, migrations, the PUB
 * socket, the HTTP server, and an orderly stop on SIGINT/SIGTERM.
 *
 * Startup applies the migrations (so a fresh database just works) and makes
 * sure every configured graph has its id sequence.  If PostgreSQL is not up
 * yet it keeps retrying for a while instead of giving up at once.
 * `hugetask-api user ...` is the users command instead (users_cmd.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api-server/api.h"
#include "api-server/auth.h"
#include "api-server/http_server.h"
#include "api-server/metrics.h"
#include "api-server/users_cmd.h"
#include "common/log.h"
#include "common/migrate.h"
#include "common/store_task.h"
#include "common/util.h"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    (void) sig;
    stop_requested = 1;
}

/* Migrations and graph sequences; retries while the database is starting. */
static int
prepare_database(const ht_cfg *cfg, char **graphs, int n)
{
    ht_err err;

    for (int attempt = 0;; attempt++) {
        ht_db *db = ht_db_open(cfg->database_url, "hugetask-api", 1, &err);
        int    applied = 0;
        int    rc = db ? ht_migrate(db, &applied, &err) : err.code;

        for (int i = 0; rc == HT_OK && i < n; i++)
            rc = ht_store_graph_ensure(db, graphs[i], &err);
        ht_db_close(db);
        if (rc == HT_OK) {
            HT_LOG_INFO("db.ready", "migrations_applied=%d graphs=%d", applied, n);
            return 0;
        }
        if (rc != HT_EUNAVAIL || attempt >= 60 || stop_requested) {
            HT_LOG_ERROR("db.prepare_failed", "msg=\"%s\" detail=\"%s\"", err.msg,
                         err.detail);
            return -1;
        }
        if (attempt == 0)
            HT_LOG_WARN("db.waiting", "detail=\"%s\"", err.detail);
        sleep(1);
    }
}

int
main(int argc, char **argv)
{
    ht_cfg           cfg;
    api_ctx          ctx = { 0 };
    api_http        *http = NULL;
    ht_err           err;
    char            *graph_buf;
    char            *graphs[64];
    struct sigaction sa;
    sigset_t         stop_set, old_set;
    int              rc, lvl, mode, status = 1;

    if (argc >= 2 && strcmp(argv[1], "user") == 0)
        return api_users_cmd("hugetask-api", argc - 1, argv + 1);
    rc = ht_cfg_load(&cfg, HT_CFG_FOR_API, "hugetask-api", argc, argv);
    if (rc == 1) {
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                api_users_cmd_help(stdout, "hugetask-api");
                break;
            }
        return 0;
    }
    if (rc != 0)
        return 2;
    lvl = ht_log_level_parse(cfg.log_level);
    ht_log_init("api", lvl < 0 ? HT_LOG_LINFO : (ht_log_level) lvl);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
        perror("sigaction");
        ht_cfg_fini(&cfg);
        return 1;
    }
    sa.sa_handler = SIG_IGN;
    (void) sigaction(SIGPIPE, &sa, NULL);

    graph_buf = ht_xstrdup(cfg.graphs);
    ctx.cfg = &cfg;
    ctx.graphs = graphs;
    ctx.n_graphs = ht_cfg_split(graph_buf, graphs, 64);
    ctx.state = ht_xcalloc((size_t) ctx.n_graphs, sizeof(*ctx.state));
    for (int i = 0; i < ctx.n_graphs; i++)
        HT_ASSERT(pthread_mutex_init(&ctx.state[i].lock, NULL) == 0);

    if (prepare_database(&cfg, graphs, ctx.n_graphs) != 0)
        goto cleanup;
    if (cfg.migrate) {
        status = 0;
        goto cleanup;
    }
    ctx.metrics = api_metrics_new();
    mode = api_auth_mode_parse(cfg.auth);
    ctx.auth = api_auth_new(mode < 0 ? API_AUTH_NONE : mode, ctx.metrics, &err);
    if (ctx.auth == NULL) {
        HT_LOG_ERROR("auth.init_failed", "msg=\"%s\"", err.msg);
        goto cleanup;
    }
    /* Threads (nng's, civetweb's) inherit a mask with the stop signals
     * blocked, so only this thread takes them, inside sigsuspend. */
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &stop_set, &old_set) != 0) {
        perror("sigprocmask");
        goto cleanup;
    }
    ctx.pub = ht_pub_open(cfg.pub, &err);
    if (ctx.pub == NULL) {
        HT_LOG_ERROR("bus.open_failed", "url=%s msg=\"%s\" detail=\"%s\"", cfg.pub,
                     err.msg, err.detail);
        goto cleanup;
    }
    http = api_http_start(&ctx, &err);
    if (http == NULL) {
        HT_LOG_ERROR("http.start_failed", "msg=\"%s\"", err.msg);
        goto cleanup;
    }
    HT_LOG_INFO("api.ready", "listen=%s pub=%s graphs=%s threads=%d auth=%s",
                cfg.listen, cfg.pub, cfg.graphs, cfg.threads,
                api_auth_enabled(ctx.auth) ? "basic" : "none");
    while (!stop_requested)
        (void) sigsuspend(&old_set);
    HT_LOG_INFO("api.stopping", "");
    status = 0;
cleanup:
    /* In-flight requests finish inside mg_stop; only then the socket goes. */
    api_http_stop(http);
    api_auth_free(ctx.auth);
    api_metrics_free(ctx.metrics);
    if (ctx.pub != NULL) {
        ht_pub_close(ctx.pub);
        ht_bus_fini();
    }
    for (int i = 0; i < ctx.n_graphs; i++)
        (void) pthread_mutex_destroy(&ctx.state[i].lock);
    free(ctx.state);
    free(graph_buf);
    ht_cfg_fini(&cfg);
    if (status == 0)
        HT_LOG_INFO("api.stopped", "");
    return status;
}

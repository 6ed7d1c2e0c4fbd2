/*
 * worker/pool.c - the supervisor that keeps cfg->workers children alive.
 *
 * It holds no task state: PostgreSQL knows which tasks were running, so a
 * child that dies inside a script costs one retry, not the pool.  It never
 * opens the database or nng (neither is fork-safe, and it must stay up while
 * PostgreSQL is down).  Children get PR_SET_PDEATHSIG, so killing the
 * supervisor with SIGKILL takes them down too: no orphan keeps a lease
 * alive.  On SIGTERM it forwards the signal, waits for the drain, then
 * kills what is left.
 *
 * With --metrics-listen it also serves GET /metrics and /health from this
 * same loop (metrics_http.c): it starts no thread, because it forks worker
 * processes for as long as it runs, and fork in a multithreaded process is
 * unsafe.  The listening socket and the connections are nonblocking and
 * waited on by the one pselect() that also waits for signals, so a slow
 * client costs a slot in a table, never the supervision.  The counters the
 * worker processes keep live in shared memory mapped before the first fork
 * (metrics.c).  Not here: claiming (child.c), running (job_run.c).
 */
#include "worker/pool.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "worker/child.h"
#include "worker/claim_gate.h"
#include "worker/metrics.h"
#include "worker/metrics_http.h"
#include "worker/retention.h"

typedef struct slot {
    pid_t   pid;
    int64_t started_ms;
    int64_t restart_at_ms; /* backoff after a quick death */
    int     quick_deaths;
    int     ever_started;  /* a later fork of this slot is a restart */
} slot;

/* What the /metrics and /health handler reads. */
typedef struct pool_view {
    const slot *slots;
    int         n;
    uint64_t    restarts;
    int64_t     started_ms;
    char        server[128];
} pool_view;

static volatile sig_atomic_t pool_stopping;
static volatile sig_atomic_t child_exited;

static void
on_stop(int sig)
{
    (void) sig;
    pool_stopping = 1;
}

static void
on_chld(int sig)
{
    (void) sig;
    child_exited = 1;
}

static pid_t
spawn(const ht_cfg *cfg, int i, pid_t parent, wk_claim_gate *gate,
      wk_mhttp *http)
{
    pid_t pid;

    (void) fflush(NULL);
    pid = fork();
    if (pid < 0) {
        HT_LOG_ERROR("pool.fork_failed", "slot=%d errno=%d", i, errno);
        return -1;
    }
    if (pid == 0) {
        struct sigaction sa;
        sigset_t         none;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        (void) sigaction(SIGCHLD, &sa, NULL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        /* Die with the supervisor; if it is already gone, go now. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(1);
        /* The metrics sockets are the supervisor's alone. */
        wk_mhttp_forget(http);
        _exit(wk_child_main(cfg, i, gate));
    }
    return pid;
}

/* Collects dead children; returns how many are still alive. */
static int
reap(slot *slots, int n)
{
    int   alive = 0;
    int   status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < n; i++) {
            if (slots[i].pid != pid)
                continue;
            int64_t lived = ht_now_mono_ms() - slots[i].started_ms;
            slots[i].pid = 0;
            if (!pool_stopping) {
                if (WIFSIGNALED(status))
                    HT_LOG_WARN("pool.child_died", "slot=%d pid=%d signal=%d",
                                i, (int) pid, WTERMSIG(status));
                else
                    HT_LOG_WARN("pool.child_exited", "slot=%d pid=%d status=%d",
                                i, (int) pid, WEXITSTATUS(status));
            }
            /* A child that dies at once again and again backs off. */
            slots[i].quick_deaths = lived < 2000 ? slots[i].quick_deaths + 1 : 0;
            int64_t delay = slots[i].quick_deaths == 0 ? 0
                          : 250LL << (slots[i].quick_deaths > 5 ? 5 : slots[i].quick_deaths);
            slots[i].restart_at_ms = ht_now_mono_ms() + delay;
        }
    }
    for (int i = 0; i < n; i++)
        if (slots[i].pid > 0)
            alive++;
    return alive;
}

static void
signal_all(slot *slots, int n, int sig)
{
    for (int i = 0; i < n; i++)
        if (slots[i].pid > 0 && kill(slots[i].pid, sig) != 0 && errno != ESRCH)
            HT_LOG_WARN("pool.kill_failed", "slot=%d errno=%d", i, errno);
}

/* The supervisor's own answers: /metrics and /health. */
static void
serve_request(void *arg, const char *path, wk_mhttp_reply *r)
{
    pool_view     *v = arg;
    wk_pool_gauges g = { 0, v->n, v->restarts, v->started_ms };

    for (int i = 0; i < v->n; i++)
        if (v->slots[i].pid > 0)
            g.alive++;
    if (strcmp(path, "/metrics") == 0) {
        wk_metrics_snap snap;
        wk_metrics_snapshot(&snap);
        r->status = 200;
        r->ctype = "text/plain; version=0.0.4; charset=utf-8";
        wk_metrics_render(&snap, &g, v->server, &r->body, &r->len);
    } else if (strcmp(path, "/health") == 0) {
        char msg[96];
        int  len;
        if (g.alive > 0 && !pool_stopping) {
            r->status = 200;
            len = snprintf(msg, sizeof(msg), "ok: %d of %d worker processes alive\n",
                           g.alive, g.configured);
        } else {
            r->status = 503;
            len = snprintf(msg, sizeof(msg), "no worker process alive (%d configured)\n",
                           g.configured);
        }
        r->body = ht_xstrdup(msg);
        r->len = (size_t) len;
    } else {
        r->status = 404;
    }
}

int
wk_pool_run(const ht_cfg *cfg)
{
    int              n = cfg->workers;
    slot            *slots = ht_xcalloc((size_t) n, sizeof(*slots));
    pid_t            self = getpid();
    wk_claim_gate   *gate = NULL;
    wk_mhttp        *http = NULL;
    pool_view        view;
    struct sigaction sa;
    sigset_t         block, old;
    int64_t          deadline;
    int              rc = 1;

    memset(&view, 0, sizeof(view));
    view.slots = slots;
    view.n = n;
    view.started_ms = ht_now_epoch_ms();
    if (cfg->server_id[0] != '\0')
        (void) snprintf(view.server, sizeof(view.server), "%s", cfg->server_id);
    else if (gethostname(view.server, sizeof(view.server)) != 0)
        (void) snprintf(view.server, sizeof(view.server), "localhost");
    view.server[sizeof(view.server) - 1] = '\0';
    /* Shared memory, before any fork. */
    gate = wk_claim_gate_new();
    if (wk_metrics_init() != 0)
        HT_LOG_WARN("metrics.shm_failed", "errno=%d counters=off", errno);
    if (cfg->metrics_listen[0] != '\0') {
        ht_err err;
        char   q[256];
        if (wk_mhttp_open(cfg->metrics_listen, serve_request, &view, &http, &err) != HT_OK) {
            HT_LOG_ERROR("metrics.listen_failed", "msg=%s", ht_logq(q, sizeof(q), err.msg));
            goto cleanup;
        }
        HT_LOG_INFO("metrics.listening", "addr=%s port=%d", cfg->metrics_listen,
                    wk_mhttp_port(http));
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        goto cleanup;
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &sa, NULL) != 0)
        goto cleanup;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &block, &old) != 0)
        goto cleanup;
    HT_LOG_INFO("pool.started", "workers=%d graphs=%s subscribe=%s", n,
                cfg->graphs, cfg->subscribe);
    while (!pool_stopping) {
        int64_t now = ht_now_mono_ms();
        int64_t next = now + 1000;
        struct timespec ts;
        fd_set  rfds, wfds;
        int     maxfd = -1, ready;

        for (int i = 0; i < n; i++) {
            if (slots[i].pid != 0)
                continue;
            if (slots[i].restart_at_ms > now) {
                if (slots[i].restart_at_ms < next)
                    next = slots[i].restart_at_ms;
                continue;
            }
            slots[i].pid = spawn(cfg, i, self, gate, http);
            slots[i].started_ms = now;
            if (slots[i].pid < 0) {
                slots[i].pid = 0;
                slots[i].restart_at_ms = now + 1000;
            } else {
                if (slots[i].ever_started)
                    view.restarts++;
                slots[i].ever_started = 1;
            }
        }
        FD_ZERO(&rfds);
        FD_ZERO(&wfds);
        if (http != NULL)
            wk_mhttp_fdset(http, &rfds, &wfds, &maxfd, &next);
        /* Sleep until a signal, a metrics socket, or the next restart or
         * connection deadline; signals stay blocked outside this call, so
         * none is missed between check and wait. */
        int64_t wait = next - now;
        if (wait < 0)
            wait = 0;
        ts.tv_sec = wait / 1000;
        ts.tv_nsec = (wait % 1000) * 1000000L;
        sigset_t waitmask = old;
        sigdelset(&waitmask, SIGTERM);
        sigdelset(&waitmask, SIGINT);
        sigdelset(&waitmask, SIGCHLD);
        ready = pselect(maxfd + 1, &rfds, &wfds, NULL, &ts, &waitmask);
        child_exited = 0;
        /* Reap first, so a scrape right after a death already counts it. */
        (void) reap(slots, n);
        if (http != NULL)
            wk_mhttp_serve(http, ready > 0 ? &rfds : NULL, ready > 0 ? &wfds : NULL,
                           ht_now_mono_ms());
    }
    /* A stopping daemon is not healthy and serves nothing more. */
    wk_mhttp_close(http);
    http = NULL;
    HT_LOG_INFO("pool.stopping", "drain_ms=%d", cfg->drain_ms);
    signal_all(slots, n, SIGTERM);
    deadline = ht_now_mono_ms() + cfg->drain_ms + 5000;
    while (reap(slots, n) > 0) {
        if (ht_now_mono_ms() >= deadline) {
            HT_LOG_WARN("pool.kill_stragglers", "");
            signal_all(slots, n, SIGKILL);
            deadline = ht_now_mono_ms() + 60000;
        }
        (void) poll(NULL, 0, 20);
    }
    HT_LOG_INFO("pool.stopped", "");
    rc = 0;
cleanup:
    wk_mhttp_close(http);
    free(slots);
    wk_claim_gate_free(gate);
    wk_metrics_fini();
    return rc;
}

/*
 * worker/pool.c - the supervisor that keeps cfg->workers children alive.
 *
 * It holds no task state: PostgreSQL knows which tasks were running, so a
 * child that dies inside a script costs one retry, not the pool.  It never
 * opens the database or nng (neither is fork-safe, and it must stay up while
 * PostgreSQL is down).  Children get PR_SET_PDEATHSIG, so killing the
 * supervisor with SIGKILL takes them down too: no orphan keeps a lease
 * alive.  On SIGTERM it forwards the signal, waits for the drain, then
 * kills what is left.  Not here: claiming (child.c), running (job_run.c).
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

typedef struct slot {
    pid_t   pid;
    int64_t started_ms;
    int64_t restart_at_ms; /* backoff after a quick death */
    int     quick_deaths;
} slot;

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
spawn(const ht_cfg *cfg, int i, pid_t parent, wk_claim_gate *gate)
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

int
wk_pool_run(const ht_cfg *cfg)
{
    int              n = cfg->workers;
    slot            *slots = ht_xcalloc((size_t) n, sizeof(*slots));
    pid_t            self = getpid();
    wk_claim_gate   *gate = wk_claim_gate_new(); /* before any fork */
    struct sigaction sa;
    sigset_t         block, old;
    int64_t          deadline;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
        free(slots);
        wk_claim_gate_free(gate);
        return 1;
    }
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &sa, NULL) != 0) {
        free(slots);
        wk_claim_gate_free(gate);
        return 1;
    }
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &block, &old) != 0) {
        free(slots);
        wk_claim_gate_free(gate);
        return 1;
    }
    HT_LOG_INFO("pool.started", "workers=%d graphs=%s subscribe=%s", n,
                cfg->graphs, cfg->subscribe);
    while (!pool_stopping) {
        int64_t now = ht_now_mono_ms();
        int64_t next = now + 1000;
        struct timespec ts;

        for (int i = 0; i < n; i++) {
            if (slots[i].pid != 0)
                continue;
            if (slots[i].restart_at_ms > now) {
                if (slots[i].restart_at_ms < next)
                    next = slots[i].restart_at_ms;
                continue;
            }
            slots[i].pid = spawn(cfg, i, self, gate);
            slots[i].started_ms = now;
            if (slots[i].pid < 0) {
                slots[i].pid = 0;
                slots[i].restart_at_ms = now + 1000;
            }
        }
        /* Sleep until a signal or the next restart; signals stay blocked
         * outside this call, so none is missed between check and wait. */
        int64_t wait = next - now;
        ts.tv_sec = wait / 1000;
        ts.tv_nsec = (wait % 1000) * 1000000L;
        sigset_t waitmask = old;
        sigdelset(&waitmask, SIGTERM);
        sigdelset(&waitmask, SIGINT);
        sigdelset(&waitmask, SIGCHLD);
        (void) pselect(0, NULL, NULL, NULL, &ts, &waitmask);
        child_exited = 0;
        (void) reap(slots, n);
    }
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
    free(slots);
    wk_claim_gate_free(gate);
    HT_LOG_INFO("pool.stopped", "");
    return 0;
}

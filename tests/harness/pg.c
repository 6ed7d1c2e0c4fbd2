/*
 * tests/harness/pg.c - a private PostgreSQL cluster that a fault test can
 * stop, crash and restart under the daemons (see th_pg in harness.h).
 *
 * The postmaster is started directly (no pg_ctl), as our child in its own
 * process group, so th_proc's rules hold for it too: it dies with the test
 * process, and a kill reaches its backends.  When we are root, initdb and
 * the postmaster run as the postgres user (both refuse root), exactly as
 * deploy/lib.sh does; the settings are lib.sh's too, but TCP only (a unix
 * socket path under a deep temporary directory can exceed 107 bytes).
 * Not here: databases inside the cluster (th_stack makes its own).
 */
#include "tests/harness/harness.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_BIN "/usr/lib/postgresql/15/bin"

static void
pg_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
pg_errorf(const char *fmt, ...)
{
    va_list ap;

    fputs("harness: pg: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* The user to run PostgreSQL's programs as: postgres when root, else us. */
static const char *
pg_user(void)
{
    return geteuid() == 0 ? "postgres" : NULL;
}

static int
keep(void)
{
    const char *k = getenv("HT_TEST_KEEP");

    return k != NULL && *k != '\0' && strcmp(k, "0") != 0;
}

static void
dump_pg_log(const th_pg *pg)
{
    char buf[4096];
    size_t n;
    FILE *f = fopen(pg->proc.log_path, "r");

    if (f == NULL)
        return;
    fprintf(stderr, "===== postgres log (%s) =====\n", pg->proc.log_path);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stderr);
    fclose(f);
    fprintf(stderr, "===== end of postgres log =====\n");
}

/* Runs initdb as the cluster's user and waits for it. */
static int
run_initdb(th_pg *pg)
{
    char *argv[] = { PG_BIN "/initdb", "-D", pg->data, "-A", "trust",
                     "-U", "postgres", "--encoding=UTF8", "--locale=C",
                     "--no-instructions", "--no-sync", NULL };
    th_proc init;
    char buf[64];

    memset(&init, 0, sizeof init);
    snprintf(init.name, sizeof init.name, "initdb");
    snprintf(init.log_path, sizeof init.log_path, "%s", pg->proc.log_path);
    if (th_proc_spawn_user(&init, argv, NULL, pg_user()) != 0)
        return -1;
    if (th_proc_wait(&init, 120.0) != 0) {
        pg_errorf("initdb did not finish in time");
        th_proc_kill9(&init);
        return -1;
    }
    if (!WIFEXITED(init.status) || WEXITSTATUS(init.status) != 0) {
        pg_errorf("initdb failed: %s",
                  th_proc_status_str(&init, buf, sizeof buf));
        dump_pg_log(pg);
        return -1;
    }
    return 0;
}

th_pg *
th_pg_new(void)
{
    const char *tmp = getenv("TMPDIR");
    th_pg *pg = calloc(1, sizeof *pg);
    const char *user = pg_user();

    if (pg == NULL) {
        pg_errorf("out of memory");
        return NULL;
    }
    snprintf(pg->dir, sizeof pg->dir, "%s/ht-pg-XXXXXX",
             tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    if (mkdtemp(pg->dir) == NULL) {
        pg_errorf("could not create \"%s\": %s", pg->dir, strerror(errno));
        free(pg);
        return NULL;
    }
    if (user != NULL) {
        struct passwd *pw = getpwnam(user);

        if (pw == NULL || chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0) {
            pg_errorf("could not give \"%s\" to %s: %s", pg->dir, user,
                      pw == NULL ? "no such user" : strerror(errno));
            goto fail;
        }
    }
    snprintf(pg->data, sizeof pg->data, "%s/data", pg->dir);
    snprintf(pg->proc.name, sizeof pg->proc.name, "postgres");
    snprintf(pg->proc.log_path, sizeof pg->proc.log_path, "%s/postgres.log",
             pg->dir);
    pg->port = th_free_port();
    if (pg->port < 0 || run_initdb(pg) != 0)
        goto fail;
    snprintf(pg->url, sizeof pg->url,
             "postgresql://postgres@127.0.0.1:%d/postgres", pg->port);
    if (th_pg_start(pg) != 0)
        goto fail;
    fprintf(stderr, "harness: private PostgreSQL on port %d in %s\n",
            pg->port, pg->dir);
    return pg;
fail:
    th_pg_free(pg);
    return NULL;
}

static int
pg_ready(void *arg)
{
    th_pg *pg = arg;

    if (!th_proc_alive(&pg->proc)) {
        pg_errorf("the postmaster exited while starting");
        dump_pg_log(pg);
        return -1;
    }
    return PQping(pg->url) == PQPING_OK;
}

int
th_pg_start(th_pg *pg)
{
    char port[16];
    char *argv[] = { PG_BIN "/postgres", "-D", pg->data, "-p", port,
                     "-c", "listen_addresses=127.0.0.1",
                     "-c", "unix_socket_directories=",
                     "-c", "max_connections=300",
                     "-c", "synchronous_commit=on",
                     "-c", "fsync=on",
                     "-c", "logging_collector=off",
                     "-c", "log_line_prefix=%m [%p] %d ",
                     NULL };

    snprintf(port, sizeof port, "%d", pg->port);
    if (th_proc_spawn_user(&pg->proc, argv, NULL, pg_user()) != 0)
        return -1;
    return th_wait_until("PostgreSQL to accept connections", 60.0, 50,
                         pg_ready, pg);
}

int
th_pg_stop(th_pg *pg)
{
    if (!th_proc_alive(&pg->proc))
        return 0;
    /* SIGINT is a fast shutdown; SIGTERM (smart) would wait for the
     * daemons' connections to go. */
    if (kill(pg->proc.pid, SIGINT) != 0 && errno != ESRCH)
        pg_errorf("kill(SIGINT): %s", strerror(errno));
    if (th_proc_wait(&pg->proc, 60.0) == 0)
        return 0;
    pg_errorf("the postmaster ignored a fast shutdown: killing it");
    th_proc_kill9(&pg->proc);
    return -1;
}

void
th_pg_kill9(th_pg *pg)
{
    th_proc_kill9(&pg->proc);
}

int
th_pg_restart(th_pg *pg)
{
    if (th_pg_stop(pg) != 0)
        return -1;
    return th_pg_start(pg);
}

static void
remove_dir(const char *path)
{
    char *argv[] = { "/bin/rm", "-rf", (char *) path, NULL };
    th_proc rm;

    memset(&rm, 0, sizeof rm);
    snprintf(rm.name, sizeof rm.name, "rm");
    snprintf(rm.log_path, sizeof rm.log_path, "/dev/null");
    if (th_proc_spawn(&rm, argv, NULL) != 0 || th_proc_wait(&rm, 60.0) != 0)
        pg_errorf("could not remove \"%s\"", path);
}

void
th_pg_free(th_pg *pg)
{
    if (pg == NULL)
        return;
    (void) th_pg_stop(pg);
    if (keep()) {
        fprintf(stderr, "harness: HT_TEST_KEEP: kept %s\n", pg->dir);
    } else if (pg->dir[0] != '\0') {
        remove_dir(pg->dir);
    }
    free(pg);
}

/*
 * api-server/users_cmd.c - `hugetask-api user add|passwd|delete|list` (see
 * users_cmd.h).
 *
 * The positional words come first (user ACTION [NAME]), the options after,
 * so the knob table parses the options exactly as the daemon's.  The
 * password never reaches argv (which every local user can read in /proc),
 * the environment or a log line; its buffers are wiped after use.
 */
#include "api-server/users_cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "api-server/auth.h"
#include "common/cfg.h"
#include "common/log.h"
#include "common/migrate.h"
#include "common/store_user.h"
#include "common/util.h"

static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

/* A signal while echo is off must not leave the terminal silent. */
static void
restore_and_die(int sig)
{
    if (tty_changed)
        (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    (void) !write(STDERR_FILENO, "\n", 1);
    _exit(128 + sig);
}

/* Reads one line from stdin into buf (without its newline).  0, or -1 at
 * end of input before any byte, on a read error, a NUL byte or a line
 * longer than API_PASSWORD_MAX. */
static int
read_line(char *buf, size_t size)
{
    size_t n = 0;

    for (;;) {
        char    c;
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fprintf(stderr, "could not read the password: %s\n", strerror(errno));
            return -1;
        }
        if (r == 0 || c == '\n')
            break;
        if (c == '\0' || n + 1 >= size) {
            fprintf(stderr, "the password must be at most %d bytes, without NUL\n",
                    API_PASSWORD_MAX);
            return -1;
        }
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return 0;
}

/* Asks on the terminal with echo off. */
static int
prompt(const char *text, char *buf, size_t size)
{
    struct termios   quiet;
    struct sigaction sa, old_int, old_term;
    int              rc;

    fprintf(stderr, "%s", text);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &saved_tty) != 0) {
        fprintf(stderr, "\ncould not read the terminal settings: %s\n", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = restore_and_die;
    (void) sigaction(SIGINT, &sa, &old_int);
    (void) sigaction(SIGTERM, &sa, &old_term);
    quiet = saved_tty;
    quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHONL);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
        fprintf(stderr, "\ncould not turn echo off: %s\n", strerror(errno));
        rc = -1;
    } else {
        tty_changed = 1;
        rc = read_line(buf, size);
        (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
        tty_changed = 0;
    }
    (void) sigaction(SIGINT, &old_int, NULL);
    (void) sigaction(SIGTERM, &old_term, NULL);
    fprintf(stderr, "\n");
    return rc;
}

/* The new password: twice from a terminal, once from a pipe. */
static int
read_password(const char *name, char *buf, size_t size)
{
    char again[API_PASSWORD_MAX + 2];
    char text[128];
    int  rc = 0;

    if (isatty(STDIN_FILENO)) {
        (void) snprintf(text, sizeof(text), "Password for \"%s\": ", name);
        rc = prompt(text, buf, size);
        if (rc == 0)
            rc = prompt("Retype it: ", again, sizeof(again));
        if (rc == 0 && strcmp(buf, again) != 0) {
            fprintf(stderr, "the passwords differ\n");
            rc = -1;
        }
        explicit_bzero(again, sizeof(again));
    } else {
        rc = read_line(buf, size);
    }
    if (rc == 0 && buf[0] == '\0') {
        fprintf(stderr, "the password is empty\n");
        rc = -1;
    }
    return rc;
}

void
api_users_cmd_help(FILE *f, const char *progname)
{
    fprintf(f,
            "\nCommands (the users of --auth basic; options as above, after the words):\n"
            "  %s user add NAME      create a user; the password is read from stdin\n"
            "      (typed twice without echo on a terminal, else its first line)\n"
            "  %s user passwd NAME   set a user's password the same way\n"
            "  %s user delete NAME   remove a user\n"
            "  %s user list          list the users and when they were created\n"
            "  NAME is 1..64 of A-Z a-z 0-9 . _ @ -.  Running APIs notice a deleted\n"
            "  user or a changed password within 60 s (their verification cache).\n"
            "\nEndpoints: GET /health is always open; GET /metrics (Prometheus text)\n"
            "  needs credentials like every other route when --auth is basic, so give\n"
            "  the scraper basic_auth.\n",
            progname, progname, progname, progname);
}

static int
usage(const char *progname)
{
    fprintf(stderr, "usage: %s user add|passwd|delete NAME [options]\n"
                    "       %s user list [options]\n"
                    "(see %s --help)\n",
            progname, progname, progname);
    return 2;
}

static void
print_users(const ht_user *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        time_t    t = (time_t) (u[i].created_ms / 1000);
        struct tm tm;
        char      when[32] = "?";

        if (gmtime_r(&t, &tm) != NULL)
            (void) strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("%s\t%s\n", u[i].name, when);
    }
}

int
api_users_cmd(const char *progname, int argc, char **argv)
{
    const char *action, *name = NULL;
    char      **opt_argv = NULL;
    int         n_pos, opt_argc, rc, lvl, status = 1;
    ht_cfg      cfg;
    ht_db      *db = NULL;
    ht_err      err;
    char        password[API_PASSWORD_MAX + 2];
    char        hash[256];

    if (argc < 2)
        return usage(progname);
    action = argv[1];
    if (strcmp(action, "list") == 0) {
        n_pos = 2;
    } else if (strcmp(action, "add") == 0 || strcmp(action, "passwd") == 0 ||
               strcmp(action, "delete") == 0) {
        if (argc < 3 || strncmp(argv[2], "--", 2) == 0)
            return usage(progname);
        name = argv[2];
        n_pos = 3;
    } else {
        return usage(progname);
    }
    if (name != NULL && !api_user_name_ok(name)) {
        fprintf(stderr, "%s: invalid user name \"%s\": expected 1..64 of "
                        "A-Z a-z 0-9 . _ @ -\n", progname, name);
        return 2;
    }
    opt_argc = argc - n_pos + 1;
    opt_argv = ht_xcalloc((size_t) opt_argc + 1, sizeof(*opt_argv));
    opt_argv[0] = (char *) progname;
    for (int i = n_pos; i < argc; i++)
        opt_argv[i - n_pos + 1] = argv[i];
    rc = ht_cfg_load(&cfg, HT_CFG_FOR_API, progname, opt_argc, opt_argv);
    free(opt_argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    lvl = ht_log_level_parse(cfg.log_level);
    ht_log_init("api", lvl < 0 ? HT_LOG_LINFO : (ht_log_level) lvl);

    password[0] = '\0';
    hash[0] = '\0';
    ht_err_clear(&err);
    if (strcmp(action, "add") == 0 || strcmp(action, "passwd") == 0) {
        if (read_password(name, password, sizeof(password)) != 0)
            goto cleanup;
        rc = api_password_hash(password, hash, sizeof(hash), &err);
        explicit_bzero(password, sizeof(password));
        if (rc != HT_OK) {
            fprintf(stderr, "%s: %s\n", progname, err.msg);
            goto cleanup;
        }
    }

    db = ht_db_open(cfg.database_url, "hugetask-api user", 1, &err);
    rc = db != NULL ? ht_migrate(db, NULL, &err) : err.code;
    if (rc == HT_OK) {
        if (strcmp(action, "add") == 0) {
            rc = ht_store_user_add(db, name, hash, &err);
        } else if (strcmp(action, "passwd") == 0) {
            rc = ht_store_user_set_hash(db, name, hash, &err);
        } else if (strcmp(action, "delete") == 0) {
            rc = ht_store_user_delete(db, name, &err);
        } else {
            ht_arena *a = ht_arena_new(0, 0);
            ht_user  *users = NULL;
            size_t    n = 0;
            rc = ht_store_user_list(db, a, &users, &n, &err);
            if (rc == HT_OK)
                print_users(users, n);
            ht_arena_free(a);
        }
    }
    if (rc != HT_OK) {
        fprintf(stderr, "%s: %s%s%s\n", progname, err.msg,
                err.detail[0] ? ": " : "", err.detail);
        goto cleanup;
    }
    if (strcmp(action, "add") == 0)
        fprintf(stderr, "user \"%s\" added\n", name);
    else if (strcmp(action, "passwd") == 0)
        fprintf(stderr, "password of \"%s\" changed\n", name);
    else if (strcmp(action, "delete") == 0)
        fprintf(stderr, "user \"%s\" deleted\n", name);
    status = 0;
cleanup:
    explicit_bzero(password, sizeof(password));
    explicit_bzero(hash, sizeof(hash));
    ht_db_close(db);
    ht_cfg_fini(&cfg);
    return status;
}

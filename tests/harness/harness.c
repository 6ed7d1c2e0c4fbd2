/*
 * tests/harness/harness.c - the test stack: database, child processes,
 * deadlines, SQL and task helpers.
 *
 * A child is started in its own process group and reaped only after its
 * group has been sent SIGKILL, so a worker supervisor that exits (or is
 * killed) cannot leave worker processes behind, and the group id cannot be
 * reused while we still signal it.  Not here: the HTTP client (http.c).
 */
#include "tests/harness/harness.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define TH_MAX_ARGS 64

static void th_errorf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
th_errorf(const char *fmt, ...)
{
    va_list ap;

    fputs("harness: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* snprintf that reports truncation: 0, or -1 (with a message). */
static int fmt_into(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fmt_into(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= size) {
        th_errorf("text too long for %zu bytes: %.60s...", size, buf);
        return -1;
    }
    return 0;
}

/* ---- time ---------------------------------------------------------- */

double
th_timeout_mult(void)
{
    const char *s = getenv("HT_TEST_TIMEOUT_MULT");
    char *end;
    double m;

    if (s == NULL || *s == '\0')
        return 1.0;
    errno = 0;
    m = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(m > 0.0) || m > 1000.0)
        return 1.0;
    return m;
}

static int64_t
clock_ms(clockid_t id)
{
    struct timespec ts;

    if (clock_gettime(id, &ts) != 0) {
        th_errorf("clock_gettime failed: %s", strerror(errno));
        abort();
    }
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
th_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

int64_t
th_epoch_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

void
th_sleep_ms(int64_t ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = (time_t) (ms / 1000);
    ts.tv_nsec = (long) (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int64_t
deadline_after(double seconds)
{
    return th_mono_ms() + (int64_t) (seconds * th_timeout_mult() * 1000.0);
}

int
th_wait_until(const char *what, double seconds, int interval_ms,
              th_pred pred, void *arg)
{
    int64_t deadline = deadline_after(seconds);
    int r;

    for (;;) {
        r = pred(arg);
        if (r == 1)
            return 0;
        if (r < 0)
            return -1;
        if (th_mono_ms() >= deadline) {
            th_errorf("timed out after %.1f s waiting for %s",
                      seconds * th_timeout_mult(), what);
            return -1;
        }
        th_sleep_ms(interval_ms > 0 ? interval_ms : 10);
    }
}

/* ---- processes ----------------------------------------------------- */

/* In the child, between fork and exec.  Tests are single-threaded, so libc
 * is safe to call there; errors go to the child's log (its stderr). */
static void
child_fail(const char *what)
{
    const char *e = strerror(errno);

    (void) !write(2, "harness: child: ", 16);
    (void) !write(2, what, strlen(what));
    (void) !write(2, ": ", 2);
    (void) !write(2, e, strlen(e));
    (void) !write(2, "\n", 1);
    _exit(127);
}

int
th_proc_spawn(th_proc *p, char *const argv[], char *const env[])
{
    return th_proc_spawn_user(p, argv, env, NULL);
}

int
th_proc_spawn_user(th_proc *p, char *const argv[], char *const env[],
                   const char *user)
{
    pid_t parent = getpid();
    pid_t pid;
    uid_t uid = 0;
    gid_t gid = 0;
    int fd;

    if (user != NULL) {
        struct passwd *pw = getpwnam(user);

        if (pw == NULL) {
            th_errorf("no user '%s' to run %s as", user, p->name);
            return -1;
        }
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }

    if (p->pid != 0) {
        th_errorf("%s is already running (pid %d)", p->name, (int) p->pid);
        return -1;
    }
    fd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        th_errorf("could not open log \"%s\": %s", p->log_path,
                  strerror(errno));
        return -1;
    }
    {
        int bad = dprintf(fd, "--- harness: starting %s:", p->name) < 0;

        for (int i = 0; argv[i] != NULL; i++)
            bad |= dprintf(fd, " %s", argv[i]) < 0;
        bad |= dprintf(fd, " ---\n") < 0;
        if (bad)
            th_errorf("could not write to \"%s\": %s", p->log_path,
                      strerror(errno));
    }
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        th_errorf("could not fork for %s: %s", p->name, strerror(errno));
        close(fd);
        return -1;
    }
    if (pid == 0) {
        sigset_t none;

        if (setpgid(0, 0) != 0)
            child_fail("setpgid");
        /* Before PDEATHSIG: a change of credentials clears it. */
        if (user != NULL && (setgroups(0, NULL) != 0 || setgid(gid) != 0 ||
                             setuid(uid) != 0))
            child_fail("setuid");
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
            child_fail("prctl");
        if (getppid() != parent)
            _exit(127); /* the test died before prctl took effect */
        if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            child_fail("dup2");
        int in = open("/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0)
            child_fail("open /dev/null");
        for (int i = 3; i < 1024; i++)
            close(i);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int i = 0; env != NULL && env[i] != NULL; i++) {
            if (putenv(env[i]) != 0)
                child_fail("putenv");
        }
        execv(argv[0], argv);
        child_fail(argv[0]);
    }
    /* Also here, so the group exists before we might signal it. */
    if (setpgid(pid, pid) != 0 && errno != EACCES && errno != ESRCH)
        th_errorf("setpgid for %s: %s", p->name, strerror(errno));
    close(fd);
    p->pid = pid;
    p->status = 0;
    return 0;
}

static int
status_clean(int st)
{
    return (WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
           (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

/* Kills what is left of p's group, then reaps p (known to have exited, or
 * about to: blocking).  killing: we are killing it on purpose, so SIGKILL
 * is no crash. */
static void
proc_reap(th_proc *p, int killing)
{
    char buf[64];
    int st;

    (void) kill(-p->pid, SIGKILL);
    while (waitpid(p->pid, &st, 0) < 0) {
        if (errno != EINTR) {
            th_errorf("waitpid for %s (pid %d): %s", p->name, (int) p->pid,
                      strerror(errno));
            st = 0;
            break;
        }
    }
    p->status = st;
    p->pid = 0;
    if (!status_clean(st) && !(killing && WIFSIGNALED(st) &&
                               WTERMSIG(st) == SIGKILL)) {
        p->unclean = 1;
        th_errorf("%s ended uncleanly: %s", p->name,
                  th_proc_status_str(p, buf, sizeof buf));
    }
}

int
th_proc_alive(th_proc *p)
{
    siginfo_t si;

    if (p->pid == 0)
        return 0;
    memset(&si, 0, sizeof si);
    /* WNOWAIT: look without reaping, so the group id stays ours. */
    if (waitid(P_PID, (id_t) p->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
        th_errorf("waitid for %s (pid %d): %s", p->name, (int) p->pid,
                  strerror(errno));
        p->pid = 0;
        return 0;
    }
    if (si.si_pid == 0)
        return 1;
    proc_reap(p, 0);
    return 0;
}

int
th_proc_wait(th_proc *p, double seconds)
{
    int64_t deadline = deadline_after(seconds);

    while (th_proc_alive(p)) {
        if (th_mono_ms() >= deadline)
            return -1;
        th_sleep_ms(10);
    }
    return 0;
}

int
th_proc_stop(th_proc *p)
{
    char buf[64];

    if (!th_proc_alive(p))
        return 0;
    if (kill(p->pid, SIGTERM) != 0 && errno != ESRCH)
        th_errorf("kill(SIGTERM) %s: %s", p->name, strerror(errno));
    if (th_proc_wait(p, 10.0) == 0)
        return status_clean(p->status) ? 0 : -1;
    th_errorf("%s (pid %d) ignored SIGTERM for %.0f s: sending SIGKILL",
              p->name, (int) p->pid, 10.0 * th_timeout_mult());
    proc_reap(p, 1);
    p->unclean = 1;
    th_errorf("%s: %s", p->name, th_proc_status_str(p, buf, sizeof buf));
    return -1;
}

void
th_proc_kill9(th_proc *p)
{
    if (p->pid == 0)
        return;
    proc_reap(p, 1);
}

void
th_proc_kill9_only(th_proc *p)
{
    char buf[64];
    int st;

    if (p->pid == 0)
        return;
    if (kill(p->pid, SIGKILL) != 0 && errno != ESRCH)
        th_errorf("kill(SIGKILL) %s: %s", p->name, strerror(errno));
    while (waitpid(p->pid, &st, 0) < 0) {
        if (errno != EINTR) {
            th_errorf("waitpid for %s (pid %d): %s", p->name, (int) p->pid,
                      strerror(errno));
            st = 0;
            break;
        }
    }
    p->status = st;
    p->pid = 0;
    if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) && !status_clean(st)) {
        p->unclean = 1;
        th_errorf("%s ended uncleanly: %s", p->name,
                  th_proc_status_str(p, buf, sizeof buf));
    }
}

int
th_pid_signal(pid_t pid, int sig)
{
    if (pid <= 1) {
        th_errorf("refusing to signal pid %d", (int) pid);
        return -1;
    }
    if (kill(pid, sig) != 0) {
        th_errorf("kill(%d, %d): %s", (int) pid, sig, strerror(errno));
        return -1;
    }
    return 0;
}

int
th_pid_alive(pid_t pid)
{
    char path[64], buf[512];
    FILE *f;
    char *close_paren, state;
    int alive = 0;

    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    /* "pid (comm) S ...": the state follows the last ')'. */
    if (fgets(buf, sizeof buf, f) != NULL &&
        (close_paren = strrchr(buf, ')')) != NULL &&
        sscanf(close_paren + 1, " %c", &state) == 1)
        alive = state != 'Z' && state != 'X';
    fclose(f);
    return alive;
}

int
th_pid_children(pid_t pid, pid_t *out, int max)
{
    char path[96];
    FILE *f;
    long v;
    int n = 0;

    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) pid,
             (int) pid);
    f = fopen(path, "r");
    if (f == NULL) {
        th_errorf("could not read \"%s\": %s", path, strerror(errno));
        return -1;
    }
    while (n < max && fscanf(f, "%ld", &v) == 1)
        out[n++] = (pid_t) v;
    fclose(f);
    return n;
}

const char *
th_proc_status_str(const th_proc *p, char *buf, size_t size)
{
    if (WIFEXITED(p->status))
        snprintf(buf, size, "exit %d", WEXITSTATUS(p->status));
    else if (WIFSIGNALED(p->status))
        snprintf(buf, size, "signal %d", WTERMSIG(p->status));
    else
        snprintf(buf, size, "status 0x%x", (unsigned) p->status);
    return buf;
}

/* ---- ports --------------------------------------------------------- */

int
th_free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd, port = -1;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        th_errorf("socket: %s", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (bind(fd, (struct sockaddr *) &sa, sizeof sa) != 0)
        th_errorf("bind 127.0.0.1:0: %s", strerror(errno));
    else if (getsockname(fd, (struct sockaddr *) &sa, &len) != 0)
        th_errorf("getsockname: %s", strerror(errno));
    else
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* ---- database ------------------------------------------------------ */

/* DROP DATABASE IF EXISTS and friends: their NOTICEs are noise here. */
static void
drop_notice(void *arg, const char *message)
{
    (void) arg;
    (void) message;
}

static PGconn *
db_connect(const char *url)
{
    PGconn *c = PQconnectdb(url);

    if (c == NULL) {
        th_errorf("PQconnectdb: out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        th_errorf("could not connect to \"%s\": %s", url, PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, drop_notice, NULL);
    return c;
}

static int
db_command(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int rc = 0;

    if (r == NULL || (PQresultStatus(r) != PGRES_COMMAND_OK &&
                      PQresultStatus(r) != PGRES_TUPLES_OK)) {
        th_errorf("SQL failed: %s: %s", sql, PQerrorMessage(c));
        rc = -1;
    }
    PQclear(r);
    return rc;
}

/* Runs fmt (with one %s for the quoted database name) on the admin URL. */
static int
admin_db_command(const th_stack *s, const char *fmt)
{
    PGconn *c = db_connect(s->admin_url);
    char *ident, sql[256];
    int rc = -1;

    if (c == NULL)
        return -1;
    ident = PQescapeIdentifier(c, s->dbname, strlen(s->dbname));
    if (ident == NULL) {
        th_errorf("PQescapeIdentifier: %s", PQerrorMessage(c));
    } else {
        snprintf(sql, sizeof sql, fmt, ident);
        rc = db_command(c, sql);
        PQfreemem(ident);
    }
    PQfinish(c);
    return rc;
}

/* Puts dbname into a copy of url: the path of a postgresql:// URL, or a
 * trailing dbname= keyword of a key=value connection string. */
static int
url_with_db(const char *url, const char *db, char *out, size_t size)
{
    const char *scheme = strstr(url, "://");
    int n;

    if (scheme == NULL) {
        n = snprintf(out, size, "%s dbname=%s", url, db);
    } else {
        const char *host = scheme + 3;
        const char *q = strchr(host, '?');
        const char *slash = strchr(host, '/');
        const char *params = q != NULL ? q : "";
        size_t hostlen;

        if (slash != NULL && (q == NULL || slash < q))
            hostlen = (size_t) (slash - url);
        else
            hostlen = q != NULL ? (size_t) (q - url) : strlen(url);
        n = snprintf(out, size, "%.*s/%s%s", (int) hostlen, url, db, params);
    }
    if (n < 0 || (size_t) n >= size) {
        th_errorf("database URL too long");
        return -1;
    }
    return 0;
}

static void
sanitise_name(const char *in, char *out, size_t size)
{
    size_t j = 0;

    for (size_t i = 0; in[i] != '\0' && j + 1 < size; i++) {
        char c = in[i];

        if (c >= 'A' && c <= 'Z')
            c = (char) (c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '_';
        out[j++] = c;
    }
    if (j == 0)
        out[j++] = 't';
    out[j] = '\0';
}

static void
remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char child[4096 + 256];
    struct stat st;

    if (d == NULL) {
        if (unlink(path) != 0 && errno != ENOENT)
            th_errorf("could not remove \"%s\": %s", path, strerror(errno));
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(child);
        else if (unlink(child) != 0)
            th_errorf("could not remove \"%s\": %s", child, strerror(errno));
    }
    closedir(d);
    if (rmdir(path) != 0)
        th_errorf("could not remove \"%s\": %s", path, strerror(errno));
}

static int
keep_artifacts(void)
{
    const char *k = getenv("HT_TEST_KEEP");

    return k != NULL && *k != '\0' && strcmp(k, "0") != 0;
}

static int
proc_init(th_proc *p, const th_stack *s, const char *name)
{
    memset(p, 0, sizeof *p);
    return fmt_into(p->name, sizeof p->name, "%s", name) == 0 &&
                   fmt_into(p->log_path, sizeof p->log_path, "%s/%s.log",
                            s->tmpdir, name) == 0
               ? 0
               : -1;
}

th_stack *
th_stack_new(const char *name, const th_opts *opts)
{
    static unsigned counter;
    const char *admin = opts != NULL && opts->pg_url != NULL
                            ? opts->pg_url
                            : getenv("HT_TEST_PGURL");
    const char *tmp = getenv("TMPDIR");
    th_stack *s;

    if (admin == NULL || *admin == '\0') {
        th_errorf("HT_TEST_PGURL is not set: integration tests need a "
                  "PostgreSQL server; run ./tests/run.sh, which starts one, "
                  "or export "
                  "HT_TEST_PGURL=postgresql://user@host:port/postgres");
        return NULL;
    }
    if (opts == NULL || opts->api_bin == NULL || opts->worker_bin == NULL) {
        th_errorf("th_stack_new: api_bin and worker_bin are required");
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        th_errorf("out of memory");
        return NULL;
    }
    s->opts = *opts;
    if (s->opts.workers <= 0)
        s->opts.workers = 2;
    sanitise_name(name, s->name, 32);
    if (fmt_into(s->admin_url, sizeof s->admin_url, "%s", admin) != 0 ||
        fmt_into(s->dbname, sizeof s->dbname, "ht_%s_%ld_%u", s->name,
                 (long) getpid(), counter++) != 0 ||
        fmt_into(s->tmpdir, sizeof s->tmpdir, "%s/ht-%s-XXXXXX",
                 tmp != NULL && *tmp != '\0' ? tmp : "/tmp", s->name) != 0) {
        free(s);
        return NULL;
    }
    if (mkdtemp(s->tmpdir) == NULL) {
        th_errorf("could not create \"%s\": %s", s->tmpdir, strerror(errno));
        free(s);
        return NULL;
    }
    if (proc_init(&s->migrate, s, "migrate") != 0 ||
        proc_init(&s->api, s, "api") != 0 ||
        proc_init(&s->worker, s, "worker") != 0 ||
        url_with_db(s->admin_url, s->dbname, s->db_url,
                    sizeof s->db_url) != 0 ||
        admin_db_command(s, "DROP DATABASE IF EXISTS %s WITH (FORCE)") != 0 ||
        admin_db_command(s, "CREATE DATABASE %s") != 0) {
        remove_tree(s->tmpdir);
        free(s);
        return NULL;
    }
    fprintf(stderr, "harness: test %s: database %s, logs in %s\n", name,
            s->dbname, s->tmpdir);
    return s;
}

/* argv = bin, fixed..., extra...; strings borrowed, numbers in bufs. */
static int
build_argv(char *argv[TH_MAX_ARGS], const char *bin, const char *const *fixed,
           char *const *extra)
{
    int n = 0;

    argv[n++] = (char *) bin;
    for (int i = 0; fixed[i] != NULL; i++)
        argv[n++] = (char *) fixed[i];
    for (int i = 0; extra != NULL && extra[i] != NULL; i++) {
        if (n >= TH_MAX_ARGS - 1) {
            th_errorf("too many arguments for %s", bin);
            return -1;
        }
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    return 0;
}

int
th_migrate(th_stack *s)
{
    const char *fixed[] = { "--migrate", "--database-url", s->db_url, NULL };
    char *argv[TH_MAX_ARGS];
    char buf[64];

    if (build_argv(argv, s->opts.api_bin, fixed, NULL) != 0 ||
        th_proc_spawn(&s->migrate, argv, s->opts.env) != 0)
        return -1;
    if (th_proc_wait(&s->migrate, 60.0) != 0) {
        th_errorf("hugetask-api --migrate did not finish in time");
        th_proc_kill9(&s->migrate);
        return -1;
    }
    if (!WIFEXITED(s->migrate.status) || WEXITSTATUS(s->migrate.status) != 0) {
        th_errorf("hugetask-api --migrate failed: %s",
                  th_proc_status_str(&s->migrate, buf, sizeof buf));
        return -1;
    }
    return 0;
}

typedef struct ready_arg {
    th_stack *s;
} ready_arg;

static int
api_ready(void *arg)
{
    th_stack *s = ((ready_arg *) arg)->s;
    th_resp r;
    char buf[64];
    int ok;

    if (!th_proc_alive(&s->api)) {
        th_errorf("hugetask-api exited while starting: %s",
                  th_proc_status_str(&s->api, buf, sizeof buf));
        return -1;
    }
    /* Connection refused until it listens: quietly try again. */
    if (th_http_try(s->http_port, "GET", "/versions", NULL, NULL, &r) != 0)
        return 0;
    ok = r.status == 200;
    th_resp_fini(&r);
    return ok;
}

int
th_api_wait_ready(th_stack *s, double seconds)
{
    ready_arg a = { s };

    return th_wait_until("GET /versions to answer 200", seconds, 20,
                         api_ready, &a);
}

int
th_api_start(th_stack *s)
{
    char listen[64], pub[64];
    const char *fixed[] = { "--listen", listen, "--database-url", s->db_url,
                            "--pub", pub, NULL };
    char *argv[TH_MAX_ARGS];

    s->http_port = th_free_port();
    /* A running worker keeps its --subscribe address: keep the PUB port. */
    if (s->pub_port == 0 || !th_proc_alive(&s->worker))
        s->pub_port = th_free_port();
    if (s->http_port < 0 || s->pub_port < 0)
        return -1;
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s->http_port);
    snprintf(pub, sizeof pub, "tcp://127.0.0.1:%d", s->pub_port);
    if (build_argv(argv, s->opts.api_bin, fixed, s->opts.api_args) != 0 ||
        th_proc_spawn(&s->api, argv, s->opts.env) != 0)
        return -1;
    return th_api_wait_ready(s, 30.0);
}

int
th_worker_start(th_stack *s)
{
    char workers[16], sub[64];
    const char *fixed[] = { "--workers", workers, "--database-url", s->db_url,
                            "--subscribe", sub, NULL };
    char *argv[TH_MAX_ARGS];

    if (s->pub_port <= 0) {
        th_errorf("start the api before the worker (no PUB port yet)");
        return -1;
    }
    snprintf(workers, sizeof workers, "%d", s->opts.workers);
    snprintf(sub, sizeof sub, "tcp://127.0.0.1:%d", s->pub_port);
    if (build_argv(argv, s->opts.worker_bin, fixed, s->opts.worker_args) != 0)
        return -1;
    return th_proc_spawn(&s->worker, argv, s->opts.env);
}

int
th_stack_start(th_stack *s)
{
    char buf[64];

    if (th_migrate(s) != 0 || th_api_start(s) != 0 || th_worker_start(s) != 0)
        goto fail;
    /* A worker that cannot start usually dies at once: notice it here. */
    th_sleep_ms(100);
    if (!th_proc_alive(&s->worker)) {
        th_errorf("hugetask-worker exited at start: %s",
                  th_proc_status_str(&s->worker, buf, sizeof buf));
        goto fail;
    }
    return 0;
fail:
    th_stack_stop(s);
    return -1;
}

int
th_stack_stop(th_stack *s)
{
    int rc = 0;

    if (th_proc_stop(&s->worker) != 0 || s->worker.unclean)
        rc = -1;
    if (th_proc_stop(&s->api) != 0 || s->api.unclean)
        rc = -1;
    return rc;
}

void
th_stack_passed(th_stack *s)
{
    s->passed = 1;
}

static void
dump_log(const th_proc *p)
{
    const long cap = 256 * 1024;
    char buf[8192];
    size_t n;
    long size;
    FILE *f = fopen(p->log_path, "r");

    if (f == NULL) {
        if (errno != ENOENT)
            th_errorf("could not read \"%s\": %s", p->log_path,
                      strerror(errno));
        return;
    }
    fprintf(stderr, "===== %s log (%s) =====\n", p->name, p->log_path);
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > cap) {
        fprintf(stderr, "[... first %ld bytes left out ...]\n", size - cap);
        if (fseek(f, size - cap, SEEK_SET) != 0)
            rewind(f);
    } else {
        rewind(f);
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stderr);
    fclose(f);
    fprintf(stderr, "===== end of %s log =====\n", p->name);
}

void
th_stack_dump_logs(const th_stack *s)
{
    dump_log(&s->migrate);
    dump_log(&s->api);
    dump_log(&s->worker);
}

int
th_stack_free(th_stack *s)
{
    int rc = 0;

    if (s == NULL)
        return 0;
    th_proc_kill9(&s->migrate);
    if (th_stack_stop(s) != 0 || s->api.unclean || s->worker.unclean) {
        th_errorf("test %s: a daemon ended uncleanly (see its log below)",
                  s->name);
        rc = -1;
    }
    if (s->db != NULL)
        PQfinish(s->db);
    if (!s->passed || rc != 0)
        th_stack_dump_logs(s);
    if (keep_artifacts()) {
        fprintf(stderr, "harness: HT_TEST_KEEP: kept %s and database %s\n",
                s->tmpdir, s->dbname);
    } else {
        (void) admin_db_command(s, "DROP DATABASE IF EXISTS %s WITH (FORCE)");
        remove_tree(s->tmpdir);
    }
    free(s);
    return rc;
}

/* ---- task helpers -------------------------------------------------- */

int
th_submit_gremlin(th_stack *s, const char *graph, const char *script,
                  int64_t *id)
{
    json_t *req, *tid;
    char *body, path[256];
    th_resp r;
    int rc = -1;

    req = json_pack("{s:s, s:{}, s:s, s:{}}", "gremlin", script, "bindings",
                    "language", "gremlin-groovy", "aliases");
    if (req == NULL) {
        th_errorf("json_pack failed (script not UTF-8?)");
        return -1;
    }
    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (body == NULL) {
        th_errorf("json_dumps failed");
        return -1;
    }
    snprintf(path, sizeof path, "/graphs/%s/jobs/gremlin", graph);
    if (th_http(s, "POST", path, body, "application/json", &r) != 0)
        goto done;
    tid = r.json != NULL ? json_object_get(r.json, "task_id") : NULL;
    if (r.status != 201 || !json_is_integer(tid)) {
        th_errorf("POST %s: expected 201 {\"task_id\": N}, got %d %s", path,
                  r.status, r.body);
    } else {
        *id = (int64_t) json_integer_value(tid);
        rc = 0;
    }
    th_resp_fini(&r);
done:
    free(body);
    return rc;
}

int
th_wait_task_status(th_stack *s, const char *graph, int64_t id,
                    const char *status, double seconds, int interval_ms,
                    json_t **task)
{
    int64_t deadline = deadline_after(seconds);
    char path[256];
    char last[512] = "";

    snprintf(path, sizeof path, "/graphs/%s/tasks/%" PRId64, graph, id);
    for (;;) {
        th_resp r;
        const char *st;

        if (th_http(s, "GET", path, NULL, NULL, &r) != 0)
            return -1;
        if (r.status != 200 || !json_is_object(r.json)) {
            th_errorf("GET %s: %d %s", path, r.status, r.body);
            th_resp_fini(&r);
            return -1;
        }
        st = json_string_value(json_object_get(r.json, "task_status"));
        snprintf(last, sizeof last, "%s", r.body);
        if (st != NULL && strcmp(st, status) == 0) {
            if (task != NULL)
                *task = json_incref(r.json);
            th_resp_fini(&r);
            return 0;
        }
        if (st != NULL && (strcmp(st, "success") == 0 ||
                           strcmp(st, "failed") == 0 ||
                           strcmp(st, "cancelled") == 0)) {
            th_errorf("task %" PRId64 " ended %s, not %s: %s", id, st, status,
                      r.body);
            th_resp_fini(&r);
            return -1;
        }
        th_resp_fini(&r);
        if (th_mono_ms() >= deadline) {
            th_errorf("task %" PRId64 " not %s after %.1f s; last: %s", id,
                      status, seconds * th_timeout_mult(), last);
            return -1;
        }
        th_sleep_ms(interval_ms > 0 ? interval_ms : 10);
    }
}

/* ---- SQL ----------------------------------------------------------- */

/* PQexec on the stack's connection, opening it first and once more if the
 * server went away since (a restarted PostgreSQL). */
static PGresult *
stack_exec(th_stack *s, const char *sql)
{
    PGresult *r;

    if (s->db == NULL && (s->db = db_connect(s->db_url)) == NULL)
        return NULL;
    r = PQexec(s->db, sql);
    if (PQstatus(s->db) == CONNECTION_BAD) {
        PQclear(r);
        PQfinish(s->db);
        if ((s->db = db_connect(s->db_url)) == NULL)
            return NULL;
        r = PQexec(s->db, sql);
    }
    return r;
}

int
th_sql_scalar(th_stack *s, const char *sql, char *out, size_t size)
{
    PGresult *r;
    int rc = -1;

    r = stack_exec(s, sql);
    if (s->db == NULL)
        return -1;
    if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
        th_errorf("SQL failed: %s: %s", sql, PQerrorMessage(s->db));
    } else if (PQntuples(r) < 1 || PQnfields(r) < 1) {
        th_errorf("SQL returned no value: %s", sql);
    } else {
        snprintf(out, size, "%s", PQgetvalue(r, 0, 0));
        rc = 0;
    }
    PQclear(r);
    return rc;
}

int
th_sql_i64(th_stack *s, const char *sql, int64_t *out)
{
    char buf[64], *end;
    long long v;

    if (th_sql_scalar(s, sql, buf, sizeof buf) != 0)
        return -1;
    errno = 0;
    v = strtoll(buf, &end, 10);
    if (errno != 0 || end == buf || *end != '\0') {
        th_errorf("SQL value '%s' is not an integer: %s", buf, sql);
        return -1;
    }
    *out = (int64_t) v;
    return 0;
}

int
th_sql_exec(th_stack *s, const char *sql)
{
    PGresult *r = stack_exec(s, sql);
    int rc = 0;

    if (s->db == NULL)
        return -1;
    if (r == NULL || (PQresultStatus(r) != PGRES_COMMAND_OK &&
                      PQresultStatus(r) != PGRES_TUPLES_OK)) {
        th_errorf("SQL failed: %s: %s", sql, PQerrorMessage(s->db));
        rc = -1;
    }
    PQclear(r);
    return rc;
}

void *
th_sql_conn(th_stack *s)
{
    if (s->db != NULL && PQstatus(s->db) == CONNECTION_BAD) {
        PQfinish(s->db);
        s->db = NULL;
    }
    if (s->db == NULL)
        s->db = db_connect(s->db_url);
    return s->db;
}

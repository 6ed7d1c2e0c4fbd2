/*
 * api-server/cli.c - `hugetask`, the operator's command line.
 *
 *   hugetask [--url URL] [--graph G] [--json] COMMAND ...
 *     tasks list [--status S] [--limit N]
 *     tasks get ID | tasks cancel ID | tasks delete ID [--force]
 *     tasks wait ID [--timeout SECONDS]
 *     submit FILE|- [--wait]
 *
 * It speaks only the public HTTP API, so it works against any hugetask (or
 * HugeGraph) server.  Exit status: 0 success; 1 the server refused (its
 * error is printed); 2 usage; 3 the task ended failed or cancelled (wait);
 * 4 the server could not be reached; 5 wait timed out.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api-server/cli_http.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE   2
#define EXIT_TASK    3
#define EXIT_NET     4
#define EXIT_TIMEOUT 5

typedef struct cli {
    const char *url;
    const char *graph;
    int         json;
} cli;

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: hugetask [--url URL] [--graph GRAPH] [--json] COMMAND ...\n"
            "\n"
            "commands:\n"
            "  tasks list [--status STATUS] [--limit N]   list tasks (ascending id)\n"
            "  tasks get ID                               one task, with input and result\n"
            "  tasks cancel ID                            cancel a queued or running task\n"
            "  tasks delete ID [--force]                  delete a task's record\n"
            "  tasks wait ID [--timeout SECONDS]          wait for the end, with a progress bar\n"
            "  submit FILE|- [--wait]                     submit a Gremlin script as a job\n"
            "\n"
            "options:\n"
            "  --url URL      the API (env HUGETASK_URL, default http://127.0.0.1:8080)\n"
            "  --graph GRAPH  the graph (env HUGETASK_GRAPH, default hugegraph)\n"
            "  --json         print the server's JSON instead of text\n"
            "\n"
            "environment: HUGETASK_USER=NAME:PASSWORD sends HTTP basic credentials\n"
            "(for an API started with --auth basic; kept out of argv on purpose)\n"
            "\n"
            "exit status: 0 ok, 1 refused by the server, 2 usage, 3 task failed or\n"
            "cancelled, 4 server unreachable, 5 wait timed out\n");
}

/* Prints the server's error body; returns EXIT_REFUSED. */
static int
refused(const cli_resp *r)
{
    const char *msg = r->json ? json_string_value(json_object_get(r->json, "message")) : NULL;

    fprintf(stderr, "hugetask: HTTP %d: %s\n", r->status, msg ? msg : r->body);
    return EXIT_REFUSED;
}

static int
call(const cli *c, const char *method, const char *path, const char *body,
     cli_resp *r)
{
    char err[256];

    if (cli_http(c->url, method, path, body, r, err, sizeof(err)) != 0) {
        fprintf(stderr, "hugetask: %s\n", err);
        return EXIT_NET;
    }
    return 0;
}

static void
print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    if (s != NULL) {
        puts(s);
        free(s);
    }
}

static const char *
str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : "";
}

static void
print_time(const char *label, json_t *t)
{
    time_t    sec;
    struct tm tm;
    char      buf[64];

    if (!json_is_integer(t))
        return;
    sec = (time_t) (json_integer_value(t) / 1000);
    if (localtime_r(&sec, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) == 0)
        return;
    printf("%-10s %s\n", label, buf);
}

static void
print_task(json_t *t)
{
    printf("%-10s %" JSON_INTEGER_FORMAT "\n", "id", json_integer_value(json_object_get(t, "id")));
    printf("%-10s %s\n", "status", str(t, "task_status"));
    printf("%-10s %s\n", "name", str(t, "task_name"));
    printf("%-10s %s\n", "type", str(t, "task_type"));
    printf("%-10s %" JSON_INTEGER_FORMAT "\n", "progress",
           json_integer_value(json_object_get(t, "task_progress")));
    printf("%-10s %" JSON_INTEGER_FORMAT "\n", "retries",
           json_integer_value(json_object_get(t, "task_retries")));
    print_time("created", json_object_get(t, "task_create"));
    print_time("updated", json_object_get(t, "task_update"));
    if (json_object_get(t, "task_server"))
        printf("%-10s %s\n", "server", str(t, "task_server"));
    if (json_object_get(t, "task_result"))
        printf("%-10s %s\n", "result", str(t, "task_result"));
}

static int
parse_id(const char *s, int64_t *id)
{
    char     *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *s == '\0' || *end != '\0' || v <= 0) {
        fprintf(stderr, "hugetask: invalid task id '%s'\n", s);
        return -1;
    }
    *id = (int64_t) v;
    return 0;
}

static int
cmd_list(const cli *c, int argc, char **argv)
{
    const char *status = NULL, *limit = "100";
    char        path[512];
    cli_resp    r;
    size_t      i;
    json_t     *t;
    int         rc;

    for (int a = 0; a < argc; a++) {
        if (strcmp(argv[a], "--status") == 0 && a + 1 < argc)
            status = argv[++a];
        else if (strcmp(argv[a], "--limit") == 0 && a + 1 < argc)
            limit = argv[++a];
        else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    /* Both values are passed through; the server validates them. */
    if (status != NULL && strspn(status, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(status)) {
        fprintf(stderr, "hugetask: invalid status '%s'\n", status);
        return EXIT_USAGE;
    }
    if (strspn(limit, "-0123456789") != strlen(limit)) {
        fprintf(stderr, "hugetask: invalid limit '%s'\n", limit);
        return EXIT_USAGE;
    }
    (void) snprintf(path, sizeof(path), "/graphs/%s/tasks?limit=%s%s%s", c->graph, limit,
                    status ? "&status=" : "", status ? status : "");
    if ((rc = call(c, "GET", path, NULL, &r)) != 0)
        return rc;
    if (r.status != 200) {
        rc = refused(&r);
        cli_resp_fini(&r);
        return rc;
    }
    if (c->json) {
        print_json(r.json);
    } else {
        printf("%8s  %-10s %8s  %s\n", "ID", "STATUS", "PROGRESS", "NAME");
        json_array_foreach(json_object_get(r.json, "tasks"), i, t)
            printf("%8" JSON_INTEGER_FORMAT "  %-10s %8" JSON_INTEGER_FORMAT "  %.60s\n",
                   json_integer_value(json_object_get(t, "id")), str(t, "task_status"),
                   json_integer_value(json_object_get(t, "task_progress")), str(t, "task_name"));
    }
    cli_resp_fini(&r);
    return 0;
}

/* GET one task into *task (new reference).  0, or an exit status. */
static int
fetch(const cli *c, int64_t id, json_t **task)
{
    char     path[256];
    cli_resp r;
    int      rc;

    (void) snprintf(path, sizeof(path), "/graphs/%s/tasks/%" PRId64, c->graph, id);
    if ((rc = call(c, "GET", path, NULL, &r)) != 0)
        return rc;
    if (r.status != 200 || !json_is_object(r.json)) {
        rc = refused(&r);
        cli_resp_fini(&r);
        return rc;
    }
    *task = json_incref(r.json);
    cli_resp_fini(&r);
    return 0;
}

static int
cmd_get(const cli *c, int64_t id)
{
    json_t *t;
    int     rc = fetch(c, id, &t);

    if (rc != 0)
        return rc;
    if (c->json)
        print_json(t);
    else
        print_task(t);
    json_decref(t);
    return 0;
}

static int
cmd_simple(const cli *c, const char *method, int64_t id, const char *query,
           int want, const char *done)
{
    char     path[256];
    cli_resp r;
    int      rc;

    (void) snprintf(path, sizeof(path), "/graphs/%s/tasks/%" PRId64 "%s", c->graph, id, query);
    if ((rc = call(c, method, path, NULL, &r)) != 0)
        return rc;
    if (r.status != want) {
        rc = refused(&r);
    } else if (c->json) {
        if (r.json)
            print_json(r.json);
        else
            printf("{\"task_id\": %" PRId64 ", \"status\": %d}\n", id, r.status);
    } else {
        printf("task %" PRId64 " %s\n", id, done);
    }
    cli_resp_fini(&r);
    return rc;
}

static void
draw_bar(int64_t id, const char *status, int64_t progress)
{
    int filled = (int) (progress < 0 ? 0 : progress > 100 ? 100 : progress) / 5;

    fprintf(stderr, "\rtask %" PRId64 " [%.*s%*s] %3" PRId64 "%% %-10s", id, filled,
            "####################", 20 - filled, "", progress, status);
}

static int
is_final(const char *s)
{
    return strcmp(s, "success") == 0 || strcmp(s, "failed") == 0 ||
           strcmp(s, "cancelled") == 0;
}

static int
cmd_wait(const cli *c, int64_t id, double timeout)
{
    int             tty = isatty(2);
    struct timespec start, now;
    json_t         *t = NULL;
    int             rc;

    if (clock_gettime(CLOCK_MONOTONIC, &start) != 0)
        return EXIT_NET;
    for (;;) {
        const char *st;
        rc = fetch(c, id, &t);
        if (rc != 0)
            return rc;
        st = str(t, "task_status");
        if (tty && !c->json)
            draw_bar(id, st, json_integer_value(json_object_get(t, "task_progress")));
        if (is_final(st))
            break;
        if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
            return EXIT_NET;
        if (timeout > 0 && (double) (now.tv_sec - start.tv_sec) +
                               (double) (now.tv_nsec - start.tv_nsec) / 1e9 >= timeout) {
            if (tty && !c->json)
                fputc('\n', stderr);
            fprintf(stderr, "hugetask: task %" PRId64 " still %s after %.0f s\n", id, st, timeout);
            json_decref(t);
            return EXIT_TIMEOUT;
        }
        json_decref(t);
        t = NULL;
        (void) nanosleep(&(struct timespec) { 0, 200 * 1000 * 1000 }, NULL);
    }
    if (tty && !c->json)
        fputc('\n', stderr);
    if (c->json)
        print_json(t);
    else
        print_task(t);
    rc = strcmp(str(t, "task_status"), "success") == 0 ? 0 : EXIT_TASK;
    json_decref(t);
    return rc;
}

/* Reads a whole file (or stdin for "-") into a malloc'd string. */
static char *
slurp(const char *name)
{
    FILE  *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
    char  *buf = NULL;
    size_t len = 0, cap = 0;

    if (f == NULL) {
        fprintf(stderr, "hugetask: could not open \"%s\": %s\n", name, strerror(errno));
        return NULL;
    }
    for (;;) {
        size_t k;
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
    }
    if (buf != NULL && ferror(f)) {
        fprintf(stderr, "hugetask: could not read \"%s\"\n", name);
        free(buf);
        buf = NULL;
    }
    if (f != stdin)
        (void) fclose(f);
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

static int
cmd_submit(const cli *c, int argc, char **argv)
{
    const char *file = NULL;
    int         wait = 0, rc;
    char       *script, *body, path[256];
    json_t     *req;
    cli_resp    r;
    int64_t     id;

    for (int a = 0; a < argc; a++) {
        if (strcmp(argv[a], "--wait") == 0)
            wait = 1;
        else if (file == NULL)
            file = argv[a];
        else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (file == NULL) {
        usage(stderr);
        return EXIT_USAGE;
    }
    script = slurp(file);
    if (script == NULL)
        return EXIT_USAGE;
    req = json_pack("{s:s}", "gremlin", script);
    free(script);
    body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (body == NULL) {
        fprintf(stderr, "hugetask: the script is not valid UTF-8 text\n");
        return EXIT_USAGE;
    }
    (void) snprintf(path, sizeof(path), "/graphs/%s/jobs/gremlin", c->graph);
    rc = call(c, "POST", path, body, &r);
    free(body);
    if (rc != 0)
        return rc;
    if (r.status != 201 || !json_is_integer(json_object_get(r.json, "task_id"))) {
        rc = refused(&r);
        cli_resp_fini(&r);
        return rc;
    }
    id = json_integer_value(json_object_get(r.json, "task_id"));
    if (c->json && !wait)
        print_json(r.json);
    else if (!wait)
        printf("%" PRId64 "\n", id);
    cli_resp_fini(&r);
    return wait ? cmd_wait(c, id, 0) : 0;
}

static int
cmd_tasks(const cli *c, int argc, char **argv)
{
    int64_t id;

    if (argc < 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[0], "list") == 0)
        return cmd_list(c, argc - 1, argv + 1);
    if (argc < 2 || parse_id(argv[1], &id) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[0], "get") == 0 && argc == 2)
        return cmd_get(c, id);
    if (strcmp(argv[0], "cancel") == 0 && argc == 2)
        return cmd_simple(c, "PUT", id, "?action=cancel", 202, "cancel requested");
    if (strcmp(argv[0], "delete") == 0 && (argc == 2 || (argc == 3 && strcmp(argv[2], "--force") == 0)))
        return cmd_simple(c, "DELETE", id, argc == 3 ? "?force=true" : "", 204, "deleted");
    if (strcmp(argv[0], "wait") == 0) {
        double timeout = 0;
        if (argc == 4 && strcmp(argv[2], "--timeout") == 0)
            timeout = strtod(argv[3], NULL);
        else if (argc != 2) {
            usage(stderr);
            return EXIT_USAGE;
        }
        return cmd_wait(c, id, timeout);
    }
    usage(stderr);
    return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
    cli c = { getenv("HUGETASK_URL"), getenv("HUGETASK_GRAPH"), 0 };
    int a = 1;

    if (c.url == NULL || *c.url == '\0')
        c.url = "http://127.0.0.1:8080";
    if (c.graph == NULL || *c.graph == '\0')
        c.graph = "hugegraph";
    for (; a < argc && strncmp(argv[a], "--", 2) == 0; a++) {
        if (strcmp(argv[a], "--url") == 0 && a + 1 < argc)
            c.url = argv[++a];
        else if (strcmp(argv[a], "--graph") == 0 && a + 1 < argc)
            c.graph = argv[++a];
        else if (strcmp(argv[a], "--json") == 0)
            c.json = 1;
        else if (strcmp(argv[a], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (strspn(c.graph, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
            strlen(c.graph) || c.graph[0] == '\0') {
        fprintf(stderr, "hugetask: invalid graph name '%s'\n", c.graph);
        return EXIT_USAGE;
    }
    if (cli_http_set_user(getenv("HUGETASK_USER")) != 0) {
        fprintf(stderr, "hugetask: HUGETASK_USER must be NAME:PASSWORD\n");
        return EXIT_USAGE;
    }
    if (a >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[a], "tasks") == 0)
        return cmd_tasks(&c, argc - a - 1, argv + a + 1);
    if (strcmp(argv[a], "submit") == 0)
        return cmd_submit(&c, argc - a - 1, argv + a + 1);
    usage(stderr);
    return EXIT_USAGE;
}

/*
 * api-server/routes.c - maps method and path to a handler.
 *
 *   GET  /versions, /health, /metrics (routes_ops.c)
 *   GET  /graphs                                   GET /graphspaces/DEFAULT/graphs
 *   *    /graphs/{graph}/<rest>                    /graphspaces/DEFAULT/graphs/{graph}/<rest>
 *        <rest>: tasks (GET), tasks/{id} (GET, PUT, DELETE), jobs/gremlin (POST)
 *
 * Unknown paths are 404 and known paths with another method 405, both in
 * HugeGraph's error shape.  The graph is checked before the rest of the
 * path, as HugeGraph does.
 */
#include "api-server/routes.h"

#include <stdio.h>
#include <string.h>

#include "api-server/reply_json.h"

#define MAX_SEGS 8

#define API_X_NAME(id, name) name,
static const char *const route_names[] = { API_ROUTE_LIST(API_X_NAME) };
#undef API_X_NAME

const char *
api_route_name(api_route_id r)
{
    return (unsigned) r < API_ROUTE_COUNT ? route_names[r] : route_names[0];
}

int
api_route_is_open(api_route_id r)
{
    return r == API_ROUTE_HEALTH || r == API_ROUTE_VERSIONS;
}

/* Segment i of a path as (start, length), walking the same way split_path
 * does; -1 for the same malformed shapes. */
static int
seg_spans(const char *path, const char *start[MAX_SEGS], size_t len[MAX_SEGS])
{
    int         n = 0;
    const char *p = path;

    while (*p == '/')
        p++;
    while (*p) {
        size_t l = strcspn(p, "/");
        if (n == MAX_SEGS)
            return -1;
        start[n] = p;
        len[n] = l;
        n++;
        p += l;
        if (*p == '/') {
            p++;
            if (*p == '/')
                return -1;
        }
    }
    return n;
}

static int
seg_is(const char *start, size_t len, const char *word)
{
    return strlen(word) == len && strncmp(start, word, len) == 0;
}

api_route_id
api_route_classify(const char *path)
{
    const char *st[MAX_SEGS];
    size_t      ln[MAX_SEGS];
    int         n = seg_spans(path ? path : "/", st, ln);
    int         at = 0, gs = 0;

    if (n <= 0)
        return API_ROUTE_UNMATCHED;
    if (n == 1 && seg_is(st[0], ln[0], "versions"))
        return API_ROUTE_VERSIONS;
    if (n == 1 && seg_is(st[0], ln[0], "health"))
        return API_ROUTE_HEALTH;
    if (n == 1 && seg_is(st[0], ln[0], "metrics"))
        return API_ROUTE_METRICS;
    if (seg_is(st[0], ln[0], "graphspaces")) {
        if (n < 3)
            return API_ROUTE_UNMATCHED;
        gs = 1;
        at = 2;
    }
    if (!seg_is(st[at], ln[at], "graphs"))
        return API_ROUTE_UNMATCHED;
    n -= at;
    if (n == 1)
        return gs ? API_ROUTE_GS_GRAPHS : API_ROUTE_GRAPHS;
    at += 2; /* past "graphs" and {graph} */
    if (n == 3 && seg_is(st[at], ln[at], "tasks"))
        return gs ? API_ROUTE_GS_TASKS : API_ROUTE_TASKS;
    if (n == 4 && seg_is(st[at], ln[at], "tasks"))
        return gs ? API_ROUTE_GS_TASK : API_ROUTE_TASK;
    if (n == 4 && seg_is(st[at], ln[at], "jobs") &&
        seg_is(st[at + 1], ln[at + 1], "gremlin"))
        return gs ? API_ROUTE_GS_JOB_GREMLIN : API_ROUTE_JOB_GREMLIN;
    return API_ROUTE_UNMATCHED;
}

static void
no_route(api_req *req, api_resp *resp)
{
    api_reply_fail(req, resp, 404, HT_EXC_NO_ROUTE, "HTTP 404 Not Found");
}

static void
no_method(api_req *req, api_resp *resp)
{
    api_reply_fail(req, resp, 405, HT_EXC_NOT_ALLOWED,
                   "HTTP 405 Method Not Allowed");
}

static int
is(const api_req *req, const char *method)
{
    return strcmp(req->method, method) == 0;
}

/* Splits path on '/' into at most MAX_SEGS segments (in arena); -1 when it
 * has more, or an empty segment in the middle. */
static int
split_path(ht_arena *a, const char *path, char **segs)
{
    int         n = 0;
    const char *p = path;

    while (*p == '/')
        p++;
    while (*p) {
        size_t len = strcspn(p, "/");
        if (n == MAX_SEGS)
            return -1;
        segs[n] = ht_arena_strndup(a, p, len);
        if (segs[n] == NULL)
            return -1;
        n++;
        p += len;
        if (*p == '/') {
            p++;
            if (*p == '/')
                return -1;
        }
    }
    return n;
}

static void
reply_graphs(api_req *req, api_resp *resp)
{
    json_t *list = json_array();

    for (int i = 0; list != NULL && i < req->ctx->n_graphs; i++)
        if (json_array_append_new(list, json_string(req->ctx->graphs[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    api_reply_json(req, resp, 200, list ? json_pack("{s:o}", "graphs", list) : NULL);
}

static void
reply_versions(api_req *req, api_resp *resp)
{
    api_reply_json(req, resp, 200,
                   json_pack("{s:{s:s, s:s, s:s, s:s}}", "versions", "version",
                             "v1", "core", "1.7.0", "gremlin", "3.5.1", "api",
                             "0.71"));
}

/* The index of a configured graph, or -1. */
static int
graph_index(const api_ctx *ctx, const char *g)
{
    for (int i = 0; i < ctx->n_graphs; i++)
        if (strcmp(ctx->graphs[i], g) == 0)
            return i;
    return -1;
}

/* <rest> under a graph: segs[0..n). */
static void
route_graph(api_req *req, api_resp *resp, const api_scope *s, char **segs,
            int n)
{
    if (n == 1 && strcmp(segs[0], "tasks") == 0) {
        if (is(req, "GET"))
            api_tasks_list(req, resp, s);
        else
            no_method(req, resp);
    } else if (n == 2 && strcmp(segs[0], "tasks") == 0) {
        if (is(req, "GET"))
            api_task_get(req, resp, s, segs[1]);
        else if (is(req, "DELETE"))
            api_task_delete(req, resp, s, segs[1]);
        else if (is(req, "PUT"))
            api_task_put(req, resp, s, segs[1]);
        else
            no_method(req, resp);
    } else if (n == 2 && strcmp(segs[0], "jobs") == 0 &&
               strcmp(segs[1], "gremlin") == 0) {
        if (is(req, "POST"))
            api_job_gremlin(req, resp, s);
        else
            no_method(req, resp);
    } else {
        no_route(req, resp);
    }
}

void
api_route(api_req *req, api_resp *resp)
{
    char     *segs[MAX_SEGS];
    int       n = split_path(req->arena, req->path, segs);
    int       at = 0;
    api_scope scope = { NULL, -1, 0 };

    if (n <= 0) {
        no_route(req, resp);
        return;
    }
    if (n == 1 && strcmp(segs[0], "versions") == 0) {
        if (is(req, "GET"))
            reply_versions(req, resp);
        else
            no_method(req, resp);
        return;
    }
    if (n == 1 && (strcmp(segs[0], "health") == 0 ||
                   strcmp(segs[0], "metrics") == 0)) {
        if (!is(req, "GET"))
            no_method(req, resp);
        else if (segs[0][0] == 'h')
            api_health(req, resp);
        else
            api_metrics_reply(req, resp);
        return;
    }
    if (strcmp(segs[0], "graphspaces") == 0) {
        if (n < 3 || strcmp(segs[2], "graphs") != 0) {
            no_route(req, resp);
            return;
        }
        if (strcmp(segs[1], "DEFAULT") != 0) {
            api_reply_fail(req, resp, 404, HT_EXC_NO_ROUTE,
                           "Graphspace '%s' does not exist", segs[1]);
            return;
        }
        scope.graphspace = 1;
        at = 2;
    }
    if (strcmp(segs[at], "graphs") != 0) {
        no_route(req, resp);
        return;
    }
    if (n == at + 1) {
        if (is(req, "GET"))
            reply_graphs(req, resp);
        else
            no_method(req, resp);
        return;
    }
    scope.graph = segs[at + 1];
    scope.gi = graph_index(req->ctx, scope.graph);
    if (scope.gi < 0) {
        api_reply_fail(req, resp, 404, HT_EXC_NOT_FOUND,
                       "Graph '%s' does not exist", scope.graph);
        return;
    }
    route_graph(req, resp, &scope, segs + at + 2, n - at - 2);
}

void
api_publish(api_req *req, ht_msg_type type, const char *graph, int64_t id)
{
    ht_msg m = { .type = type, .task_id = id };

    (void) snprintf(m.graph, sizeof(m.graph), "%s", graph);
    if (req->ctx->pub != NULL)
        (void) ht_pub_send(req->ctx->pub, &m);
}

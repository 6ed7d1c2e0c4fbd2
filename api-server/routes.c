/*
 * api-server/routes.c - maps method and path to a handler.
 *
 *   GET  /versions
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

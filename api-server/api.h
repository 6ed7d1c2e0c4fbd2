/*
 * api-server/api.h - what the HTTP glue hands a route, and what a route
 * hands back.
 *
 * A request owns one arena, freed after the reply; a route allocates
 * everything it needs from it.  Routes never see civetweb: http_server.c
 * turns a connection into an api_req and an api_resp into bytes.
 */
#ifndef API_H
#define API_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/cfg.h"
#include "common/db.h"
#include "common/err.h"
#include "proto/bus.h"

/* What this process knows of a graph's queue, so that most submissions
 * need no count query for the pending-task cap. */
typedef struct api_graph_state {
    pthread_mutex_t lock;
    int64_t         queued;     /* exact count at checked_ms */
    int64_t         added;      /* submitted here since then */
    int64_t         checked_ms;
} api_graph_state;

/* Route patterns: the label /metrics counts requests by (never the raw
 * path, whose graph names and ids would make unbounded label sets). */
#define API_ROUTE_LIST(X)                                                  \
    X(API_ROUTE_UNMATCHED, "unmatched")                                    \
    X(API_ROUTE_VERSIONS, "/versions")                                     \
    X(API_ROUTE_HEALTH, "/health")                                         \
    X(API_ROUTE_METRICS, "/metrics")                                       \
    X(API_ROUTE_GRAPHS, "/graphs")                                         \
    X(API_ROUTE_TASKS, "/graphs/{graph}/tasks")                            \
    X(API_ROUTE_TASK, "/graphs/{graph}/tasks/{id}")                        \
    X(API_ROUTE_JOB_GREMLIN, "/graphs/{graph}/jobs/gremlin")               \
    X(API_ROUTE_GS_GRAPHS, "/graphspaces/{graphspace}/graphs")             \
    X(API_ROUTE_GS_TASKS, "/graphspaces/{graphspace}/graphs/{graph}/tasks") \
    X(API_ROUTE_GS_TASK,                                                   \
      "/graphspaces/{graphspace}/graphs/{graph}/tasks/{id}")               \
    X(API_ROUTE_GS_JOB_GREMLIN,                                            \
      "/graphspaces/{graphspace}/graphs/{graph}/jobs/gremlin")

#define API_X_ENUM(id, name) id,
typedef enum { API_ROUTE_LIST(API_X_ENUM) API_ROUTE_COUNT } api_route_id;
#undef API_X_ENUM

typedef struct api_metrics api_metrics; /* metrics.h */
typedef struct api_auth    api_auth;    /* auth.h */

/* Process-wide state, read-only after start but for the graph states (each
 * behind its lock); the pub socket is thread-safe, metrics and auth do
 * their own locking. */
typedef struct api_ctx {
    const ht_cfg    *cfg;
    char           **graphs;  /* configured graph names */
    int              n_graphs;
    api_graph_state *state;   /* one per graph */
    ht_pub          *pub;
    api_metrics     *metrics; /* never NULL once serving */
    api_auth        *auth;    /* never NULL once serving (mode may be none) */
} api_ctx;

typedef struct api_param {
    const char *name;  /* decoded (in request arena) */
    const char *value; /* decoded; "" for "name" or "name=" */
} api_param;

typedef struct api_req {
    ht_arena      *arena;
    const api_ctx *ctx;
    ht_db         *db;      /* this thread's connection */
    const char    *method;
    const char    *path;    /* decoded, without the query */
    api_param     *params;  /* query parameters, in order */
    size_t         n_params;
    const char    *content_type; /* NULL when absent */
    const char    *body;    /* NUL-terminated copy (in arena), NULL if none */
    size_t         body_len;
    const char    *authorization; /* Authorization header, NULL when absent */
    const char    *request_id;    /* validated or generated; never NULL */
    const char    *user;          /* authenticated user (in arena), or NULL */
    api_route_id   route;         /* api_route_classify(path) */
} api_req;

typedef struct api_resp {
    int         status;
    const char *body;  /* (in arena); NULL = empty body */
    size_t      len;
    const char *content_type; /* NULL = HugeGraph's JSON type */
    int         challenge;    /* 1: send WWW-Authenticate (a 401) */
} api_resp;

/* Routes a request; always fills resp. */
void api_route(api_req *req, api_resp *resp);

/* The pattern a path matches, by shape alone (unknown graphs included);
 * API_ROUTE_UNMATCHED for anything else.  No allocation. */
api_route_id api_route_classify(const char *path);
/* The label text of a route ("/graphs/{graph}/tasks"); static. */
const char *api_route_name(api_route_id r);
/* Routes anyone may call with auth on: /health, and /versions (as
 * HugeGraph whitelists it). */
int api_route_is_open(api_route_id r);

/* Query helpers: the first value of name (NULL when absent), and how many
 * times it occurs. */
const char *api_param_get(const api_req *req, const char *name);
size_t      api_param_count(const api_req *req, const char *name);

/* How deeply buf[0..len) nests JSON arrays and objects (brackets inside
 * strings do not count), or limit + 1 as soon as it is deeper than limit.
 * jansson parses, dumps and frees recursively, and civetweb's threads have
 * small stacks: bodies are checked with this before they are parsed. */
int api_json_depth(const char *buf, size_t len, int limit);

/* Parses a raw query string into decoded parameters (in arena a).
 * HT_EINVAL for a malformed %-escape. */
int api_query_parse(ht_arena *a, const char *query, api_param **out,
                    size_t *n);

#endif

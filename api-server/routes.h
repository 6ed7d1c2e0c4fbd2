/*
 * api-server/routes.h - handlers behind api_route(), one per resource.
 */
#ifndef API_ROUTES_H
#define API_ROUTES_H

#include <stdint.h>

#include "api-server/api.h"

/* Which path family a request came through: the family changes only the
 * cancel reply. */
typedef struct api_scope {
    const char *graph;
    int         gi;         /* index into ctx->graphs and ctx->state */
    int         graphspace; /* 1 for /graphspaces/{gs}/graphs/{g}/... */
} api_scope;

void api_tasks_list(api_req *req, api_resp *resp, const api_scope *s);
void api_task_get(api_req *req, api_resp *resp, const api_scope *s,
                  const char *id);
void api_task_delete(api_req *req, api_resp *resp, const api_scope *s,
                     const char *id);
void api_task_put(api_req *req, api_resp *resp, const api_scope *s,
                  const char *id);
void api_job_gremlin(api_req *req, api_resp *resp, const api_scope *s);
/* GET /health and GET /metrics (routes_ops.c). */
void api_health(api_req *req, api_resp *resp);
void api_metrics_reply(api_req *req, api_resp *resp);

/* Publishes a job or cancel hint (best effort: PostgreSQL has the truth). */
void api_publish(api_req *req, ht_msg_type type, const char *graph,
                 int64_t id);

#endif

/*
 * api-server/routes_ops.c - the operations endpoints: GET /health and
 * GET /metrics.
 *
 * /health is what load balancers and docker-compose health checks call:
 * 200 {"status":"ok"} when PostgreSQL answers a trivial query on this
 * thread's connection, else 503 in HugeGraph's error shape.  It stays open
 * with --auth basic.  /metrics is the Prometheus exposition (metrics.c); a
 * database failure there is a gauge, not an error, so the request metrics
 * still arrive while PostgreSQL is down.
 */
#include <string.h>

#include "api-server/metrics.h"
#include "api-server/reply_json.h"
#include "api-server/routes.h"
#include "common/store_stats.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

void
api_health(api_req *req, api_resp *resp)
{
    ht_err err;

    ht_err_clear(&err);
    if (ht_store_ping(req->db, &err) != HT_OK) {
        /* Whatever went wrong, the answer to "healthy?" is no. */
        err.http = 503;
        api_reply_error(req, resp, &err);
        return;
    }
    api_reply_json(req, resp, 200, json_pack("{s:s}", "status", "ok"));
}

void
api_metrics_reply(api_req *req, api_resp *resp)
{
    const char *text = NULL;
    size_t      len = 0;

    if (api_metrics_scrape(req->ctx->metrics, req->ctx, req->db, req->arena,
                           &text, &len) != HT_OK) {
        api_reply_fail(req, resp, 500, HT_EXC_SERVER, "out of memory");
        return;
    }
    resp->status = 200;
    resp->body = text;
    resp->len = len;
    resp->content_type = METRICS_CONTENT_TYPE;
}

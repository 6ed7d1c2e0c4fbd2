/*
 * api-server/http_server.h - the civetweb side of the API: start, stop, and
 * the per-thread database connection.
 */
#ifndef API_HTTP_SERVER_H
#define API_HTTP_SERVER_H

#include "api-server/api.h"

typedef struct api_http api_http;

/* Starts listening on ctx->cfg->listen; NULL (err filled) on failure. */
api_http *api_http_start(const api_ctx *ctx, ht_err *err);
/* Stops accepting, finishes in-flight requests, joins every thread. */
void api_http_stop(api_http *h);

#endif

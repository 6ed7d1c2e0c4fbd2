/*
 * api-server/reply_json.h - JSON replies: task objects, HugeGraph's error
 * body, and serialising a jansson value into the request arena.
 */
#ifndef API_REPLY_JSON_H
#define API_REPLY_JSON_H

#include <jansson.h>

#include "api-server/api.h"
#include "common/task.h"

/* A task as HugeGraph shows it: only the 15 allowed keys, absent values
 * omitted.  detail adds task_callable, task_input and task_result.
 * Returns a new reference, NULL on out-of-memory. */
json_t *api_task_json(const ht_task *t, int detail);

/* Replies with status and obj (the reference is stolen). */
void api_reply_json(api_req *req, api_resp *resp, int status, json_t *obj);

/* Replies {"exception": ..., "message": ..., "cause": ""} with err's HTTP
 * status (500 when it has none). */
void api_reply_error(api_req *req, api_resp *resp, const ht_err *err);

/* Shorthand: build an ht_err and reply with it. */
void api_reply_fail(api_req *req, api_resp *resp, int http,
                    const char *exception, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* 204, empty body. */
void api_reply_empty(api_resp *resp, int status);

#endif

/*
 * api-server/routes_jobs.c - POST .../jobs/gremlin.
 *
 * Validates the body completely before anything is written, builds the
 * task_input text HugeGraph stores ({"gremlin", "bindings", "language",
 * "aliases": {"<graph>": "graph"}}), inserts the queued row (autocommit:
 * the 201 is only sent once it is committed) and publishes a job hint.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api-server/reply_json.h"
#include "api-server/routes.h"
#include "common/log.h"
#include "common/store_task.h"
#include "common/task.h"
#include "common/util.h"

#define GREMLIN_TYPE     "gremlin"
#define GREMLIN_CALLABLE "org.apache.hugegraph.job.GremlinJob"
#define GREMLIN_LANGUAGE "gremlin-groovy"
#define TASK_NAME_MAX    256
/* Deepest request body accepted; bindings are flat in practice, and 250
 * levels overflowed an HTTP thread's stack inside jansson. */
#define MAX_BODY_DEPTH   64

static int
is_json_type(const char *ct)
{
    size_t n = strlen("application/json");

    if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
        return 0;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Checks the parsed body; replies and returns -1 when it is unacceptable. */
static int
check_body(api_req *req, api_resp *resp, json_t *body, const char **script,
           json_t **bindings)
{
    json_t *g = json_object_get(body, "gremlin");
    json_t *lang = json_object_get(body, "language");
    json_t *aliases = json_object_get(body, "aliases");
    json_t *b = json_object_get(body, "bindings");

    if (!json_is_string(g) || json_string_length(g) == 0) {
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       g == NULL || json_is_null(g)
                           ? "The gremlin parameter can't be null"
                           : "The gremlin parameter must be a non-empty string");
        return -1;
    }
    if (strlen(json_string_value(g)) != json_string_length(g)) {
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       "The gremlin parameter can't contain a NUL character");
        return -1;
    }
    if (lang != NULL && !json_is_null(lang) &&
        (!json_is_string(lang) || strcmp(json_string_value(lang), GREMLIN_LANGUAGE) != 0)) {
        char  shown[128];
        char *text = json_is_string(lang) ? NULL : json_dumps(lang, JSON_ENCODE_ANY);
        (void) snprintf(shown, sizeof(shown), "%s",
                        json_is_string(lang) ? json_string_value(lang) : text ? text : "?");
        free(text);
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       "Not support language '%s'", shown);
        return -1;
    }
    if (aliases != NULL && !json_is_null(aliases) &&
        !(json_is_object(aliases) && json_object_size(aliases) == 0)) {
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       "There is no need to pass gremlin aliases");
        return -1;
    }
    if (b != NULL && !json_is_null(b) && !json_is_object(b)) {
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       "The bindings must be a JSON object");
        return -1;
    }
    *script = json_string_value(g);
    *bindings = (b == NULL || json_is_null(b)) ? NULL : b;
    return 0;
}

/* The task_input text (in arena), or NULL on out-of-memory. */
static const char *
task_input(api_req *req, const char *graph, const char *script, json_t *bindings)
{
    json_t *in = json_pack("{s:s, s:O?, s:s, s:{s:s}}", "gremlin", script,
                           "bindings", bindings, "language", GREMLIN_LANGUAGE,
                           "aliases", graph, "graph");
    char   *text;
    char   *copy;

    if (in == NULL)
        return NULL;
    if (bindings == NULL && json_object_set_new(in, "bindings", json_object()) != 0) {
        json_decref(in);
        return NULL;
    }
    text = json_dumps(in, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(in);
    if (text == NULL)
        return NULL;
    copy = ht_arena_strdup(req->arena, text);
    free(text);
    return copy;
}

/* Is the graph's queue at its cap?  Far below it (more than a margin of 1%,
 * at least 100, away), a per-process estimate refreshed every second
 * answers without a query; near it, a count bounded by the cap decides.
 * Several API processes near the cap can together overshoot it by their
 * concurrent submissions, no more. */
static int
pending_full(api_req *req, const api_scope *s, int *full, ht_err *err)
{
    api_graph_state *st = &req->ctx->state[s->gi];
    int64_t          cap = req->ctx->cfg->max_pending;
    int64_t          margin = cap / 100 > 100 ? cap / 100 : 100;
    int64_t          now = ht_now_mono_ms();
    int64_t          queued;
    int              rc;

    HT_ASSERT(pthread_mutex_lock(&st->lock) == 0);
    if (st->checked_ms != 0 && now - st->checked_ms < 1000 &&
        st->queued + st->added < cap - margin) {
        st->added++;
        HT_ASSERT(pthread_mutex_unlock(&st->lock) == 0);
        *full = 0;
        return HT_OK;
    }
    HT_ASSERT(pthread_mutex_unlock(&st->lock) == 0);
    rc = ht_store_task_pending(req->db, s->graph, cap, &queued, err);
    if (rc != HT_OK)
        return rc;
    HT_ASSERT(pthread_mutex_lock(&st->lock) == 0);
    st->queued = queued;
    st->added = 1;
    st->checked_ms = now;
    HT_ASSERT(pthread_mutex_unlock(&st->lock) == 0);
    *full = queued >= cap;
    return HT_OK;
}

void
api_job_gremlin(api_req *req, api_resp *resp, const api_scope *s)
{
    json_error_t jerr;
    json_t      *body;
    json_t      *bindings = NULL;
    const char  *script = NULL;
    ht_task_new  t;
    int64_t      id;
    int          full = 0;
    ht_err       err;

    if (req->body == NULL || req->body_len == 0) {
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       "The request body can't be empty");
        return;
    }
    if (!is_json_type(req->content_type)) {
        api_reply_fail(req, resp, 415, HT_EXC_NOT_SUPPORTED,
                       "HTTP 415 Unsupported Media Type: expected application/json");
        return;
    }
    if (api_json_depth(req->body, req->body_len, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       "Invalid request body: nested deeper than %d levels",
                       MAX_BODY_DEPTH);
        return;
    }
    body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL) {
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       "Invalid request body: %s at line %d, column %d",
                       jerr.text, jerr.line, jerr.column);
        return;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       "Invalid request body: expected a JSON object");
        return;
    }
    if (check_body(req, resp, body, &script, &bindings) != 0) {
        json_decref(body);
        return;
    }
    t.graph = s->graph;
    t.type = GREMLIN_TYPE;
    t.callable = GREMLIN_CALLABLE;
    t.max_retries = req->ctx->cfg->max_retries;
    t.name = ht_arena_strndup(req->arena, script,
                              ht_task_name_len(script, TASK_NAME_MAX));
    t.input = task_input(req, s->graph, script, bindings);
    json_decref(body);
    if (t.name == NULL || t.input == NULL) {
        api_reply_json(req, resp, 500, NULL);
        return;
    }
    if (pending_full(req, s, &full, &err) != HT_OK) {
        api_reply_error(req, resp, &err);
        return;
    }
    if (full) {
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       "The graph '%s' already has %" PRId64
                       " pending tasks, the limit of max-pending; try again later",
                       s->graph, req->ctx->cfg->max_pending);
        return;
    }
    if (ht_store_task_insert(req->db, &t, &id, &err) != HT_OK) {
        api_reply_error(req, resp, &err);
        return;
    }
    /* Committed: now the hint, then the 201. */
    api_publish(req, HT_MSG_JOB, s->graph, id);
    HT_LOG_DEBUG("task.created", "graph=%s task=%lld", s->graph, (long long) id);
    api_reply_json(req, resp, 201, json_pack("{s:I}", "task_id", (json_int_t) id));
}

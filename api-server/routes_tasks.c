/*
 * api-server/routes_tasks.c - list, get, cancel and delete tasks.
 *
 * The rules (DESIGN §3): listing in ascending id; status in any case, UNKNOWN
 * matching nothing; limit -1 = all; ids ignores limit and refuses status and
 * page; page tokens are a keyset on id, fetched as limit+1 rows so the last
 * page says null without an empty extra page.  Cancel and delete are single
 * compare-and-set statements in store_task.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-server/reply_json.h"
#include "api-server/routes.h"
#include "common/store_task.h"
#include "common/util.h"

#define DEFAULT_LIMIT 100
#define PAGE_PREFIX   "p1."

/* Parses a task id from the path; replies 400 and returns -1 when it is not
 * a number that fits. */
static int
parse_id(api_req *req, api_resp *resp, const char *text, int64_t *id)
{
    if (ht_parse_i64(text, id) != 0) {
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       "Invalid task id '%s'", text);
        return -1;
    }
    return 0;
}

/* The opaque page token for "ids after last" (in arena). */
static const char *
page_token(ht_arena *a, int64_t last)
{
    return ht_arena_printf(a, PAGE_PREFIX "%" PRIx64, (uint64_t) last);
}

static int
page_parse(const char *token, int64_t *after)
{
    char              *end;
    unsigned long long v;
    size_t             plen = strlen(PAGE_PREFIX);

    if (*token == '\0') {
        *after = 0;
        return 0;
    }
    if (strncmp(token, PAGE_PREFIX, plen) != 0 || token[plen] == '\0' ||
        strlen(token + plen) > 16)
        return -1;
    for (const char *p = token + plen; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return -1;
    v = strtoull(token + plen, &end, 16);
    if (*end != '\0' || v > INT64_MAX)
        return -1;
    *after = (int64_t) v;
    return 0;
}

static void
reply_list(api_req *req, api_resp *resp, ht_task *tasks, size_t n,
           int paged, const char *next)
{
    json_t *list = json_array();
    json_t *o;

    for (size_t i = 0; list != NULL && i < n; i++) {
        json_t *t = api_task_json(&tasks[i], 0);
        if (t == NULL || json_array_append_new(list, t) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    if (list == NULL) {
        api_reply_json(req, resp, 500, NULL);
        return;
    }
    if (paged)
        o = json_pack("{s:o, s:s?}", "tasks", list, "page", next);
    else
        o = json_pack("{s:o}", "tasks", list);
    if (o != NULL && paged && next == NULL && json_object_set_new(o, "page", json_null()) != 0) {
        json_decref(o);
        o = NULL;
    }
    api_reply_json(req, resp, 200, o);
}

/* GET .../tasks?ids=1&ids=2 */
static void
list_ids(api_req *req, api_resp *resp, const api_scope *s)
{
    size_t         n = api_param_count(req, "ids"), k = 0, got = 0;
    int64_t       *ids = ht_arena_alloc(req->arena, sizeof(int64_t) * (n ? n : 1));
    ht_task_filter f = { .limit = -1 };
    ht_task       *tasks = NULL;
    ht_err         err;

    if (ids == NULL) {
        api_reply_json(req, resp, 500, NULL);
        return;
    }
    for (size_t i = 0; i < req->n_params; i++) {
        if (strcmp(req->params[i].name, "ids") != 0)
            continue;
        if (parse_id(req, resp, req->params[i].value, &ids[k]) != 0)
            return;
        k++;
    }
    f.ids = ids;
    f.n_ids = k;
    if (ht_store_task_list(req->db, req->arena, s->graph, &f, &tasks, &got,
                           &err) != HT_OK) {
        api_reply_error(req, resp, &err);
        return;
    }
    reply_list(req, resp, tasks, got, 0, NULL);
}

void
api_tasks_list(api_req *req, api_resp *resp, const api_scope *s)
{
    const char    *status = api_param_get(req, "status");
    const char    *limit = api_param_get(req, "limit");
    const char    *page = api_param_get(req, "page");
    ht_task_filter f = { .limit = DEFAULT_LIMIT };
    ht_task_status st;
    ht_task       *tasks = NULL;
    size_t         n = 0;
    ht_err         err;

    if (api_param_count(req, "ids") > 0) {
        if (status != NULL || page != NULL) {
            api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                           "Not support query by ids together with %s",
                           status != NULL ? "status" : "page");
            return;
        }
        list_ids(req, resp, s);
        return;
    }
    if (status != NULL) {
        if (ht_task_status_parse(status, &st) != 0) {
            api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                           "Status value must be in %s, but got '%s'",
                           ht_task_status_list_text(), status);
            return;
        }
        if (st == HT_TASK_STATUS_COUNT) { /* UNKNOWN: no task has it */
            reply_list(req, resp, NULL, 0, page != NULL, NULL);
            return;
        }
        f.status = ht_task_status_name(st);
    }
    if (limit != NULL && (ht_parse_i64(limit, &f.limit) != 0 || f.limit < -1)) {
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG,
                       "Invalid limit '%s', it must be -1 (all) or >= 0", limit);
        return;
    }
    if (page != NULL && page_parse(page, &f.after_id) != 0) {
        api_reply_fail(req, resp, 400, HT_EXC_ILLEGAL_ARG, "Invalid page '%s'",
                       page);
        return;
    }
    if (f.limit == 0) {
        reply_list(req, resp, NULL, 0, page != NULL, NULL);
        return;
    }
    /* One extra row tells whether another page follows. */
    if (page != NULL && f.limit > 0 && f.limit < INT64_MAX)
        f.limit++;
    if (ht_store_task_list(req->db, req->arena, s->graph, &f, &tasks, &n,
                           &err) != HT_OK) {
        api_reply_error(req, resp, &err);
        return;
    }
    if (page != NULL) {
        const char *next = NULL;
        if (f.limit > 0 && n == (size_t) f.limit) {
            n--;
            next = page_token(req->arena, tasks[n - 1].id);
        }
        reply_list(req, resp, tasks, n, 1, next);
        return;
    }
    reply_list(req, resp, tasks, n, 0, NULL);
}

void
api_task_get(api_req *req, api_resp *resp, const api_scope *s, const char *id_text)
{
    int64_t id;
    ht_task t;
    ht_err  err;

    if (parse_id(req, resp, id_text, &id) != 0)
        return;
    if (ht_store_task_get(req->db, req->arena, s->graph, id, &t, &err) != HT_OK) {
        api_reply_error(req, resp, &err);
        return;
    }
    api_reply_json(req, resp, 200, api_task_json(&t, 1));
}

void
api_task_delete(api_req *req, api_resp *resp, const api_scope *s,
                const char *id_text)
{
    const char *force = api_param_get(req, "force");
    int64_t     id;
    ht_err      err;
    int         forced = force != NULL && strcmp(force, "true") == 0;

    if (parse_id(req, resp, id_text, &id) != 0)
        return;
    if (ht_store_task_delete(req->db, s->graph, id, forced, &err) != HT_OK) {
        api_reply_error(req, resp, &err);
        return;
    }
    /* A worker running it sees the row gone at its next heartbeat; the
     * hint only makes it sooner.  Its fenced writes match no row. */
    if (forced)
        api_publish(req, HT_MSG_CANCEL, s->graph, id);
    api_reply_empty(resp, 204);
}

void
api_task_put(api_req *req, api_resp *resp, const api_scope *s, const char *id_text)
{
    const char    *action = api_param_get(req, "action");
    ht_task_status now;
    int64_t        id;
    ht_err         err;

    /* HugeGraph checks the action before it looks at the id. */
    if (action == NULL || strcmp(action, "cancel") != 0) {
        api_reply_fail(req, resp, 415, HT_EXC_NOT_SUPPORTED,
                       "Not support action '%s'", action ? action : "null");
        return;
    }
    if (parse_id(req, resp, id_text, &id) != 0)
        return;
    if (ht_store_task_cancel(req->db, s->graph, id, &now, &err) != HT_OK) {
        api_reply_error(req, resp, &err);
        return;
    }
    if (now == HT_TASK_CANCELLING)
        api_publish(req, HT_MSG_CANCEL, s->graph, id);
    if (s->graphspace) {
        ht_task t;
        if (ht_store_task_get(req->db, req->arena, s->graph, id, &t, &err) != HT_OK) {
            api_reply_error(req, resp, &err);
            return;
        }
        api_reply_json(req, resp, 202, api_task_json(&t, 1));
        return;
    }
    api_reply_json(req, resp, 202, json_pack("{s:b}", "cancelled", 1));
}

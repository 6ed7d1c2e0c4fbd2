/*
 * api-server/reply_json.c - JSON replies (see reply_json.h).
 *
 * Key order follows the seed's examples (jansson keeps insertion order
 * with JSON_PRESERVE_ORDER), so curl output reads like HugeGraph's docs.
 */
#include "api-server/reply_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static int
set_str(json_t *o, const char *key, const char *v)
{
    if (v == NULL)
        return 0;
    return json_object_set_new(o, key, json_string(v));
}

json_t *
api_task_json(const ht_task *t, int detail)
{
    json_t *o = json_object();
    int     bad = 0;

    if (o == NULL)
        return NULL;
    bad |= set_str(o, "task_name", t->name);
    bad |= json_object_set_new(o, "task_progress", json_integer(t->progress));
    bad |= json_object_set_new(o, "task_create", json_integer(t->create_ms));
    bad |= set_str(o, "task_status", t->status);
    bad |= json_object_set_new(o, "task_update", json_integer(t->update_ms));
    if (detail)
        bad |= set_str(o, "task_result", t->result);
    bad |= json_object_set_new(o, "task_retries", json_integer(t->retries));
    bad |= json_object_set_new(o, "id", json_integer(t->id));
    bad |= set_str(o, "task_type", t->type);
    if (detail)
        bad |= set_str(o, "task_callable", t->callable);
    bad |= set_str(o, "task_description", t->description);
    bad |= set_str(o, "task_server", t->server);
    if (detail)
        bad |= set_str(o, "task_input", t->input);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void
set_body(api_req *req, api_resp *resp, int status, char *text)
{
    size_t len = strlen(text);
    char  *copy = ht_arena_strndup(req->arena, text, len);

    free(text);
    if (copy == NULL) {
        resp->status = 500;
        resp->body = NULL;
        resp->len = 0;
        return;
    }
    resp->status = status;
    resp->body = copy;
    resp->len = len;
}

void
api_reply_json(api_req *req, api_resp *resp, int status, json_t *obj)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

    json_decref(obj);
    if (text == NULL) {
        HT_LOG_ERROR("api.oom", "what=\"serialising a reply\"");
        resp->status = 500;
        resp->body = "{\"exception\":\"class org.apache.hugegraph.HugeException\","
                     "\"message\":\"out of memory\",\"cause\":\"\"}";
        resp->len = strlen(resp->body);
        return;
    }
    set_body(req, resp, status, text);
}

/* Replaces every byte that is not part of valid UTF-8 with '?', so a
 * message quoting client input can always become a JSON string. */
static void
utf8_clean(char *s)
{
    unsigned char *p = (unsigned char *) s;

    while (*p) {
        int need = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1
                 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        int ok = need >= 0 && !(*p == 0xC0 || *p == 0xC1 || *p > 0xF4);
        for (int i = 1; ok && i <= need; i++)
            ok = (p[i] & 0xC0) == 0x80;
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += need + 1;
    }
}

void
api_reply_error(api_req *req, api_resp *resp, const ht_err *err)
{
    int     status = err->http ? err->http : 500;
    char    msg[sizeof(err->msg)];
    json_t *o;

    memcpy(msg, err->msg, sizeof(msg));
    msg[sizeof(msg) - 1] = '\0';
    utf8_clean(msg);
    o = json_pack("{s:s, s:s, s:s}", "exception",
                  err->exception ? err->exception : HT_EXC_SERVER, "message",
                  msg, "cause", "");

    if (status >= 500) {
        char q[256];
        HT_LOG_WARN("api.error", "status=%d msg=%s detail=%s", status,
                    ht_logq(q, sizeof(q), msg),
                    err->detail[0] ? err->detail : "none");
    }
    api_reply_json(req, resp, status, o);
}

void
api_reply_fail(api_req *req, api_resp *resp, int http, const char *exception,
               const char *fmt, ...)
{
    ht_err  err;
    va_list ap;

    ht_err_clear(&err);
    err.code = HT_EINVAL;
    err.http = http;
    err.exception = exception;
    va_start(ap, fmt);
    (void) vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
    va_end(ap);
    api_reply_error(req, resp, &err);
}

void
api_reply_empty(api_resp *resp, int status)
{
    resp->status = status;
    resp->body = NULL;
    resp->len = 0;
}

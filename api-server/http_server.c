/*
 * api-server/http_server.c - civetweb glue.
 *
 * One begin_request callback takes every request: it reads the body (up to
 * the input limit), parses the query, runs api_route() with an arena and
 * this thread's database connection, and writes the reply with an exact
 * Content-Length so keep-alive works.  Each civetweb worker thread owns one
 * lazily opened connection, closed when the thread exits.  No document
 * root: civetweb serves no files.
 *
 * Around every request: a request id (the client's X-Request-Id when it
 * is a safe token, else a new one) that the reply echoes and every log line
 * of this thread carries (ht_log_req_set); basic auth when it is on, before
 * the body is read; and the request counters and latency histogram of
 * /metrics, by route pattern.  The access line (evt=http.request) is at
 * debug level: at info it would be one line per request, which the default
 * output has never carried.
 *
 * Stopping waits for the requests already inside begin_request (a body
 * still arriving, a query running) before mg_stop, which would otherwise
 * cut them off mid-read without a reply: a SIGTERM'd API answers what it
 * has started (issue 4).  The wait is capped at DRAIN_MS.
 */
#include "api-server/http_server.h"

#include <civetweb.h>
#include <inttypes.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api-server/auth.h"
#include "api-server/metrics.h"
#include "api-server/reply_json.h"
#include "api-server/req_id.h"
#include "common/log.h"
#include "common/util.h"

/* The longest a stop waits for in-flight requests. */
#define DRAIN_MS 10000

struct api_http {
    struct mg_context *mg;
    const api_ctx     *ctx;
    atomic_int         inflight; /* requests inside begin_request */
};

typedef struct thread_state {
    ht_db *db;
} thread_state;

/* Does the comma list hdr name token (any case)? */
static int
has_token(const char *hdr, const char *token)
{
    size_t len = strlen(token);

    for (const char *p = hdr; *p; p++)
        if (strncasecmp(p, token, len) == 0)
            return 1;
    return 0;
}

/* Does the client keep the connection after this reply?  The same rule
 * civetweb applies once the callback returns (it closes after a 401). */
static int
keeps_alive(const struct mg_connection *conn, int status)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *hdr = mg_get_header(conn, "Connection");

    if (status == 401 || ri == NULL || ri->http_version == NULL)
        return 0;
    if (hdr != NULL && has_token(hdr, "close"))
        return 0;
    if (hdr != NULL && has_token(hdr, "keep-alive"))
        return 1;
    return strcmp(ri->http_version, "1.1") == 0;
}

/* Writes the reply with one write, so that with TCP_NODELAY it leaves in
 * as few segments as it can (civetweb's header calls send every header on
 * its own: nine send(2) calls a GET).  With head_only the headers say what
 * the body would be, but it is not sent. */
static void
send_reply(struct mg_connection *conn, const api_resp *resp, int head_only,
           const char *request_id)
{
    size_t body = resp->body ? resp->len : 0;
    char   head[768];
    char  *out;
    int    n;

    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 %d %s\r\n"
                 "%s%s%s"
                 "Content-Length: %zu\r\n"
                 "Connection: %s\r\n"
                 "%s"
                 "%s%s%s"
                 "\r\n",
                 resp->status, mg_get_response_code_text(conn, resp->status),
                 resp->body ? "Content-Type: " : "",
                 resp->body ? (resp->content_type ? resp->content_type
                                                  : "application/json;charset=utf-8")
                            : "",
                 resp->body ? "\r\n" : "", body,
                 keeps_alive(conn, resp->status) ? "keep-alive" : "close",
                 resp->challenge ? "WWW-Authenticate: Basic realm=\"" API_AUTH_REALM "\"\r\n"
                                 : "",
                 request_id ? "X-Request-Id: " : "", request_id ? request_id : "",
                 request_id ? "\r\n" : "");
    if (n < 0 || (size_t) n >= sizeof(head)) {
        HT_LOG_ERROR("http.head_too_long", "status=%d", resp->status);
        return;
    }
    if (head_only || body == 0) {
        if (mg_write(conn, head, (size_t) n) < 0)
            HT_LOG_DEBUG("http.write_failed", "bytes=%d", n);
        return;
    }
    out = malloc((size_t) n + body);
    if (out == NULL) {
        /* Two writes then; the reply is still whole. */
        if (mg_write(conn, head, (size_t) n) < 0 || mg_write(conn, resp->body, body) < 0)
            HT_LOG_DEBUG("http.write_failed", "bytes=%zu", (size_t) n + body);
        return;
    }
    memcpy(out, head, (size_t) n);
    memcpy(out + n, resp->body, body);
    if (mg_write(conn, out, (size_t) n + body) < 0)
        HT_LOG_DEBUG("http.write_failed", "bytes=%zu", (size_t) n + body);
    free(out);
}

/* Reads the whole body into the arena.  Returns 0, or the HTTP status to
 * fail with (413 past the limit, 400 on a short read, 500 out of memory). */
static int
read_body(struct mg_connection *conn, api_req *req, int64_t limit)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    long long declared = ri->content_length;
    size_t    cap, len = 0;
    char     *buf;

    if (declared > limit)
        return 413;
    cap = declared >= 0 ? (size_t) declared : 4096;
    buf = ht_arena_alloc(req->arena, cap + 1);
    if (buf == NULL)
        return 500;
    for (;;) {
        int n;
        if (len == cap) {
            if (declared >= 0)
                break;
            if ((int64_t) cap >= limit)
                return 413;
            size_t ncap = cap * 2 > (size_t) limit ? (size_t) limit : cap * 2;
            char  *nbuf = ht_arena_alloc(req->arena, ncap + 1);
            if (nbuf == NULL)
                return 500;
            memcpy(nbuf, buf, len);
            buf = nbuf;
            cap = ncap;
        }
        n = mg_read(conn, buf + len, cap - len);
        if (n < 0)
            return 400;
        if (n == 0)
            break;
        len += (size_t) n;
    }
    if (declared >= 0 && len != (size_t) declared)
        return 400;
    buf[len] = '\0';
    req->body = len ? buf : NULL;
    req->body_len = len;
    return 0;
}

/* Microseconds on the monotonic clock (latency needs better than ms). */
static int64_t
now_us(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The client's X-Request-Id when acceptable, else a new one, into id. */
static void
request_id_of(struct mg_connection *conn, char id[API_REQ_ID_MAX + 1])
{
    const char *in = conn ? mg_get_header(conn, "X-Request-Id") : NULL;

    if (api_req_id_ok(in))
        (void) snprintf(id, API_REQ_ID_MAX + 1, "%s", in);
    else
        api_req_id_new(id);
}

static int
begin_request(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    api_http     *h = ri->user_data;
    thread_state *ts = mg_get_thread_pointer(conn);
    api_req       req = { 0 };
    api_resp      resp = { 500, NULL, 0, NULL, 0 };
    int64_t       t0 = now_us(), us;
    char          id[API_REQ_ID_MAX + 1];
    char          uq[96];
    int           rc, head;

    atomic_fetch_add(&h->inflight, 1);
    api_metrics_inflight(h->ctx->metrics, 1);
    request_id_of(conn, id);
    ht_log_req_set(id);
    req.arena = ht_arena_new(16384, 0);
    req.ctx = h->ctx;
    req.request_id = id;
    /* HEAD is GET without the body, as Jersey serves it. */
    head = strcmp(ri->request_method, "HEAD") == 0;
    req.method = head ? "GET" : ri->request_method;
    req.path = ri->local_uri ? ri->local_uri : "/";
    req.route = api_route_classify(req.path);
    req.content_type = mg_get_header(conn, "Content-Type");
    req.authorization = mg_get_header(conn, "Authorization");
    if (ts->db == NULL)
        ts->db = ht_db_open(h->ctx->cfg->database_url, "hugetask-api", 0, NULL);
    req.db = ts->db;

    /* Auth comes first, as HugeGraph's filter does: a client without
     * credentials learns nothing about paths, and no body is read for it. */
    if (!api_route_is_open(req.route) && !api_auth_check(h->ctx->auth, &req, &resp)) {
        /* resp is the 401 (or 503) */
    } else if (api_query_parse(req.arena, ri->query_string, &req.params, &req.n_params) != HT_OK) {
        api_reply_fail(&req, &resp, 400, HT_EXC_ILLEGAL_ARG,
                       "Invalid query string: bad %%-escape");
    } else if ((rc = read_body(conn, &req, h->ctx->cfg->max_input_bytes)) != 0) {
        if (rc == 413)
            api_reply_fail(&req, &resp, 413, HT_EXC_LIMIT,
                           "The request body is larger than the limit of %" PRId64
                           " bytes", h->ctx->cfg->max_input_bytes);
        else if (rc == 400)
            api_reply_fail(&req, &resp, 400, HT_EXC_ILLEGAL_ARG,
                           "The request body ended before its Content-Length");
        else
            api_reply_fail(&req, &resp, 500, HT_EXC_SERVER, "out of memory");
    } else {
        api_route(&req, &resp);
    }
    send_reply(conn, &resp, head, id);
    us = now_us() - t0;
    api_metrics_observe(h->ctx->metrics, req.route, api_method_of(ri->request_method),
                        resp.status, us);
    HT_LOG_DEBUG("http.request",
                 "method=%s route=%s code=%d duration_ms=%.3f user=%s",
                 head ? "HEAD" : req.method, api_route_name(req.route), resp.status,
                 (double) us / 1000.0,
                 req.user ? ht_logq(uq, sizeof(uq), req.user) : "-");
    ht_arena_free(req.arena);
    ht_log_req_set(NULL);
    api_metrics_inflight(h->ctx->metrics, -1);
    atomic_fetch_sub(&h->inflight, 1);
    return resp.status; /* non-zero: handled */
}

/*
 * Errors civetweb answers on its own (an unknown method, a malformed
 * request line, oversized headers) get HugeGraph's JSON shape too.  A
 * request whose method civetweb does not know is a known path with a wrong
 * method as far as a client can tell: 405, as Jersey answers.
 */
static int
http_error(struct mg_connection *conn, int status, const char *errmsg)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    static const char *const known[] = { "GET", "POST", "PUT", "DELETE", "HEAD",
                                         "OPTIONS", "PATCH", "CONNECT", NULL };
    const char *exception = status >= 500 ? HT_EXC_SERVER : HT_EXC_ILLEGAL_ARG;
    api_http   *h = ri != NULL ? ri->user_data : NULL;
    char        body[512];
    char        id[API_REQ_ID_MAX + 1];
    api_resp    resp = { 0, NULL, 0, NULL, 0 };
    api_route_id route;
    api_method  method;
    int         n, unknown_method = 0;

    (void) errmsg;
    if (status == 400 && ri != NULL && ri->request_method != NULL &&
        ri->request_method[0] != '\0' && ri->request_uri != NULL &&
        ri->request_uri[0] == '/') {
        unknown_method = 1;
        for (int i = 0; known[i] != NULL; i++)
            if (strcmp(ri->request_method, known[i]) == 0)
                unknown_method = 0;
    }
    if (unknown_method) {
        status = 405;
        exception = HT_EXC_NOT_ALLOWED;
    } else if (status == 404) {
        exception = HT_EXC_NO_ROUTE;
    } else if (status == 413 || status == 431) {
        exception = HT_EXC_LIMIT;
    }
    n = snprintf(body, sizeof(body),
                 "{\"exception\":\"%s\",\"message\":\"HTTP %d %s\",\"cause\":\"\"}",
                 exception, status,
                 unknown_method ? "Method Not Allowed" : "Bad Request");
    if (n < 0 || (size_t) n >= sizeof(body))
        return 1;
    resp.status = status;
    resp.body = body;
    resp.len = (size_t) n;
    /* The headers may be what was wrong: a new id unless one parsed. */
    request_id_of(ri != NULL ? conn : NULL, id);
    send_reply(conn, &resp, 0, id);
    route = ri != NULL && ri->local_uri != NULL ? api_route_classify(ri->local_uri)
                                                : API_ROUTE_UNMATCHED;
    method = api_method_of(ri != NULL ? ri->request_method : NULL);
    if (h != NULL)
        api_metrics_count(h->ctx->metrics, route, method, status);
    ht_log_req_set(id);
    HT_LOG_DEBUG("http.request", "method=%s route=%s code=%d", api_method_name(method),
                 api_route_name(route), status);
    ht_log_req_set(NULL);
    return 0;
}

static void *
init_thread(const struct mg_context *ctx, int type)
{
    (void) ctx;
    /* Type 1 is a request worker; the others never reach begin_request. */
    return type == 1 ? ht_xcalloc(1, sizeof(thread_state)) : NULL;
}

static void
exit_thread(const struct mg_context *ctx, int type, void *p)
{
    thread_state *ts = p;

    (void) ctx;
    (void) type;
    if (ts != NULL) {
        ht_db_close(ts->db);
        free(ts);
    }
}

static int
log_message(const struct mg_connection *conn, const char *msg)
{
    char q[256];

    (void) conn;
    HT_LOG_WARN("http.civetweb", "msg=%s", ht_logq(q, sizeof(q), msg));
    return 1;
}

api_http *
api_http_start(const api_ctx *ctx, ht_err *err)
{
    api_http           *h = ht_xcalloc(1, sizeof(*h));
    struct mg_callbacks cb;
    char                threads[16];
    const char         *options[] = {
        "listening_ports", ctx->cfg->listen,
        "num_threads", threads,
        "enable_keep_alive", "yes",
        /* A connection holds a thread while open: idle ones must not pin
         * them for long (a client pool of idle connections would starve
         * everyone else). */
        "request_timeout_ms", "10000",
        "keep_alive_timeout_ms", "5000",
        "listen_backlog", "1024",
        /* Headers and body leave in separate writes: without this, Nagle
         * and the client's delayed ACK hold every keep-alive reply ~40 ms. */
        "tcp_nodelay", "1",
        NULL
    };

    (void) snprintf(threads, sizeof(threads), "%d", ctx->cfg->threads);
    memset(&cb, 0, sizeof(cb));
    cb.begin_request = begin_request;
    cb.init_thread = init_thread;
    cb.exit_thread = exit_thread;
    cb.log_message = log_message;
    cb.http_error = http_error;
    h->ctx = ctx;
    atomic_init(&h->inflight, 0);
    /* Returns the features it set up, which is 0 when none are asked for
     * (this build says 0 for IPv6 too), so only mg_start can tell failure. */
    (void) mg_init_library(0);
    h->mg = mg_start(&cb, h, options);
    if (h->mg == NULL) {
        (void) mg_exit_library();
        free(h);
        ht_err_set(err, HT_EIO, 0, NULL, "could not listen on \"%s\"",
                   ctx->cfg->listen);
        return NULL;
    }
    return h;
}

void
api_http_stop(api_http *h)
{
    int64_t until;
    int     n;

    if (h == NULL)
        return;
    until = ht_now_mono_ms() + DRAIN_MS;
    n = atomic_load(&h->inflight);
    if (n > 0)
        HT_LOG_INFO("http.draining", "inflight=%d", n);
    while (atomic_load(&h->inflight) > 0 && ht_now_mono_ms() < until)
        (void) poll(NULL, 0, 10);
    n = atomic_load(&h->inflight);
    if (n > 0)
        HT_LOG_WARN("http.drain_timeout", "inflight=%d", n);
    mg_stop(h->mg);
    (void) mg_exit_library();
    free(h);
}

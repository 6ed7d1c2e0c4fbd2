/*
 * tests/harness/http.c - a minimal HTTP/1.1 client for the tests.
 *
 * One request per connection (Connection: close), to 127.0.0.1 only.  It
 * reads until the reply is complete by its own framing (Content-Length or
 * chunked) or until the server closes, so it works whether or not the
 * server honours Connection: close.  Strict on purpose: a malformed status
 * line, a short body or bad chunk framing is an error, since those are bugs
 * of the server under test.  Not here: keep-alive, redirects, TLS, IPv6.
 */
#include "tests/harness/harness.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define TH_HTTP_MAX (64u * 1024u * 1024u) /* largest reply we accept */

typedef struct http_ctx {
    const char *method;
    const char *path;
    int quiet;      /* no message for transport errors */
} http_ctx;

static void http_err(const http_ctx *c, int transport, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
http_err(const http_ctx *c, int transport, const char *fmt, ...)
{
    va_list ap;

    if (transport && c->quiet)
        return;
    fprintf(stderr, "harness: %s %s: ", c->method, c->path);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Waits for events on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
        int64_t left = deadline - th_mono_ms();
        int r;

        if (left <= 0)
            return 0;
        r = poll(&p, 1, left > 1000000 ? 1000000 : (int) left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

typedef struct buf {
    char  *data;
    size_t len;
    size_t cap;
} buf;

static int
buf_reserve(buf *b, size_t more)
{
    size_t cap = b->cap != 0 ? b->cap : 4096;
    char *p;

    if (b->len + more + 1 <= b->cap)
        return 0;
    while (cap < b->len + more + 1)
        cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static int
buf_append(buf *b, const char *p, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* Finds "\r\n\r\n"; returns the offset just past it, or 0. */
static size_t
header_end(const buf *b)
{
    for (size_t i = 0; i + 3 < b->len; i++) {
        if (memcmp(b->data + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    }
    return 0;
}

typedef struct head {
    int    status;
    int    chunked;
    int    has_length;
    size_t length;
    char   content_type[128];
} head;

/* Parses the status line and the headers we care about in data[0, end). */
static int
parse_head(const http_ctx *c, const char *data, size_t end, head *h)
{
    const char *p = data, *stop = data + end - 2; /* before the last CRLF */
    int major, minor, status, n = 0;

    memset(h, 0, sizeof *h);
    if (sscanf(p, "HTTP/%d.%d %3d%n", &major, &minor, &status, &n) != 3 ||
        major != 1 || status < 100 || status > 599 ||
        (p[n] != ' ' && p[n] != '\r')) {
        http_err(c, 0, "bad status line: %.60s", p);
        return -1;
    }
    h->status = status;
    p = strstr(p, "\r\n");
    while (p != NULL && p + 2 < stop) {
        const char *line = p + 2, *eol = strstr(line, "\r\n");
        const char *colon = memchr(line, ':', (size_t) (eol - line));
        const char *v;
        size_t vlen;

        if (eol == NULL || colon == NULL) {
            http_err(c, 0, "bad header line: %.60s", line);
            return -1;
        }
        v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        vlen = (size_t) (eol - v);
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
#define TH_IS(name) ((size_t) (colon - line) == strlen(name) && \
                     strncasecmp(line, name, strlen(name)) == 0)
        if (TH_IS("Content-Length")) {
            char num[32], *e;
            unsigned long long len;

            if (vlen == 0 || vlen >= sizeof num) {
                http_err(c, 0, "bad Content-Length");
                return -1;
            }
            memcpy(num, v, vlen);
            num[vlen] = '\0';
            errno = 0;
            len = strtoull(num, &e, 10);
            if (errno != 0 || *e != '\0' || num[0] == '-' ||
                (h->has_length && h->length != len)) {
                http_err(c, 0, "bad Content-Length '%s'", num);
                return -1;
            }
            h->has_length = 1;
            h->length = (size_t) len;
        } else if (TH_IS("Transfer-Encoding")) {
            /* The last coding must be chunked for us to frame by it. */
            if (vlen >= 7 && strncasecmp(v + vlen - 7, "chunked", 7) == 0)
                h->chunked = 1;
        } else if (TH_IS("Content-Type")) {
            snprintf(h->content_type, sizeof h->content_type, "%.*s",
                     (int) vlen, v);
        }
#undef TH_IS
        p = eol;
    }
    return 0;
}

/* Decodes a chunked body from in[0, n).  1 complete (body in out), 0 need
 * more, -1 malformed. */
static int
dechunk(const char *in, size_t n, buf *out)
{
    size_t i = 0;

    out->len = 0;
    for (;;) {
        size_t size = 0;
        int digits = 0;

        while (i < n) {
            char ch = in[i];
            int d;

            if (ch >= '0' && ch <= '9')
                d = ch - '0';
            else if (ch >= 'a' && ch <= 'f')
                d = ch - 'a' + 10;
            else if (ch >= 'A' && ch <= 'F')
                d = ch - 'A' + 10;
            else
                break;
            if (size > (TH_HTTP_MAX >> 4))
                return -1;
            size = size * 16 + (size_t) d;
            digits++;
            i++;
        }
        if (i >= n)
            return 0;
        if (digits == 0)
            return -1;
        /* Skip chunk extensions up to the CRLF. */
        while (i < n && in[i] != '\r')
            i++;
        if (i + 1 >= n)
            return 0;
        if (in[i + 1] != '\n')
            return -1;
        i += 2;
        if (size == 0) {
            /* Trailers, then an empty line. */
            for (;;) {
                const char *eol;

                if (i + 1 >= n)
                    return 0;
                eol = memchr(in + i, '\r', n - i);
                if (eol == NULL || (size_t) (eol - in) + 1 >= n)
                    return 0;
                if (eol[1] != '\n')
                    return -1;
                if (eol == in + i)
                    return 1;
                i = (size_t) (eol - in) + 2;
            }
        }
        if (n - i < size + 2)
            return 0;
        if (in[i + size] != '\r' || in[i + size + 1] != '\n')
            return -1;
        if (buf_append(out, in + i, size) != 0)
            return -1;
        i += size + 2;
    }
}

static int
http_do(int port, const char *method, const char *path, const char *body,
        const char *ctype, int quiet, th_resp *out)
{
    http_ctx c = { method, path, quiet };
    int64_t deadline = th_mono_ms() + (int64_t) (30000.0 * th_timeout_mult());
    struct sockaddr_in sa;
    buf req = { 0 }, in = { 0 }, dec = { 0 };
    size_t blen = body != NULL ? strlen(body) : 0, hend = 0, sent = 0;
    int fd = -1, rc = -1, eof = 0;
    head h;

    memset(out, 0, sizeof *out);
    memset(&h, 0, sizeof h);
    if (port <= 0 || port > 65535) {
        http_err(&c, 0, "bad port %d", port);
        return -1;
    }
    if (body != NULL && ctype == NULL)
        ctype = "application/json";

    /* The request: headers fit in 512 bytes past the method and path. */
    if (buf_reserve(&req, strlen(method) + strlen(path) + 512 + blen +
                              (ctype != NULL ? strlen(ctype) : 0)) != 0) {
        http_err(&c, 0, "out of memory");
        goto done;
    }
    req.len = (size_t) snprintf(req.data, req.cap, "%s %s HTTP/1.1\r\n"
                                "Host: 127.0.0.1:%d\r\nConnection: close\r\n"
                                "Accept: application/json\r\n"
                                "User-Agent: hugetask-test-harness\r\n",
                                method, path, port);
    if (body != NULL)
        req.len += (size_t) snprintf(req.data + req.len, req.cap - req.len,
                                     "Content-Type: %s\r\n", ctype);
    if (body != NULL || strcmp(method, "GET") != 0)
        req.len += (size_t) snprintf(req.data + req.len, req.cap - req.len,
                                     "Content-Length: %zu\r\n", blen);
    req.len += (size_t) snprintf(req.data + req.len, req.cap - req.len, "\r\n");
    if (buf_append(&req, body != NULL ? body : "", blen) != 0) {
        http_err(&c, 0, "out of memory");
        goto done;
    }

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        http_err(&c, 1, "socket: %s", strerror(errno));
        goto done;
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t) port);
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        http_err(&c, 1, "connect to 127.0.0.1:%d: %s", port, strerror(errno));
        goto done;
    }
    while (sent < req.len) {
        ssize_t w;

        if (wait_fd(fd, POLLOUT, deadline) != 1) {
            http_err(&c, 1, "timed out sending the request");
            goto done;
        }
        w = send(fd, req.data + sent, req.len - sent, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            http_err(&c, 1, "send: %s", strerror(errno));
            goto done;
        }
        sent += (size_t) w;
    }

    /* The reply: read until its framing says it is complete, or EOF. */
    for (;;) {
        char chunk[16384];
        ssize_t r;
        int w;

        if (hend == 0 && (hend = header_end(&in)) != 0) {
            if (parse_head(&c, in.data, hend, &h) != 0)
                goto done;
        }
        if (hend != 0) {
            size_t have = in.len - hend;
            int bodyless = h.status == 204 || h.status == 304 ||
                           (h.status >= 100 && h.status < 200) ||
                           strcmp(method, "HEAD") == 0;

            if (bodyless)
                break;
            if (h.chunked) {
                int d = dechunk(in.data + hend, have, &dec);

                if (d < 0) {
                    http_err(&c, 0, "malformed chunked body");
                    goto done;
                }
                if (d == 1)
                    break;
            } else if (h.has_length && have >= h.length) {
                if (have > h.length) {
                    http_err(&c, 0, "%zu bytes past Content-Length %zu",
                             have - h.length, h.length);
                    goto done;
                }
                break;
            }
        }
        if (eof) {
            if (hend == 0) {
                http_err(&c, 1, "connection closed before a complete "
                         "reply (%zu bytes read)", in.len);
                goto done;
            }
            if (h.chunked || h.has_length) {
                http_err(&c, 0, "connection closed inside the body");
                goto done;
            }
            break; /* no framing: the body runs to EOF */
        }
        w = wait_fd(fd, POLLIN, deadline);
        if (w != 1) {
            http_err(&c, 1, "timed out waiting for the reply (%zu bytes read)",
                     in.len);
            goto done;
        }
        r = recv(fd, chunk, sizeof chunk, 0);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            http_err(&c, 1, "recv: %s", strerror(errno));
            goto done;
        }
        if (r == 0) {
            eof = 1;
            continue;
        }
        if (in.len + (size_t) r > TH_HTTP_MAX) {
            http_err(&c, 0, "reply larger than %u bytes", TH_HTTP_MAX);
            goto done;
        }
        if (buf_append(&in, chunk, (size_t) r) != 0) {
            http_err(&c, 0, "out of memory");
            goto done;
        }
    }

    out->status = h.status;
    snprintf(out->content_type, sizeof out->content_type, "%s", h.content_type);
    if (h.chunked) {
        out->body_len = dec.len;
        out->body = dec.data;
        dec.data = NULL;
    } else {
        out->body_len = (h.status == 204 || h.status == 304 ||
                         strcmp(method, "HEAD") == 0)
                            ? 0
                            : in.len - hend;
        out->body = malloc(out->body_len + 1);
        if (out->body == NULL) {
            http_err(&c, 0, "out of memory");
            goto done;
        }
        memcpy(out->body, in.data + hend, out->body_len);
    }
    if (out->body == NULL && (out->body = malloc(1)) == NULL) {
        http_err(&c, 0, "out of memory");
        goto done;
    }
    out->body[out->body_len] = '\0';
    if (out->body_len > 0) {
        json_error_t jerr;

        out->json = json_loadb(out->body, out->body_len,
                               JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        if (out->json == NULL && strstr(out->content_type, "json") != NULL)
            http_err(&c, 0, "reply is not JSON (%s): %.200s", jerr.text,
                     out->body);
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    free(req.data);
    free(in.data);
    free(dec.data);
    if (rc != 0)
        th_resp_fini(out);
    return rc;
}

int
th_http_port(int port, const char *method, const char *path,
             const char *body, const char *ctype, th_resp *out)
{
    return http_do(port, method, path, body, ctype, 0, out);
}

int
th_http_try(int port, const char *method, const char *path,
            const char *body, const char *ctype, th_resp *out)
{
    return http_do(port, method, path, body, ctype, 1, out);
}

int
th_http(th_stack *s, const char *method, const char *path, const char *body,
        const char *ctype, th_resp *out)
{
    return http_do(s->http_port, method, path, body, ctype, 0, out);
}

void
th_resp_fini(th_resp *r)
{
    free(r->body);
    if (r->json != NULL)
        json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/*
 * api-server/cli_http.c - a small blocking HTTP/1.1 client for the CLI.
 *
 * It sends "Connection: close" and reads until the server closes, so it
 * needs no keep-alive bookkeeping; it understands Content-Length and
 * chunked replies.  Plain HTTP only: the API listens on trusted networks
 * (put TLS in front of it with a proxy).
 */
#include "api-server/cli_http.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_REPLY (64 * 1024 * 1024)

static int
fail(char *errbuf, size_t n, const char *fmt, const char *arg)
{
    (void) snprintf(errbuf, n, fmt, arg);
    return -1;
}

/* Splits "http://host[:port]" into host and port strings. */
static int
parse_base(const char *base, char *host, size_t hsize, char *port, size_t psize)
{
    const char *p = base;
    size_t      n;
    const char *colon;

    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    n = strcspn(p, "/");
    colon = memchr(p, ':', n);
    if (colon == NULL) {
        if (n >= hsize)
            return -1;
        memcpy(host, p, n);
        host[n] = '\0';
        (void) snprintf(port, psize, "80");
        return n > 0 ? 0 : -1;
    }
    if ((size_t) (colon - p) >= hsize || n - (size_t) (colon - p) - 1 >= psize)
        return -1;
    memcpy(host, p, (size_t) (colon - p));
    host[colon - p] = '\0';
    memcpy(port, colon + 1, n - (size_t) (colon - p) - 1);
    port[n - (size_t) (colon - p) - 1] = '\0';
    return host[0] && port[0] ? 0 : -1;
}

static int
dial(const char *host, const char *port, char *errbuf, size_t errsize)
{
    struct addrinfo hints, *res = NULL;
    struct timeval  tv = { 30, 0 };
    int             fd = -1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return fail(errbuf, errsize, "could not resolve \"%s\"", host);
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        (void) close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return fail(errbuf, errsize, "could not connect to %s (is hugetask-api running?)", host);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
        (void) close(fd);
        return fail(errbuf, errsize, "could not set socket timeouts%s", "");
    }
    return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t) k;
    }
    return 0;
}

/* Decodes a chunked body in place; -1 if malformed. */
static int
dechunk(char *body, size_t len, size_t *out)
{
    size_t in = 0, o = 0;

    for (;;) {
        char         *end;
        unsigned long n;
        char         *line = body + in;
        char         *nl = memchr(line, '\n', len - in);

        if (nl == NULL)
            return -1;
        n = strtoul(line, &end, 16);
        if (end == line)
            return -1;
        in = (size_t) (nl - body) + 1;
        if (n == 0)
            break;
        if (n > len - in)
            return -1;
        memmove(body + o, body + in, n);
        o += n;
        in += n;
        if (in + 2 > len || body[in] != '\r' || body[in + 1] != '\n')
            return -1;
        in += 2;
    }
    body[o] = '\0';
    *out = o;
    return 0;
}

/* "Authorization: Basic ...\r\n", or "" without credentials. */
static char auth_line[1024];

int
cli_http_set_user(const char *userpass)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n, o;

    auth_line[0] = '\0';
    if (userpass == NULL || *userpass == '\0')
        return 0;
    n = strlen(userpass);
    if (strchr(userpass, ':') == NULL || n > 600)
        return -1;
    o = (size_t) snprintf(auth_line, sizeof(auth_line), "Authorization: Basic ");
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char) userpass[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char) userpass[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char) userpass[i + 2];
        auth_line[o++] = b64[(v >> 18) & 63];
        auth_line[o++] = b64[(v >> 12) & 63];
        auth_line[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        auth_line[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    memcpy(auth_line + o, "\r\n", 3);
    return 0;
}

int
cli_http(const char *base, const char *method, const char *path,
         const char *body, cli_resp *out, char *errbuf, size_t errsize)
{
    char   host[256], port[16];
    char   head[4096];
    char  *buf = NULL;
    size_t len = 0, cap = 0;
    int    fd, n;
    char  *sep, *p;

    memset(out, 0, sizeof(*out));
    if (parse_base(base, host, sizeof(host), port, sizeof(port)) != 0)
        return fail(errbuf, errsize, "invalid URL \"%s\" (expected http://host:port)", base);
    fd = dial(host, port, errbuf, errsize);
    if (fd < 0)
        return -1;
    n = snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n"
                 "Accept: application/json\r\n%s%s%s%zu\r\n\r\n",
                 method, path, host, port, auth_line,
                 body ? "Content-Type: application/json\r\n" : "",
                 "Content-Length: ", body ? strlen(body) : (size_t) 0);
    if (n < 0 || (size_t) n >= sizeof(head) || write_all(fd, head, (size_t) n) != 0 ||
        (body && write_all(fd, body, strlen(body)) != 0)) {
        (void) close(fd);
        return fail(errbuf, errsize, "could not send the request to %s", host);
    }
    for (;;) {
        ssize_t k;
        if (cap - len < 4096) {
            if (cap >= MAX_REPLY) {
                free(buf);
                (void) close(fd);
                return fail(errbuf, errsize, "reply from %s is too large", host);
            }
            cap = cap ? cap * 2 : 16384;
            char *nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                (void) close(fd);
                return fail(errbuf, errsize, "out of memory%s", "");
            }
            buf = nb;
        }
        k = read(fd, buf + len, cap - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            free(buf);
            (void) close(fd);
            return fail(errbuf, errsize, "no reply from %s (timed out or reset)", host);
        }
        if (k == 0)
            break;
        len += (size_t) k;
    }
    (void) close(fd);
    if (buf == NULL)
        return fail(errbuf, errsize, "%s closed the connection without a reply", host);
    buf[len] = '\0';
    if (sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1 ||
        (sep = strstr(buf, "\r\n\r\n")) == NULL) {
        free(buf);
        return fail(errbuf, errsize, "%s did not answer in HTTP", host);
    }
    *sep = '\0';
    p = sep + 4;
    out->len = len - (size_t) (p - buf);
    for (char *h = strstr(buf, "\r\n"); h != NULL; h = strstr(h + 2, "\r\n"))
        if (strncasecmp(h + 2, "Transfer-Encoding: chunked", 26) == 0 &&
            dechunk(p, out->len, &out->len) != 0) {
            free(buf);
            return fail(errbuf, errsize, "%s sent a malformed chunked reply", host);
        }
    memmove(buf, p, out->len + 1);
    out->body = buf;
    out->json = out->len ? json_loadb(buf, out->len, 0, NULL) : NULL;
    return 0;
}

void
cli_resp_fini(cli_resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

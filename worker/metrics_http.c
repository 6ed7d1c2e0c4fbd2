/*
 * worker/metrics_http.c - the supervisor's nonblocking HTTP/1.0 server (see
 * metrics_http.h).
 *
 * Every connection is a slot in a fixed table: reading its request head,
 * then writing its reply, each phase with a deadline.  Nothing here waits:
 * accept, recv and send are nonblocking and stop at EAGAIN, and the
 * supervisor's pselect() brings us back when a descriptor is ready or a
 * deadline is due.  Writes use MSG_NOSIGNAL: a client that hangs up must
 * not SIGPIPE the supervisor.
 */
#include "worker/metrics_http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

typedef struct conn {
    int     fd;           /* -1 when the slot is free */
    int     writing;      /* 0: reading the head; 1: writing the reply */
    int64_t opened_ms;
    int64_t deadline_ms;
    size_t  len;          /* head bytes read */
    char    head[WK_MHTTP_HEAD_MAX];
    char   *out;          /* the whole reply (malloc'd) */
    size_t  out_len, out_off;
} conn;

struct wk_mhttp {
    int              lfd;
    int              port;
    wk_mhttp_handler fn;
    void            *arg;
    conn             c[WK_MHTTP_MAX_CONN];
};

static int
set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

/* Splits "HOST:PORT" / "[V6]:PORT" / ":PORT" into host (empty = any) and
 * port. */
static int
split_addr(const char *s, char *host, size_t hsize, char *port, size_t psize)
{
    const char *colon = strrchr(s, ':');
    const char *h = s;
    size_t      hl;

    if (colon == NULL || colon[1] == '\0')
        return -1;
    hl = (size_t) (colon - s);
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        h = s + 1;
        hl -= 2;
    } else if (memchr(s, ':', hl) != NULL) {
        return -1; /* a bare IPv6 address needs brackets */
    }
    if (hl >= hsize || strlen(colon + 1) >= psize)
        return -1;
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    (void) snprintf(port, psize, "%s", colon + 1);
    return 0;
}

int
wk_mhttp_open(const char *listen_addr, wk_mhttp_handler fn, void *arg,
              wk_mhttp **out, ht_err *err)
{
    char             host[256], port[16];
    struct addrinfo  hints, *ai = NULL;
    struct sockaddr_storage sa;
    socklen_t        salen = sizeof(sa);
    int              fd = -1, one = 1, grc, rc;
    wk_mhttp        *h;

    if (split_addr(listen_addr, host, sizeof(host), port, sizeof(port)) != 0)
        return ht_err_set(err, HT_EINVAL, 0, NULL,
                          "invalid metrics address \"%s\": expected HOST:PORT",
                          listen_addr);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    grc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (grc != 0)
        return ht_err_set(err, HT_EINVAL, 0, NULL,
                          "could not resolve metrics address \"%s\": %s",
                          listen_addr, gai_strerror(grc));
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
        rc = ht_err_set(err, HT_EIO, 0, NULL, "could not create a socket for \"%s\": %s",
                        listen_addr, strerror(errno));
        goto cleanup;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        set_nonblock(fd) != 0) {
        rc = ht_err_set(err, HT_EIO, 0, NULL, "could not set up the socket for \"%s\": %s",
                        listen_addr, strerror(errno));
        goto cleanup;
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
        rc = ht_err_set(err, HT_EIO, 0, NULL, "could not listen on \"%s\": %s",
                        listen_addr, strerror(errno));
        goto cleanup;
    }
    if (getsockname(fd, (struct sockaddr *) &sa, &salen) != 0) {
        rc = ht_err_set(err, HT_EIO, 0, NULL, "could not read the address of \"%s\": %s",
                        listen_addr, strerror(errno));
        goto cleanup;
    }
    h = ht_xcalloc(1, sizeof(*h));
    h->lfd = fd;
    h->fn = fn;
    h->arg = arg;
    h->port = sa.ss_family == AF_INET6
                  ? ntohs(((struct sockaddr_in6 *) &sa)->sin6_port)
                  : ntohs(((struct sockaddr_in *) &sa)->sin_port);
    for (int i = 0; i < WK_MHTTP_MAX_CONN; i++)
        h->c[i].fd = -1;
    fd = -1;
    *out = h;
    rc = HT_OK;
cleanup:
    if (fd >= 0)
        (void) close(fd);
    freeaddrinfo(ai);
    return rc;
}

static void
drop(conn *c)
{
    if (c->fd >= 0)
        (void) close(c->fd);
    free(c->out);
    c->fd = -1;
    c->out = NULL;
    c->writing = 0;
    c->len = c->out_len = c->out_off = 0;
}

void
wk_mhttp_close(wk_mhttp *h)
{
    if (h == NULL)
        return;
    for (int i = 0; i < WK_MHTTP_MAX_CONN; i++)
        drop(&h->c[i]);
    if (h->lfd >= 0)
        (void) close(h->lfd);
    free(h);
}

void
wk_mhttp_forget(wk_mhttp *h)
{
    /* Same as close: closing our copies of the descriptors does not end
     * the parent's connections (the parent keeps its own). */
    wk_mhttp_close(h);
}

int
wk_mhttp_port(const wk_mhttp *h)
{
    return h->port;
}

void
wk_mhttp_fdset(wk_mhttp *h, fd_set *r, fd_set *w, int *maxfd, int64_t *wake_ms)
{
    FD_SET(h->lfd, r);
    if (h->lfd > *maxfd)
        *maxfd = h->lfd;
    for (int i = 0; i < WK_MHTTP_MAX_CONN; i++) {
        conn *c = &h->c[i];
        if (c->fd < 0)
            continue;
        FD_SET(c->fd, c->writing ? w : r);
        if (c->fd > *maxfd)
            *maxfd = c->fd;
        if (c->deadline_ms < *wake_ms)
            *wake_ms = c->deadline_ms;
    }
}

int
wk_mhttp_parse(const char *buf, size_t len, char *method, size_t msize,
               char *path, size_t psize)
{
    const char *end = NULL, *sp1, *sp2, *eol, *q;
    size_t      ml, pl;

    /* The head ends with an empty line (CRLF CRLF, or bare LFs). */
    for (size_t i = 0; i + 1 < len && end == NULL; i++) {
        if (buf[i] == '\n' && buf[i + 1] == '\n')
            end = buf + i;
        else if (i + 3 < len && memcmp(buf + i, "\r\n\r\n", 4) == 0)
            end = buf + i;
    }
    eol = memchr(buf, '\n', len);
    /* The request line alone can already be judged. */
    if (eol != NULL) {
        sp1 = memchr(buf, ' ', (size_t) (eol - buf));
        if (sp1 == NULL || sp1 == buf)
            return -1;
        sp2 = memchr(sp1 + 1, ' ', (size_t) (eol - sp1 - 1));
        if (sp2 == NULL || sp1[1] != '/' || (size_t) (eol - sp2) < 6 ||
            memcmp(sp2 + 1, "HTTP/", 5) != 0)
            return -1;
        for (const char *p = buf; p < sp1; p++)
            if (*p < 'A' || *p > 'Z')
                return -1;
    } else {
        for (size_t i = 0; i < len && buf[i] != ' '; i++)
            if (buf[i] < 'A' || buf[i] > 'Z')
                return -1;
        return 0;
    }
    if (end == NULL)
        return 0;
    ml = (size_t) (sp1 - buf);
    q = memchr(sp1 + 1, '?', (size_t) (sp2 - sp1 - 1));
    pl = (size_t) ((q ? q : sp2) - (sp1 + 1));
    if (ml >= msize)
        ml = msize - 1;
    if (pl >= psize)
        pl = psize - 1;
    memcpy(method, buf, ml);
    method[ml] = '\0';
    memcpy(path, sp1 + 1, pl);
    path[pl] = '\0';
    return 1;
}

static const char *
reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default:  return "Internal Server Error";
    }
}

/* Sends what the socket takes; drops the connection when done or broken. */
static void
write_some(conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t) n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return; /* wait for POLLOUT */
        break;      /* the client went away */
    }
    drop(c);
}

static void
answer(wk_mhttp *h, conn *c, int status, const char *method, const char *path,
       int64_t now)
{
    wk_mhttp_reply r = { status, "text/plain; charset=utf-8", NULL, 0 };
    char           head[256];
    int            hl;
    int            is_head = strcmp(method, "HEAD") == 0;

    if (status == 200) {
        if (strcmp(method, "GET") != 0 && !is_head)
            r.status = 405;
        else
            h->fn(h->arg, path, &r);
    }
    if (r.body == NULL && r.status != 200) {
        char msg[64];
        int  ml = snprintf(msg, sizeof(msg), "%d %s\n", r.status, reason(r.status));
        r.body = ht_xstrdup(msg);
        r.len = (size_t) ml;
    }
    hl = snprintf(head, sizeof(head),
                  "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "%sConnection: close\r\n\r\n",
                  r.status, reason(r.status), r.ctype, r.len,
                  r.status == 405 ? "Allow: GET, HEAD\r\n" : "");
    HT_ASSERT(hl > 0 && (size_t) hl < sizeof(head));
    c->out_len = (size_t) hl + (is_head ? 0 : r.len);
    c->out = ht_xmalloc(c->out_len + 1);
    memcpy(c->out, head, (size_t) hl);
    if (!is_head && r.len > 0)
        memcpy(c->out + hl, r.body, r.len);
    free(r.body);
    c->out_off = 0;
    c->writing = 1;
    c->deadline_ms = now + WK_MHTTP_WRITE_MS;
    write_some(c);
}

static void
read_some(wk_mhttp *h, conn *c, int64_t now)
{
    char method[16], path[256];
    int  st;

    for (;;) {
        ssize_t n;

        if (c->len == sizeof(c->head)) {
            answer(h, c, 431, "", "", now);
            return;
        }
        n = recv(c->fd, c->head + c->len, sizeof(c->head) - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            drop(c); /* closed (or broken) before a whole request */
            return;
        }
        c->len += (size_t) n;
        st = wk_mhttp_parse(c->head, c->len, method, sizeof(method), path,
                            sizeof(path));
        if (st != 0) {
            answer(h, c, st > 0 ? 200 : 400, st > 0 ? method : "",
                   st > 0 ? path : "", now);
            return;
        }
    }
}

/* A free slot; when there is none, the oldest connection still reading
 * its request is dropped (an idle client must not lock scrapes out). */
static conn *
free_slot(wk_mhttp *h)
{
    conn *oldest = NULL;

    for (int i = 0; i < WK_MHTTP_MAX_CONN; i++) {
        conn *c = &h->c[i];
        if (c->fd < 0)
            return c;
        if (!c->writing && (oldest == NULL || c->opened_ms < oldest->opened_ms))
            oldest = c;
    }
    if (oldest != NULL)
        drop(oldest);
    return oldest;
}

static void
accept_some(wk_mhttp *h, int64_t now)
{
    /* At most one table's worth per round, so a flood cannot keep the
     * supervisor here. */
    for (int k = 0; k < WK_MHTTP_MAX_CONN; k++) {
        conn *c;
        int   fd = accept(h->lfd, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                HT_LOG_WARN("metrics.accept_failed", "errno=%d", errno);
            return;
        }
        if (fd >= FD_SETSIZE || set_nonblock(fd) != 0 || (c = free_slot(h)) == NULL) {
            (void) close(fd);
            continue;
        }
        c->fd = fd;
        c->writing = 0;
        c->len = 0;
        c->opened_ms = now;
        c->deadline_ms = now + WK_MHTTP_READ_MS;
    }
}

void
wk_mhttp_serve(wk_mhttp *h, const fd_set *r, const fd_set *w, int64_t now)
{
    for (int i = 0; i < WK_MHTTP_MAX_CONN; i++) {
        conn *c = &h->c[i];
        if (c->fd < 0)
            continue;
        if (c->writing && w != NULL && FD_ISSET(c->fd, w))
            write_some(c);
        else if (!c->writing && r != NULL && FD_ISSET(c->fd, r))
            read_some(h, c, now);
        if (c->fd >= 0 && now >= c->deadline_ms)
            drop(c);
    }
    if (r != NULL && FD_ISSET(h->lfd, r))
        accept_some(h, now);
}

/*
 * worker/metrics_http.h - a tiny HTTP/1.0 server for /metrics and /health,
 * driven by the supervisor's own loop.
 *
 * The supervisor forks worker processes for as long as it runs, so it
 * starts no thread (fork in a multithreaded process is unsafe) and never
 * blocks on a client: the listening socket and every connection are
 * nonblocking, the supervisor's pselect() waits on them together with its
 * signals, and each connection has a deadline.  One request per
 * connection: read the request head into a small fixed buffer, answer,
 * close.  A client that sends nothing is dropped at its deadline; when
 * every slot is taken, the oldest connection still reading its request is
 * dropped to make room, so idle sockets cannot lock scrapes out.
 *
 * Not here: what the answers say (the handler, in pool.c) and the counters
 * (metrics.c).  civetweb stays in api-server/.
 */
#ifndef WK_METRICS_HTTP_H
#define WK_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>

#include "common/err.h"

/* Connections served at once. */
#define WK_MHTTP_MAX_CONN 16
/* Bytes of request head (request line and headers) accepted. */
#define WK_MHTTP_HEAD_MAX 2048
/* A connection's whole life: reading the request, then writing the reply. */
#define WK_MHTTP_READ_MS  2000
#define WK_MHTTP_WRITE_MS 5000

typedef struct wk_mhttp wk_mhttp;

/* An answer: status, content type (static), body (malloc'd, handed over;
 * may be NULL when len is 0). */
typedef struct wk_mhttp_reply {
    int         status;
    const char *ctype;
    char       *body;
    size_t      len;
} wk_mhttp_reply;

/* Fills *r for a GET (or HEAD) of path (no query string). */
typedef void (*wk_mhttp_handler)(void *arg, const char *path, wk_mhttp_reply *r);

/* Listens on listen ("HOST:PORT", numeric or a name; "[v6]:PORT" too).
 * HT_EINVAL for a malformed address, HT_EIO when socket/bind/listen fail
 * (err says which, with errno text). */
int  wk_mhttp_open(const char *listen, wk_mhttp_handler fn, void *arg,
                   wk_mhttp **out, ht_err *err);
/* Closes every socket and frees h (NULL is fine). */
void wk_mhttp_close(wk_mhttp *h);
/* In a forked child: closes the inherited descriptors and frees the copy of
 * h, touching no connection state the parent still uses. */
void wk_mhttp_forget(wk_mhttp *h);

/* Adds the descriptors to wait on (reading to r, writing to w), raises
 * *maxfd, and lowers *wake_ms (monotonic) to the next connection deadline. */
void wk_mhttp_fdset(wk_mhttp *h, fd_set *r, fd_set *w, int *maxfd,
                    int64_t *wake_ms);
/* Does the work the ready descriptors allow (after pselect; r and w may be
 * NULL after an interrupted wait) and drops connections past their
 * deadline.  Never blocks. */
void wk_mhttp_serve(wk_mhttp *h, const fd_set *r, const fd_set *w,
                    int64_t now_ms);

/* The port it listens on (useful with port 0). */
int wk_mhttp_port(const wk_mhttp *h);

/* Parses a request head in buf[0..len).  1 when the head is complete
 * (method and path, without the query string, copied NUL-terminated and
 * cut to their sizes), 0 when more bytes are needed, -1 when it is not
 * HTTP. */
int wk_mhttp_parse(const char *buf, size_t len, char *method, size_t msize,
                   char *path, size_t psize);

#endif

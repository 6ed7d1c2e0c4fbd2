/*
 * proto/bus.c - nng PUB/SUB for ht_msg (see bus.h).
 */
#include "proto/bus.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/util.h"

struct ht_pub {
    nng_socket    sock;
    atomic_ulong  sent;
    atomic_ulong  failed;
};

struct ht_sub {
    nng_socket    sock;
    int           fd;
    unsigned long dropped;
};

ht_pub *
ht_pub_open(const char *url, ht_err *err)
{
    ht_pub *p = ht_xcalloc(1, sizeof(*p));
    int     rv;

    rv = nng_pub0_open(&p->sock);
    if (rv != 0) {
        free(p);
        ht_err_set(err, HT_EIO, 0, NULL, "could not open the PUB socket");
        ht_err_detail(err, "nng_pub0_open: %s", nng_strerror(rv));
        return NULL;
    }
    rv = nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ, HT_MSG_MAX_SIZE);
    if (rv == 0)
        rv = nng_listen(p->sock, url, NULL, 0);
    if (rv != 0) {
        (void) nng_close(p->sock);
        free(p);
        ht_err_set(err, HT_EIO, 0, NULL, "could not listen on \"%s\"", url);
        ht_err_detail(err, "nng_listen: %s", nng_strerror(rv));
        return NULL;
    }
    return p;
}

int
ht_pub_send(ht_pub *p, const ht_msg *m)
{
    char   buf[HT_MSG_MAX_SIZE];
    size_t len;
    int    rv;

    if (ht_msg_encode(m, buf, sizeof(buf), &len) != HT_OK) {
        atomic_fetch_add(&p->failed, 1);
        return HT_EINVAL;
    }
    /* PUB never blocks; with no subscriber the message is simply gone. */
    rv = nng_send(p->sock, buf, len, NNG_FLAG_NONBLOCK);
    if (rv != 0) {
        atomic_fetch_add(&p->failed, 1);
        HT_LOG_WARN("bus.send_failed", "type=%s err=\"%s\"",
                    ht_msg_type_name(m->type), nng_strerror(rv));
        return HT_EIO;
    }
    atomic_fetch_add(&p->sent, 1);
    return HT_OK;
}

void
ht_pub_stats(ht_pub *p, unsigned long *sent, unsigned long *failed)
{
    *sent = atomic_load(&p->sent);
    *failed = atomic_load(&p->failed);
}

void
ht_pub_close(ht_pub *p)
{
    if (p == NULL)
        return;
    (void) nng_close(p->sock);
    free(p);
}

ht_sub *
ht_sub_open(const char *urls, ht_err *err)
{
    ht_sub *s = ht_xcalloc(1, sizeof(*s));
    char    buf[4096];
    char   *items[64];
    int     n, rv;

    rv = nng_sub0_open(&s->sock);
    if (rv != 0) {
        free(s);
        ht_err_set(err, HT_EIO, 0, NULL, "could not open the SUB socket");
        ht_err_detail(err, "nng_sub0_open: %s", nng_strerror(rv));
        return NULL;
    }
    rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, "", 0);
    if (rv == 0)
        rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, HT_MSG_MAX_SIZE);
    if (rv == 0)
        rv = nng_socket_set_ms(s->sock, NNG_OPT_RECONNMINT, 100);
    if (rv == 0)
        rv = nng_socket_set_ms(s->sock, NNG_OPT_RECONNMAXT, 2000);
    if (rv == 0)
        rv = nng_socket_get_int(s->sock, NNG_OPT_RECVFD, &s->fd);
    if (rv != 0) {
        ht_err_set(err, HT_EIO, 0, NULL, "could not set up the SUB socket");
        ht_err_detail(err, "nng: %s", nng_strerror(rv));
        ht_sub_close(s);
        return NULL;
    }
    (void) snprintf(buf, sizeof(buf), "%s", urls);
    n = ht_cfg_split(buf, items, 64);
    for (int i = 0; i < n; i++) {
        /* Non-blocking: an API that is down now is dialled again later. */
        rv = nng_dial(s->sock, items[i], NULL, NNG_FLAG_NONBLOCK);
        if (rv != 0) {
            ht_err_set(err, HT_EIO, 0, NULL, "could not dial \"%s\"", items[i]);
            ht_err_detail(err, "nng_dial: %s", nng_strerror(rv));
            ht_sub_close(s);
            return NULL;
        }
    }
    return s;
}

int
ht_sub_fd(ht_sub *s)
{
    return s->fd;
}

int
ht_sub_recv(ht_sub *s, ht_msg *m)
{
    for (;;) {
        char   buf[HT_MSG_MAX_SIZE];
        size_t len = sizeof(buf);
        int    rv = nng_recv(s->sock, buf, &len, NNG_FLAG_NONBLOCK);

        if (rv == NNG_EAGAIN)
            return HT_ENOTFOUND;
        if (rv != 0) {
            /* Oversized or otherwise broken message: count it, go on. */
            s->dropped++;
            if (rv == NNG_EMSGSIZE)
                continue;
            return HT_ENOTFOUND;
        }
        if (ht_msg_decode(buf, len, m) == HT_OK)
            return HT_OK;
        s->dropped++;
        HT_LOG_WARN("bus.bad_message", "bytes=%zu dropped=%lu", len, s->dropped);
    }
}

unsigned long
ht_sub_dropped(ht_sub *s)
{
    return s->dropped;
}

void
ht_sub_close(ht_sub *s)
{
    if (s == NULL)
        return;
    (void) nng_close(s->sock);
    free(s);
}

void
ht_bus_fini(void)
{
    nng_fini();
}

/*
 * proto/bus.h - the nng side of the messages: a PUB socket in each API, a
 * SUB socket in each worker process dialling every API.
 *
 * PUB/SUB drops messages silently (no subscriber yet, slow subscriber,
 * reconnect): callers treat every message as a hint.  The SUB side is read
 * through its receive file descriptor with poll(2), never with a receive
 * timeout (nng 1.5.2 can crash with NNG_OPT_RECVTIMEO on SUB).  nng is not
 * fork-safe: open these only in the process that uses them.
 */
#ifndef HT_BUS_H
#define HT_BUS_H

#include "common/err.h"
#include "proto/msg.h"

typedef struct ht_pub ht_pub;
typedef struct ht_sub ht_sub;

/* Binds a PUB socket at url (tcp://host:port or ipc://path). */
ht_pub *ht_pub_open(const char *url, ht_err *err);
/* Publishes m; a failure is logged and counted, never fatal. */
int  ht_pub_send(ht_pub *p, const ht_msg *m);
void ht_pub_close(ht_pub *p);
/* Messages sent and failed so far. */
void ht_pub_stats(ht_pub *p, unsigned long *sent, unsigned long *failed);

/* A SUB socket dialling each comma-separated url without waiting for it
 * (an API that is not up yet is retried by nng in the background). */
ht_sub *ht_sub_open(const char *urls, ht_err *err);
/* The descriptor that polls readable when a message is waiting. */
int ht_sub_fd(ht_sub *s);
/* Takes one waiting message without blocking: HT_OK with *m filled,
 * HT_ENOTFOUND when none is waiting.  Garbage is counted and skipped. */
int  ht_sub_recv(ht_sub *s, ht_msg *m);
void ht_sub_close(ht_sub *s);
/* Messages that failed to decode so far. */
unsigned long ht_sub_dropped(ht_sub *s);

/* Releases nng's global resources; call once, after every socket is closed. */
void ht_bus_fini(void);

#endif

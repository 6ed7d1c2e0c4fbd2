/*
 * proto/msg.h - the messages the API publishes to workers, as msgpack maps.
 *
 *   {"v": 1, "t": "job"|"cancel"|"wake", "g": "<graph>", "id": <task id>}
 *
 * A message is only a hint: PostgreSQL holds the truth, so a lost or
 * garbled message costs latency, never a task.  Decoding caps the input
 * size and checks every field; garbage is rejected with HT_EINVAL.
 */
#ifndef HT_MSG_H
#define HT_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define HT_MSG_VERSION  1
#define HT_MSG_MAX_SIZE 512   /* bytes; larger input is rejected unread */

typedef enum { HT_MSG_JOB = 1, HT_MSG_CANCEL = 2, HT_MSG_WAKE = 3 } ht_msg_type;

typedef struct ht_msg {
    ht_msg_type type;
    char        graph[64]; /* "" for wake */
    int64_t     task_id;   /* 0 for wake */
} ht_msg;

/* Encodes m into buf; *len is the encoded size.  HT_EINVAL when it does not
 * fit or m is malformed. */
int ht_msg_encode(const ht_msg *m, char *buf, size_t size, size_t *len);

/* Decodes one message; HT_EINVAL for anything that is not a valid message
 * of a known version. */
int ht_msg_decode(const void *data, size_t len, ht_msg *out);

/* "job", "cancel", "wake". */
const char *ht_msg_type_name(ht_msg_type t);

#endif

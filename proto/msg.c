/*
 * proto/msg.c - msgpack encoding of ht_msg (see msg.h).
 *
 * msgpack-c's decoded strings point into the input and are not
 * NUL-terminated; containers are allocated from their declared count, so
 * the input size is capped before decoding.  Unknown keys are ignored so a
 * newer API can add fields without breaking older workers.
 */
#include "proto/msg.h"

#include <msgpack.h>
#include <string.h>

#include "common/cfg.h"

static const char *const type_names[] = { "", "job", "cancel", "wake" };

const char *
ht_msg_type_name(ht_msg_type t)
{
    return (t >= HT_MSG_JOB && t <= HT_MSG_WAKE) ? type_names[t] : "unknown";
}

/* Writes into a fixed buffer; fails (non-zero) past its end. */
typedef struct fixed_buf {
    char  *data;
    size_t size, len;
} fixed_buf;

static int
fixed_write(void *data, const char *buf, size_t len)
{
    fixed_buf *b = data;

    if (len > b->size - b->len)
        return -1;
    memcpy(b->data + b->len, buf, len);
    b->len += len;
    return 0;
}

static int
pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);

    if (msgpack_pack_str(pk, n) != 0)
        return -1;
    return msgpack_pack_str_body(pk, s, n);
}

int
ht_msg_encode(const ht_msg *m, char *buf, size_t size, size_t *len)
{
    fixed_buf      b = { buf, size, 0 };
    msgpack_packer pk;
    int            bad = 0;

    if (m->type < HT_MSG_JOB || m->type > HT_MSG_WAKE ||
        memchr(m->graph, '\0', sizeof(m->graph)) == NULL)
        return HT_EINVAL;
    msgpack_packer_init(&pk, &b, fixed_write);
    bad |= msgpack_pack_map(&pk, 4);
    bad |= pack_str(&pk, "v");
    bad |= msgpack_pack_int(&pk, HT_MSG_VERSION);
    bad |= pack_str(&pk, "t");
    bad |= pack_str(&pk, type_names[m->type]);
    bad |= pack_str(&pk, "g");
    bad |= pack_str(&pk, m->graph);
    bad |= pack_str(&pk, "id");
    bad |= msgpack_pack_int64(&pk, m->task_id);
    if (bad)
        return HT_EINVAL;
    *len = b.len;
    return HT_OK;
}

static int
key_is(const msgpack_object *k, const char *name)
{
    size_t n = strlen(name);

    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, name, n) == 0;
}

static int
decode_map(const msgpack_object *o, ht_msg *out)
{
    int have_v = 0, have_t = 0, have_g = 0, have_id = 0;

    if (o->type != MSGPACK_OBJECT_MAP)
        return HT_EINVAL;
    memset(out, 0, sizeof(*out));
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        const msgpack_object *v = &o->via.map.ptr[i].val;

        if (key_is(k, "v")) {
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
                v->via.u64 != HT_MSG_VERSION)
                return HT_EINVAL;
            have_v = 1;
        } else if (key_is(k, "t")) {
            if (v->type != MSGPACK_OBJECT_STR)
                return HT_EINVAL;
            for (int t = HT_MSG_JOB; t <= HT_MSG_WAKE; t++)
                if (v->via.str.size == strlen(type_names[t]) &&
                    memcmp(v->via.str.ptr, type_names[t], v->via.str.size) == 0)
                    out->type = (ht_msg_type) t;
            if (out->type == 0)
                return HT_EINVAL;
            have_t = 1;
        } else if (key_is(k, "g")) {
            if (v->type != MSGPACK_OBJECT_STR || v->via.str.size >= sizeof(out->graph) ||
                memchr(v->via.str.ptr, '\0', v->via.str.size) != NULL)
                return HT_EINVAL;
            memcpy(out->graph, v->via.str.ptr, v->via.str.size);
            out->graph[v->via.str.size] = '\0';
            have_g = 1;
        } else if (key_is(k, "id")) {
            if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT64_MAX)
                out->task_id = (int64_t) v->via.u64;
            else
                return HT_EINVAL;
            have_id = 1;
        }
    }
    if (!have_v || !have_t)
        return HT_EINVAL;
    if (out->type != HT_MSG_WAKE) {
        if (!have_g || !have_id || out->task_id <= 0 || !ht_graph_name_ok(out->graph))
            return HT_EINVAL;
    }
    return HT_OK;
}

int
ht_msg_decode(const void *data, size_t len, ht_msg *out)
{
    msgpack_unpacked up;
    size_t           off = 0;
    int              rc;

    if (data == NULL || len == 0 || len > HT_MSG_MAX_SIZE)
        return HT_EINVAL;
    msgpack_unpacked_init(&up);
    if (msgpack_unpack_next(&up, data, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        off != len) {
        msgpack_unpacked_destroy(&up);
        return HT_EINVAL;
    }
    rc = decode_map(&up.data, out);
    msgpack_unpacked_destroy(&up);
    return rc;
}

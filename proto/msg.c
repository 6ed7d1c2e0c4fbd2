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

/*
 * Walks the msgpack encoding without building anything and checks that
 * every declared length fits in what is left of the input.  msgpack-c
 * allocates containers from their declared count before it reads them, so
 * five bytes claiming a map of 2^31 pairs would otherwise ask for tens of
 * gigabytes.  Every element takes at least one byte, which bounds counts.
 */
static int
sizes_fit(const unsigned char *p, size_t len)
{
    size_t pos = 0;
    size_t pending = 1; /* elements still to read */

    while (pending > 0) {
        unsigned char b;
        size_t        skip = 0, count = 0, w = 0;

        if (pos >= len)
            return 0;
        b = p[pos++];
        pending--;
        if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3)) {
            continue;                                  /* fixint, nil, bool */
        } else if (b >= 0x80 && b <= 0x8f) {
            count = 2 * (size_t) (b & 0x0f);           /* fixmap */
        } else if (b >= 0x90 && b <= 0x9f) {
            count = b & 0x0f;                          /* fixarray */
        } else if (b >= 0xa0 && b <= 0xbf) {
            skip = b & 0x1f;                           /* fixstr */
        } else {
            switch (b) {
            case 0xcc: case 0xd0: skip = 1; break;
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xca: case 0xce: case 0xd2: skip = 4; break;
            case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break;                /* fixext 1 */
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xc4: case 0xd9: w = 1; break;        /* bin8, str8 */
            case 0xc5: case 0xda: w = 2; break;
            case 0xc6: case 0xdb: w = 4; break;
            case 0xc7: w = 1; break;                   /* ext8 (+type) */
            case 0xc8: w = 2; break;
            case 0xc9: w = 4; break;
            case 0xdc: case 0xdd: case 0xde: case 0xdf: {
                size_t n = (b == 0xdc || b == 0xde) ? 2 : 4;
                if (len - pos < n)
                    return 0;
                for (size_t i = 0; i < n; i++)
                    count = (count << 8) | p[pos + i];
                pos += n;
                if (b >= 0xde) {
                    if (count > len) /* before doubling: no overflow */
                        return 0;
                    count *= 2;
                }
                break;
            }
            default:
                return 0;                              /* 0xc1: never used */
            }
        }
        if (w > 0) {
            if (len - pos < w)
                return 0;
            for (size_t i = 0; i < w; i++)
                skip = (skip << 8) | p[pos + i];
            pos += w;
            if (b >= 0xc7 && b <= 0xc9)
                skip += 1;                             /* ext type byte */
        }
        if (count > len - pos || skip > len - pos)
            return 0;
        pos += skip;
        pending += count;
    }
    return pos == len;
}

int
ht_msg_decode(const void *data, size_t len, ht_msg *out)
{
    msgpack_unpacked up;
    size_t           off = 0;
    int              rc;

    if (data == NULL || len == 0 || len > HT_MSG_MAX_SIZE || !sizes_fit(data, len))
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

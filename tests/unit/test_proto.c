/*
 * tests/unit/test_proto.c - msgpack job/cancel/wake messages: round trips,
 * and garbage that must be rejected without a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "proto/msg.h"

static void
test_job_round_trip(void **state)
{
    ht_msg in = { .type = HT_MSG_JOB, .graph = "hugegraph", .task_id = 42 };
    ht_msg out;
    char   buf[HT_MSG_MAX_SIZE];
    size_t len;

    (void) state;
    assert_int_equal(ht_msg_encode(&in, buf, sizeof(buf), &len), HT_OK);
    assert_int_equal(ht_msg_decode(buf, len, &out), HT_OK);
    assert_int_equal(out.type, HT_MSG_JOB);
    assert_string_equal(out.graph, "hugegraph");
    assert_int_equal(out.task_id, 42);
}

static void
test_cancel_round_trip_large_id(void **state)
{
    ht_msg in = { .type = HT_MSG_CANCEL, .graph = "g_2", .task_id = INT64_MAX };
    ht_msg out;
    char   buf[HT_MSG_MAX_SIZE];
    size_t len;

    (void) state;
    assert_int_equal(ht_msg_encode(&in, buf, sizeof(buf), &len), HT_OK);
    assert_int_equal(ht_msg_decode(buf, len, &out), HT_OK);
    assert_int_equal(out.type, HT_MSG_CANCEL);
    assert_string_equal(out.graph, "g_2");
    assert_true(out.task_id == INT64_MAX);
}

static void
test_wake_needs_no_graph(void **state)
{
    ht_msg in = { .type = HT_MSG_WAKE };
    ht_msg out;
    char   buf[HT_MSG_MAX_SIZE];
    size_t len;

    (void) state;
    assert_int_equal(ht_msg_encode(&in, buf, sizeof(buf), &len), HT_OK);
    assert_int_equal(ht_msg_decode(buf, len, &out), HT_OK);
    assert_int_equal(out.type, HT_MSG_WAKE);
}

static void
test_encode_refuses_small_buffer(void **state)
{
    ht_msg in = { .type = HT_MSG_JOB, .graph = "hugegraph", .task_id = 1 };
    char   buf[8];
    size_t len;

    (void) state;
    assert_int_equal(ht_msg_encode(&in, buf, sizeof(buf), &len), HT_EINVAL);
}

/* Packs a map of the given pairs (string keys; values given as packers). */
static size_t
pack_custom(char *out, size_t size, int version, const char *type,
            const char *graph, int64_t id, int extra_key)
{
    msgpack_sbuffer sb;
    msgpack_packer  pk;
    size_t          n;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, extra_key ? 5 : 4);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "v", 1);
    msgpack_pack_int(&pk, version);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "t", 1);
    msgpack_pack_str(&pk, strlen(type));
    msgpack_pack_str_body(&pk, type, strlen(type));
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "g", 1);
    msgpack_pack_str(&pk, strlen(graph));
    msgpack_pack_str_body(&pk, graph, strlen(graph));
    msgpack_pack_str(&pk, 2);
    msgpack_pack_str_body(&pk, "id", 2);
    msgpack_pack_int64(&pk, id);
    if (extra_key) {
        msgpack_pack_str(&pk, 5);
        msgpack_pack_str_body(&pk, "extra", 5);
        msgpack_pack_array(&pk, 0);
    }
    n = sb.size < size ? sb.size : size;
    memcpy(out, sb.data, n);
    msgpack_sbuffer_destroy(&sb);
    return n;
}

static void
test_unknown_keys_are_ignored(void **state)
{
    char   buf[256];
    size_t n = pack_custom(buf, sizeof(buf), 1, "job", "hugegraph", 7, 1);
    ht_msg out;

    (void) state;
    assert_int_equal(ht_msg_decode(buf, n, &out), HT_OK);
    assert_int_equal(out.task_id, 7);
}

static void
test_rejects_wrong_version_type_graph_or_id(void **state)
{
    char   buf[256];
    ht_msg out;
    size_t n;

    (void) state;
    n = pack_custom(buf, sizeof(buf), 2, "job", "hugegraph", 7, 0);
    assert_int_equal(ht_msg_decode(buf, n, &out), HT_EINVAL);
    n = pack_custom(buf, sizeof(buf), 1, "jobs", "hugegraph", 7, 0);
    assert_int_equal(ht_msg_decode(buf, n, &out), HT_EINVAL);
    n = pack_custom(buf, sizeof(buf), 1, "job", "bad graph!", 7, 0);
    assert_int_equal(ht_msg_decode(buf, n, &out), HT_EINVAL);
    n = pack_custom(buf, sizeof(buf), 1, "job", "hugegraph", -5, 0);
    assert_int_equal(ht_msg_decode(buf, n, &out), HT_EINVAL);
    n = pack_custom(buf, sizeof(buf), 1, "job", "hugegraph", 0, 0);
    assert_int_equal(ht_msg_decode(buf, n, &out), HT_EINVAL);
}

static void
test_rejects_truncated_and_trailing_bytes(void **state)
{
    ht_msg in = { .type = HT_MSG_JOB, .graph = "hugegraph", .task_id = 9 };
    ht_msg out;
    char   buf[HT_MSG_MAX_SIZE];
    size_t len;

    (void) state;
    assert_int_equal(ht_msg_encode(&in, buf, sizeof(buf) - 1, &len), HT_OK);
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(ht_msg_decode(buf, cut, &out), HT_EINVAL);
    buf[len] = 0x01;
    assert_int_equal(ht_msg_decode(buf, len + 1, &out), HT_EINVAL);
}

static void
test_rejects_oversized_and_non_map(void **state)
{
    static char big[HT_MSG_MAX_SIZE + 1];
    const char  arr[] = { (char) 0x93, 1, 2, 3 };          /* [1,2,3] */
    const char  huge_map[] = { (char) 0xdf, 0x7f, (char) 0xff, (char) 0xff, (char) 0xff };
    ht_msg      out;

    (void) state;
    assert_int_equal(ht_msg_decode(big, sizeof(big), &out), HT_EINVAL);
    assert_int_equal(ht_msg_decode(arr, sizeof(arr), &out), HT_EINVAL);
    /* A map declaring 2^31 entries in 5 bytes: must not allocate or crash. */
    assert_int_equal(ht_msg_decode(huge_map, sizeof(huge_map), &out), HT_EINVAL);
    assert_int_equal(ht_msg_decode(NULL, 0, &out), HT_EINVAL);
}

static void
test_random_garbage_never_crashes(void **state)
{
    unsigned seed = 12345;
    char     buf[64];
    ht_msg   out;

    (void) state;
    for (int round = 0; round < 20000; round++) {
        size_t n = 1 + (size_t) (rand_r(&seed) % (int) sizeof(buf));
        for (size_t i = 0; i < n; i++)
            buf[i] = (char) rand_r(&seed);
        (void) ht_msg_decode(buf, n, &out);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_round_trip),
        cmocka_unit_test(test_cancel_round_trip_large_id),
        cmocka_unit_test(test_wake_needs_no_graph),
        cmocka_unit_test(test_encode_refuses_small_buffer),
        cmocka_unit_test(test_unknown_keys_are_ignored),
        cmocka_unit_test(test_rejects_wrong_version_type_graph_or_id),
        cmocka_unit_test(test_rejects_truncated_and_trailing_bytes),
        cmocka_unit_test(test_rejects_oversized_and_non_map),
        cmocka_unit_test(test_random_garbage_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

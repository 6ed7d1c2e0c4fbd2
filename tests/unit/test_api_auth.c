/*
 * tests/unit/test_api_auth.c - the pure parts of --auth basic: SHA-256 and
 * HMAC (standard vectors), base64, Authorization header parsing, user
 * names, and libcrypt hashing and verification.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api-server/auth.h"
#include "api-server/sha256.h"

static void
hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        (void) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
assert_sha256(const void *data, size_t n, const char *want)
{
    api_sha256 c;
    uint8_t    d[API_SHA256_LEN];
    char       h[2 * API_SHA256_LEN + 1];

    api_sha256_init(&c);
    api_sha256_update(&c, data, n);
    api_sha256_final(&c, d);
    hex(d, sizeof(d), h);
    assert_string_equal(h, want);
}

static void
test_sha256_vectors(void **state)
{
    static const char two_blocks[] =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char      *million = malloc(1000000);
    api_sha256 c;
    uint8_t    d[API_SHA256_LEN];
    char       h[2 * API_SHA256_LEN + 1];

    (void) state;
    assert_sha256("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_sha256("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_sha256(two_blocks, strlen(two_blocks),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* A million 'a' fed in uneven pieces. */
    assert_non_null(million);
    memset(million, 'a', 1000000);
    api_sha256_init(&c);
    for (size_t off = 0, step = 1; off < 1000000; off += step, step = step * 3 % 997 + 1)
        api_sha256_update(&c, million + off, off + step > 1000000 ? 1000000 - off : step);
    api_sha256_final(&c, d);
    hex(d, sizeof(d), h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

static void
assert_hmac(const uint8_t *key, size_t klen, const char *msg, const char *want)
{
    const void *parts[1] = { msg };
    size_t      lens[1] = { strlen(msg) };
    uint8_t     d[API_SHA256_LEN];
    char        h[2 * API_SHA256_LEN + 1];

    api_hmac_sha256(key, klen, parts, lens, 1, d);
    hex(d, sizeof(d), h);
    assert_string_equal(h, want);
}

static void
test_hmac_vectors(void **state)
{
    uint8_t     k1[20], k6[131];
    const void *parts[3] = { "what do ya ", "want for ", "nothing?" };
    size_t      lens[3] = { 11, 9, 8 };
    uint8_t     d[API_SHA256_LEN];
    char        h[2 * API_SHA256_LEN + 1];

    (void) state;
    /* RFC 4231 test cases 1, 2 and 6. */
    memset(k1, 0x0b, sizeof(k1));
    assert_hmac(k1, sizeof(k1), "Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_hmac((const uint8_t *) "Jefe", 4, "what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(k6, 0xaa, sizeof(k6));
    assert_hmac(k6, sizeof(k6), "Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    /* Parts are one message. */
    api_hmac_sha256((const uint8_t *) "Jefe", 4, parts, lens, 3, d);
    hex(d, sizeof(d), h);
    assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void
test_base64_strict(void **state)
{
    char   out[64];
    size_t n;

    (void) state;
    assert_int_equal(api_base64_decode("Zg==", 4, out, sizeof(out), &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out, "f");
    assert_int_equal(api_base64_decode("Zm8=", 4, out, sizeof(out), &n), 0);
    assert_string_equal(out, "fo");
    assert_int_equal(api_base64_decode("Zm9v", 4, out, sizeof(out), &n), 0);
    assert_string_equal(out, "foo");
    assert_int_equal(api_base64_decode("Zm9vYg", 6, out, sizeof(out), &n), 0);
    assert_string_equal(out, "foob");
    assert_int_equal(api_base64_decode("", 0, out, sizeof(out), &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(api_base64_decode("Zg=", 3, out, sizeof(out), &n), -1);
    assert_int_equal(api_base64_decode("Z===", 4, out, sizeof(out), &n), -1);
    assert_int_equal(api_base64_decode("Zm9vY", 5, out, sizeof(out), &n), -1);
    assert_int_equal(api_base64_decode("Zm=v", 4, out, sizeof(out), &n), -1);
    assert_int_equal(api_base64_decode("Zm9 ", 4, out, sizeof(out), &n), -1);
    assert_int_equal(api_base64_decode("Zh==", 4, out, sizeof(out), &n), -1); /* stray bits */
    assert_int_equal(api_base64_decode("Zm9v", 4, out, 3, &n), -1);           /* no room */
    assert_int_equal(api_base64_decode("Zm9v", 4, out, 4, &n), 0);
}

static void
test_basic_header_parsing(void **state)
{
    char        buf[API_AUTH_HEADER_MAX];
    const char *u = NULL, *p = NULL;
    char       *huge;

    (void) state;
    assert_int_equal(api_basic_parse("Basic YWxpY2U6c2VjcmV0", buf, sizeof(buf), &u, &p),
                     API_BASIC_OK);
    assert_string_equal(u, "alice");
    assert_string_equal(p, "secret");
    assert_int_equal(api_basic_parse("  basic \t YWxpY2U6c2VjcmV0  ", buf, sizeof(buf), &u, &p),
                     API_BASIC_OK);
    assert_string_equal(u, "alice");
    /* RFC 7617: only the first colon splits. */
    assert_int_equal(api_basic_parse("Basic YTpiOmM=", buf, sizeof(buf), &u, &p), API_BASIC_OK);
    assert_string_equal(u, "a");
    assert_string_equal(p, "b:c");

    assert_int_equal(api_basic_parse(NULL, buf, sizeof(buf), &u, &p), API_BASIC_MISSING);
    assert_int_equal(api_basic_parse("", buf, sizeof(buf), &u, &p), API_BASIC_MISSING);
    assert_int_equal(api_basic_parse("   ", buf, sizeof(buf), &u, &p), API_BASIC_MISSING);
    assert_int_equal(api_basic_parse("Bearer abc", buf, sizeof(buf), &u, &p), API_BASIC_SCHEME);
    assert_int_equal(api_basic_parse("BasicYWxpY2U6c2VjcmV0", buf, sizeof(buf), &u, &p),
                     API_BASIC_SCHEME);
    assert_int_equal(api_basic_parse("Basic", buf, sizeof(buf), &u, &p), API_BASIC_MALFORMED);
    assert_int_equal(api_basic_parse("Basic    ", buf, sizeof(buf), &u, &p), API_BASIC_MALFORMED);
    assert_int_equal(api_basic_parse("Basic !!!!", buf, sizeof(buf), &u, &p), API_BASIC_MALFORMED);
    assert_int_equal(api_basic_parse("Basic YWxpY2VzZWNyZXQ=", buf, sizeof(buf), &u, &p),
                     API_BASIC_MALFORMED); /* no colon */
    assert_int_equal(api_basic_parse("Basic OnB3", buf, sizeof(buf), &u, &p),
                     API_BASIC_MALFORMED); /* empty user */
    assert_int_equal(api_basic_parse("Basic dTo=", buf, sizeof(buf), &u, &p),
                     API_BASIC_MALFORMED); /* empty password */
    assert_int_equal(api_basic_parse("Basic YQA6Yg==", buf, sizeof(buf), &u, &p),
                     API_BASIC_MALFORMED); /* NUL inside */
    assert_int_equal(api_basic_parse("Basic YWxp Y2U6c2VjcmV0", buf, sizeof(buf), &u, &p),
                     API_BASIC_MALFORMED);

    huge = malloc(3 * API_AUTH_HEADER_MAX);
    assert_non_null(huge);
    memcpy(huge, "Basic ", 6);
    memset(huge + 6, 'Q', 3 * API_AUTH_HEADER_MAX - 7);
    huge[3 * API_AUTH_HEADER_MAX - 1] = '\0';
    assert_int_equal(api_basic_parse(huge, buf, sizeof(buf), &u, &p), API_BASIC_MALFORMED);
    free(huge);
}

static void
test_user_names(void **state)
{
    char long_name[API_USER_MAX + 2];

    (void) state;
    assert_true(api_user_name_ok("alice"));
    assert_true(api_user_name_ok("svc.prom-1@ops_x"));
    assert_false(api_user_name_ok(""));
    assert_false(api_user_name_ok(NULL));
    assert_false(api_user_name_ok("a b"));
    assert_false(api_user_name_ok("a:b"));
    assert_false(api_user_name_ok("caf\xc3\xa9"));
    memset(long_name, 'a', sizeof(long_name));
    long_name[API_USER_MAX] = '\0';
    assert_true(api_user_name_ok(long_name));
    long_name[API_USER_MAX] = 'a';
    long_name[API_USER_MAX + 1] = '\0';
    assert_false(api_user_name_ok(long_name));
}

static void
test_password_hash_and_verify(void **state)
{
    char   h1[256], h2[256];
    ht_err err;

    (void) state;
    assert_int_equal(api_password_hash("correct horse", h1, sizeof(h1), &err), HT_OK);
    assert_int_equal(api_password_hash("correct horse", h2, sizeof(h2), &err), HT_OK);
    assert_memory_equal(h1, "$y$", 3);
    assert_string_not_equal(h1, h2); /* salted */
    assert_int_equal(api_password_verify("correct horse", h1), HT_OK);
    assert_int_equal(api_password_verify("correct horse", h2), HT_OK);
    assert_int_equal(api_password_verify("correct horsf", h1), HT_EINVAL);
    assert_int_equal(api_password_verify("", h1), HT_EINVAL);
    assert_int_equal(api_password_verify("x", "not a hash"), HT_EINTERNAL);
    assert_int_equal(api_password_verify("x", "$zz$abc"), HT_EINTERNAL);
    assert_int_equal(api_password_hash("pw", h1, 8, &err), HT_EINTERNAL); /* too small */
}

static void
test_ct_equal_and_modes(void **state)
{
    api_auth *a;
    ht_err    err;

    (void) state;
    assert_true(api_ct_equal("abcd", "abcd", 4));
    assert_false(api_ct_equal("abcd", "abce", 4));
    assert_true(api_ct_equal("", "", 0));
    assert_int_equal(api_auth_mode_parse("none"), API_AUTH_NONE);
    assert_int_equal(api_auth_mode_parse("BASIC"), API_AUTH_BASIC);
    assert_int_equal(api_auth_mode_parse("digest"), -1);
    assert_int_equal(api_auth_mode_parse(NULL), -1);
    a = api_auth_new(API_AUTH_NONE, NULL, &err);
    assert_non_null(a);
    assert_false(api_auth_enabled(a));
    api_auth_free(a);
    a = api_auth_new(API_AUTH_BASIC, NULL, &err);
    assert_non_null(a);
    assert_true(api_auth_enabled(a));
    api_auth_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_hmac_vectors),
        cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_basic_header_parsing),
        cmocka_unit_test(test_user_names),
        cmocka_unit_test(test_password_hash_and_verify),
        cmocka_unit_test(test_ct_equal_and_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

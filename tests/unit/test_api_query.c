/*
 * tests/unit/test_api_query.c - query-string parsing of the API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api-server/api.h"

static void
test_query_decodes_and_keeps_repeats(void **state)
{
    ht_arena  *a = ht_arena_new(0, 0);
    api_param *p;
    size_t     n;
    api_req    req = { 0 };

    (void) state;
    assert_int_equal(api_query_parse(a, "ids=1&ids=2&status=SUCCESS&page=&x+y=a%20b",
                                     &p, &n), HT_OK);
    assert_int_equal(n, 5);
    req.params = p;
    req.n_params = n;
    assert_int_equal(api_param_count(&req, "ids"), 2);
    assert_string_equal(api_param_get(&req, "status"), "SUCCESS");
    assert_string_equal(api_param_get(&req, "page"), "");
    assert_string_equal(api_param_get(&req, "x y"), "a b");
    assert_null(api_param_get(&req, "limit"));
    ht_arena_free(a);
}

static void
test_query_rejects_bad_escapes(void **state)
{
    ht_arena  *a = ht_arena_new(0, 0);
    api_param *p;
    size_t     n;

    (void) state;
    assert_int_equal(api_query_parse(a, "a=%zz", &p, &n), HT_EINVAL);
    assert_int_equal(api_query_parse(a, "a=%4", &p, &n), HT_EINVAL);
    assert_int_equal(api_query_parse(a, "a=%00", &p, &n), HT_EINVAL);
    assert_int_equal(api_query_parse(a, "&&a&", &p, &n), HT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(api_query_parse(a, NULL, &p, &n), HT_OK);
    assert_int_equal(n, 0);
    ht_arena_free(a);
}

static void
test_json_depth_counts_brackets_outside_strings(void **state)
{
    char deep[300];

    (void) state;
    assert_int_equal(api_json_depth("1", 1, 64), 0);
    assert_int_equal(api_json_depth("{\"a\":[1,{\"b\":[]}]}", 18, 64), 4);
    /* brackets in strings, escaped quotes included, do not count */
    assert_int_equal(api_json_depth("{\"a\":\"[[[\\\"{{\"}", 15, 64), 1);
    /* stops at limit + 1 */
    memset(deep, '[', sizeof(deep));
    assert_int_equal(api_json_depth(deep, sizeof(deep), 64), 65);
    assert_int_equal(api_json_depth(deep, 64, 64), 64);
    /* stray closers do not go below zero */
    assert_int_equal(api_json_depth("]]][", 4, 64), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_decodes_and_keeps_repeats),
        cmocka_unit_test(test_query_rejects_bad_escapes),
        cmocka_unit_test(test_json_depth_counts_brackets_outside_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

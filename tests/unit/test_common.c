/*
 * tests/unit/test_common.c - arena, task status rules, task names, number
 * parsing, configuration lists and graph names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/cfg.h"
#include "common/task.h"
#include "common/util.h"

static void
test_arena_refuses_past_limit(void **state)
{
    ht_arena *a = ht_arena_new(1024, 4096);

    (void) state;
    assert_non_null(ht_arena_alloc(a, 3000));
    assert_null(ht_arena_alloc(a, 3000));
    assert_non_null(ht_arena_alloc(a, 100));
    ht_arena_free(a);
}

static void
test_arena_aligns_and_keeps_data(void **state)
{
    ht_arena *a = ht_arena_new(256, 0);
    char     *p[100];

    (void) state;
    for (int i = 0; i < 100; i++) {
        p[i] = ht_arena_printf(a, "item-%d", i);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t) p[i] % 16, 0);
    }
    for (int i = 0; i < 100; i++) {
        char want[16];
        snprintf(want, sizeof(want), "item-%d", i);
        assert_string_equal(p[i], want);
    }
    ht_arena_free(a);
}

static int deferred_order[3];
static int deferred_n;

static void
note(void *arg)
{
    deferred_order[deferred_n++] = (int) (intptr_t) arg;
}

static void
test_arena_runs_cleanups_last_first(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);

    (void) state;
    deferred_n = 0;
    for (intptr_t i = 1; i <= 3; i++)
        assert_int_equal(ht_arena_defer(a, note, (void *) i), 0);
    ht_arena_free(a);
    assert_int_equal(deferred_n, 3);
    assert_int_equal(deferred_order[0], 3);
    assert_int_equal(deferred_order[2], 1);
}

static void
test_status_parses_any_case(void **state)
{
    ht_task_status s;

    (void) state;
    assert_int_equal(ht_task_status_parse("SUCCESS", &s), 0);
    assert_int_equal(s, HT_TASK_SUCCESS);
    assert_int_equal(ht_task_status_parse("Cancelling", &s), 0);
    assert_int_equal(s, HT_TASK_CANCELLING);
    assert_int_equal(ht_task_status_parse("unknown", &s), 0);
    assert_int_equal(s, HT_TASK_STATUS_COUNT);
    assert_int_equal(ht_task_status_parse("done", &s), -1);
    assert_string_equal(ht_task_status_name(HT_TASK_QUEUED), "queued");
}

static void
test_only_success_cancelled_failed_are_final(void **state)
{
    (void) state;
    for (int i = 0; i < HT_TASK_STATUS_COUNT; i++) {
        int want = i == HT_TASK_SUCCESS || i == HT_TASK_CANCELLED || i == HT_TASK_FAILED;
        assert_int_equal(ht_task_status_is_final((ht_task_status) i), want);
    }
}

static void
test_task_name_is_first_line(void **state)
{
    (void) state;
    assert_int_equal(ht_task_name_len("g.V()\ng.E()", 256), 5);
    assert_int_equal(ht_task_name_len("a\r\nb", 256), 1);
    assert_int_equal(ht_task_name_len("", 256), 0);
}

static void
test_task_name_cut_keeps_utf8_whole(void **state)
{
    /* "ab" then U+4E2D (3 bytes) then U+6587: cut at 4 must drop the
     * partial character and keep "ab". */
    const char *s = "ab\xe4\xb8\xad\xe6\x96\x87";

    (void) state;
    assert_int_equal(ht_task_name_len(s, 4), 2);
    assert_int_equal(ht_task_name_len(s, 5), 5);
    assert_int_equal(ht_task_name_len(s, 6), 5);
    assert_int_equal(ht_task_name_len(s, 8), 8);
}

static void
test_parse_i64_rejects_junk_and_overflow(void **state)
{
    int64_t v;

    (void) state;
    assert_int_equal(ht_parse_i64("42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(ht_parse_i64("-1", &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(ht_parse_i64("9223372036854775807", &v), 0);
    assert_int_equal(ht_parse_i64("9223372036854775808", &v), -1);
    assert_int_equal(ht_parse_i64("12a", &v), -1);
    assert_int_equal(ht_parse_i64("", &v), -1);
    assert_int_equal(ht_parse_i64(" 1", &v), -1);
    assert_int_equal(ht_parse_i64("+1", &v), -1);
}

static void
test_cfg_split_trims_and_skips_empty(void **state)
{
    char  buf[] = " a, b ,,c ";
    char *items[8];

    (void) state;
    assert_int_equal(ht_cfg_split(buf, items, 8), 3);
    assert_string_equal(items[0], "a");
    assert_string_equal(items[1], "b");
    assert_string_equal(items[2], "c");
}

static void
test_graph_names(void **state)
{
    (void) state;
    assert_true(ht_graph_name_ok("hugegraph"));
    assert_true(ht_graph_name_ok("G_1"));
    assert_false(ht_graph_name_ok("1g"));
    assert_false(ht_graph_name_ok("a-b"));
    assert_false(ht_graph_name_ok(""));
    assert_false(ht_graph_name_ok("a234567890123456789012345678901234567890123456789"));
}

static void
test_cfg_command_line_beats_default(void **state)
{
    ht_cfg cfg;
    char  *argv[] = { "x", "--database-url", "postgresql://h/db", "--workers=7",
                      NULL };

    (void) state;
    assert_int_equal(ht_cfg_load(&cfg, HT_CFG_FOR_WORKER, "x", 3 + 1, argv), 0);
    assert_int_equal(cfg.workers, 7);
    assert_string_equal(cfg.database_url, "postgresql://h/db");
    assert_int_equal(cfg.poll_ms, 1000);
    ht_cfg_fini(&cfg);
}

static void
test_cfg_rejects_out_of_range_and_unknown(void **state)
{
    ht_cfg cfg;
    char  *bad_range[] = { "x", "--database-url=u", "--workers=0", NULL };
    char  *unknown[] = { "x", "--database-url=u", "--listen=1.2.3.4:1", NULL };

    (void) state;
    assert_int_equal(ht_cfg_load(&cfg, HT_CFG_FOR_WORKER, "x", 3, bad_range), 2);
    /* --listen belongs to the API, not the worker. */
    assert_int_equal(ht_cfg_load(&cfg, HT_CFG_FOR_WORKER, "x", 3, unknown), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_refuses_past_limit),
        cmocka_unit_test(test_arena_aligns_and_keeps_data),
        cmocka_unit_test(test_arena_runs_cleanups_last_first),
        cmocka_unit_test(test_status_parses_any_case),
        cmocka_unit_test(test_only_success_cancelled_failed_are_final),
        cmocka_unit_test(test_task_name_is_first_line),
        cmocka_unit_test(test_task_name_cut_keeps_utf8_whole),
        cmocka_unit_test(test_parse_i64_rejects_junk_and_overflow),
        cmocka_unit_test(test_cfg_split_trims_and_skips_empty),
        cmocka_unit_test(test_graph_names),
        cmocka_unit_test(test_cfg_command_line_beats_default),
        cmocka_unit_test(test_cfg_rejects_out_of_range_and_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * tests/unit/test_worker_ops.c - pure logic of the worker's operations
 * side: the Prometheus rendering of the shared counters, the HTTP request
 * head parser of the supervisor's metrics server, and the retention knobs
 * (durations with s/m/h/d).  No network, no database, no sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "worker/metrics.h"
#include "worker/metrics_http.h"

/* ---- rendering ----------------------------------------------------- */

static char *
render(const wk_metrics_snap *s, const char *server)
{
    wk_pool_gauges g = { 3, 4, 2, 1700000000123LL };
    char          *out = NULL;
    size_t         len = 0;

    wk_metrics_render(s, &g, server, &out, &len);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    return out;
}

static void
test_render_counts_outcomes_and_gauges(void **state)
{
    wk_metrics_snap s;
    char           *out;

    (void) state;
    memset(&s, 0, sizeof s);
    s.finished[WK_OUT_SUCCESS] = 7;
    s.finished[WK_OUT_FAILED] = 2;
    s.finished[WK_OUT_CANCELLED] = 1;
    s.retried = 5;
    out = render(&s, "h1");
    assert_non_null(strstr(out, "# TYPE hugetask_worker_jobs_total counter\n"));
    assert_non_null(strstr(out, "\nhugetask_worker_jobs_total{server=\"h1\",outcome=\"success\"} 7\n"));
    assert_non_null(strstr(out, "\nhugetask_worker_jobs_total{server=\"h1\",outcome=\"failed\"} 2\n"));
    assert_non_null(strstr(out, "\nhugetask_worker_jobs_total{server=\"h1\",outcome=\"cancelled\"} 1\n"));
    assert_non_null(strstr(out, "\nhugetask_worker_job_retries_total{server=\"h1\"} 5\n"));
    assert_non_null(strstr(out, "\nhugetask_worker_processes_alive{server=\"h1\"} 3\n"));
    assert_non_null(strstr(out, "\nhugetask_worker_processes_configured{server=\"h1\"} 4\n"));
    assert_non_null(strstr(out, "\nhugetask_worker_process_restarts_total{server=\"h1\"} 2\n"));
    assert_non_null(strstr(out, "\nhugetask_worker_start_time_seconds{server=\"h1\"} 1700000000.123\n"));
    assert_int_equal(out[strlen(out) - 1], '\n');
    free(out);
}

static void
test_render_histogram_is_cumulative(void **state)
{
    wk_metrics_snap s;
    char           *out;

    (void) state;
    memset(&s, 0, sizeof s);
    wk_metrics_snap_observe(&s, 300);          /* 0.3 ms  -> le 0.001 */
    wk_metrics_snap_observe(&s, 1000);         /* exactly 1 ms: le 0.001 */
    wk_metrics_snap_observe(&s, 1001);         /* le 0.0025 */
    wk_metrics_snap_observe(&s, 2000000);      /* 2 s -> le 2.5 */
    wk_metrics_snap_observe(&s, 7200000000ULL); /* 2 h -> +Inf only */
    out = render(&s, "h");
    assert_non_null(strstr(out, "{server=\"h\",le=\"0.001\"} 2\n"));
    assert_non_null(strstr(out, "{server=\"h\",le=\"0.0025\"} 3\n"));
    assert_non_null(strstr(out, "{server=\"h\",le=\"1\"} 3\n"));
    assert_non_null(strstr(out, "{server=\"h\",le=\"2.5\"} 4\n"));
    assert_non_null(strstr(out, "{server=\"h\",le=\"3600\"} 4\n"));
    assert_non_null(strstr(out, "hugetask_worker_job_duration_seconds_bucket{server=\"h\",le=\"+Inf\"} 5\n"));
    assert_non_null(strstr(out, "hugetask_worker_job_duration_seconds_count{server=\"h\"} 5\n"));
    /* 300 + 1000 + 1001 + 2000000 + 7200000000 us */
    assert_non_null(strstr(out, "hugetask_worker_job_duration_seconds_sum{server=\"h\"} 7202.002301\n"));
    free(out);
}

static void
test_render_escapes_server_label(void **state)
{
    wk_metrics_snap s;
    char           *out;

    (void) state;
    memset(&s, 0, sizeof s);
    out = render(&s, "a\"b\\c\nd");
    assert_non_null(strstr(out, "hugetask_worker_processes_alive{server=\"a\\\"b\\\\c\\nd\"} 3\n"));
    free(out);
}

/* ---- request parsing ----------------------------------------------- */

static int
parse(const char *text, char *method, char *path)
{
    return wk_mhttp_parse(text, strlen(text), method, 16, path, 64);
}

static void
test_parse_complete_request(void **state)
{
    char m[16], p[64];

    (void) state;
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", m, p), 1);
    assert_string_equal(m, "GET");
    assert_string_equal(p, "/metrics");
    assert_int_equal(parse("HEAD /health?verbose=1 HTTP/1.0\n\n", m, p), 1);
    assert_string_equal(m, "HEAD");
    assert_string_equal(p, "/health");
}

static void
test_parse_waits_for_end_of_head(void **state)
{
    char m[16], p[64];

    (void) state;
    assert_int_equal(parse("", m, p), 0);
    assert_int_equal(parse("GE", m, p), 0);
    assert_int_equal(parse("GET /metr", m, p), 0);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n", m, p), 0);
}

static void
test_parse_refuses_non_http(void **state)
{
    char m[16], p[64];

    (void) state;
    assert_int_equal(parse("\x16\x03\x01\x02", m, p), -1);     /* TLS hello */
    assert_int_equal(parse("get /metrics HTTP/1.1\r\n\r\n", m, p), -1);
    assert_int_equal(parse("GET metrics HTTP/1.1\r\n\r\n", m, p), -1);
    assert_int_equal(parse("GET /metrics\r\n\r\n", m, p), -1);
    assert_int_equal(parse("GET /metrics FTP/1.0\r\n\r\n", m, p), -1);
}

static void
test_parse_cuts_long_path(void **state)
{
    char m[16], p[8];
    const char *t = "GET /a-very-long-path HTTP/1.0\r\n\r\n";

    (void) state;
    assert_int_equal(wk_mhttp_parse(t, strlen(t), m, sizeof m, p, sizeof p), 1);
    assert_string_equal(p, "/a-very");
}

/* ---- knobs --------------------------------------------------------- */

static int
load(ht_cfg *cfg, const char *a, const char *b)
{
    char *argv[] = { "w", "--database-url", "postgresql://x/y", (char *) a, (char *) b, NULL };

    return ht_cfg_load(cfg, HT_CFG_FOR_WORKER, "w", b ? 5 : 3, argv);
}

static void
test_retention_accepts_units(void **state)
{
    static const struct { const char *v; int64_t s; } cases[] = {
        { "0", 0 }, { "90", 90 }, { "90s", 90 }, { "15m", 900 }, { "2h", 7200 },
        { "30d", 2592000 },
    };
    ht_cfg cfg;

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(load(&cfg, "--retention", cases[i].v), 0);
        assert_int_equal(cfg.retention_s, cases[i].s);
        ht_cfg_fini(&cfg);
    }
}

static void
test_retention_defaults(void **state)
{
    ht_cfg cfg;

    (void) state;
    assert_int_equal(load(&cfg, NULL, NULL), 0);
    assert_int_equal(cfg.retention_s, 0);
    assert_int_equal(cfg.retention_batch, 1000);
    assert_int_equal(cfg.retention_every_s, 60);
    assert_string_equal(cfg.metrics_listen, "");
    ht_cfg_fini(&cfg);
}

static void
test_retention_refuses_junk(void **state)
{
    static const char *const bad[] = { "", "h", "5x", "-1", "1.5h", "5 m", "10w",
                                       "99999999999999999d" };
    ht_cfg cfg;

    (void) state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(load(&cfg, "--retention", bad[i]), 2);
    assert_int_equal(load(&cfg, "--retention-batch", "0"), 2);
    assert_int_equal(load(&cfg, "--retention-interval", "0"), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_counts_outcomes_and_gauges),
        cmocka_unit_test(test_render_histogram_is_cumulative),
        cmocka_unit_test(test_render_escapes_server_label),
        cmocka_unit_test(test_parse_complete_request),
        cmocka_unit_test(test_parse_waits_for_end_of_head),
        cmocka_unit_test(test_parse_refuses_non_http),
        cmocka_unit_test(test_parse_cuts_long_path),
        cmocka_unit_test(test_retention_accepts_units),
        cmocka_unit_test(test_retention_defaults),
        cmocka_unit_test(test_retention_refuses_junk),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * tests/unit/test_api_metrics.c - the /metrics text, route patterns and
 * request ids of the API, without a server.
 *
 * Every formatted text is also checked line by line against the exposition
 * format's shape: "# HELP name ...", "# TYPE name kind", or
 * "name{label="value",...} number".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api-server/metrics.h"
#include "api-server/req_id.h"

/* ---- the exposition shape ---------------------------------------------- */

static int
name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == ':' || (!first && c >= '0' && c <= '9');
}

/* 0 when line is a valid sample line; else the column that is wrong + 1. */
static int
sample_line_bad(const char *line)
{
    const char *p = line;
    char       *end;

    if (!name_char(*p, 1))
        return 1;
    while (name_char(*p, 0))
        p++;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            if (!name_char(*p, 1))
                return (int) (p - line) + 1;
            while (name_char(*p, 0))
                p++;
            if (*p++ != '=' || *p++ != '"')
                return (int) (p - line) + 1;
            while (*p != '"') {
                if (*p == '\0' || *p == '\n')
                    return (int) (p - line) + 1;
                if (*p == '\\') {
                    p++;
                    if (*p != '\\' && *p != '"' && *p != 'n')
                        return (int) (p - line) + 1;
                }
                p++;
            }
            p++;
            if (*p == ',')
                p++;
            else if (*p != '}')
                return (int) (p - line) + 1;
        }
        p++;
    }
    if (*p++ != ' ')
        return (int) (p - line);
    if (strcmp(p, "+Inf") == 0 || strcmp(p, "-Inf") == 0 || strcmp(p, "NaN") == 0)
        return 0;
    (void) strtod(p, &end);
    if (end == p || *end != '\0')
        return (int) (p - line) + 1;
    return 0;
}

static void
check_exposition(const char *text)
{
    char *copy = strdup(text), *save = NULL;

    assert_non_null(copy);
    assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
    for (char *l = strtok_r(copy, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "# HELP ", 7) == 0 || strncmp(l, "# TYPE ", 7) == 0)
            continue;
        if (sample_line_bad(l))
            fail_msg("not an exposition line (column %d): %s", sample_line_bad(l), l);
    }
    free(copy);
}

/* The value of the sample line that starts with prefix (name{labels}). */
static double
sample(const char *text, const char *prefix)
{
    size_t      n = strlen(prefix);
    const char *p = text;

    while ((p = strstr(p, prefix)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p += n;
    }
    fail_msg("no sample %s in:\n%s", prefix, text);
    return -1;
}

static int
has_sample(const char *text, const char *prefix)
{
    size_t      n = strlen(prefix);
    const char *p = text;

    while ((p = strstr(p, prefix)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ')
            return 1;
        p += n;
    }
    return 0;
}

/* ---- tests ---------------------------------------------------------------- */

static void
test_routes_are_patterns(void **state)
{
    (void) state;
    assert_int_equal(api_route_classify("/graphs/hugegraph/tasks/17"), API_ROUTE_TASK);
    assert_int_equal(api_route_classify("/graphs/nope/tasks/abc"), API_ROUTE_TASK);
    assert_int_equal(api_route_classify("/graphs/g/tasks"), API_ROUTE_TASKS);
    assert_int_equal(api_route_classify("/graphs/g/jobs/gremlin"), API_ROUTE_JOB_GREMLIN);
    assert_int_equal(api_route_classify("/graphs"), API_ROUTE_GRAPHS);
    assert_int_equal(api_route_classify("/graphspaces/DEFAULT/graphs/g/tasks/1"),
                     API_ROUTE_GS_TASK);
    assert_int_equal(api_route_classify("/graphspaces/X/graphs"), API_ROUTE_GS_GRAPHS);
    assert_int_equal(api_route_classify("/versions"), API_ROUTE_VERSIONS);
    assert_int_equal(api_route_classify("/health"), API_ROUTE_HEALTH);
    assert_int_equal(api_route_classify("/metrics"), API_ROUTE_METRICS);
    assert_int_equal(api_route_classify("/metrics/x"), API_ROUTE_UNMATCHED);
    assert_int_equal(api_route_classify("/graphs/g/jobs/other"), API_ROUTE_UNMATCHED);
    assert_int_equal(api_route_classify("/graphs//tasks"), API_ROUTE_UNMATCHED);
    assert_int_equal(api_route_classify("/"), API_ROUTE_UNMATCHED);
    assert_int_equal(api_route_classify("/a/b/c/d/e/f/g/h/i/j"), API_ROUTE_UNMATCHED);
    assert_int_equal(api_route_classify(NULL), API_ROUTE_UNMATCHED);
    assert_string_equal(api_route_name(API_ROUTE_TASK), "/graphs/{graph}/tasks/{id}");
    assert_string_equal(api_route_name(API_ROUTE_UNMATCHED), "unmatched");
    assert_true(api_route_is_open(API_ROUTE_HEALTH));
    assert_true(api_route_is_open(API_ROUTE_VERSIONS));
    assert_false(api_route_is_open(API_ROUTE_METRICS));
    assert_false(api_route_is_open(API_ROUTE_UNMATCHED));
}

static void
test_methods_are_bounded(void **state)
{
    (void) state;
    assert_int_equal(api_method_of("GET"), API_METHOD_GET);
    assert_int_equal(api_method_of("DELETE"), API_METHOD_DELETE);
    assert_int_equal(api_method_of("get"), API_METHOD_OTHER);
    assert_int_equal(api_method_of("PROPFIND"), API_METHOD_OTHER);
    assert_int_equal(api_method_of(NULL), API_METHOD_OTHER);
    assert_string_equal(api_method_name(API_METHOD_OTHER), "other");
}

static void
test_counters_and_histogram_format(void **state)
{
    api_metrics *m = api_metrics_new();
    api_text     t = { 0 };
    const char  *task = "{route=\"/graphs/{graph}/tasks/{id}\"";

    (void) state;
    api_metrics_observe(m, API_ROUTE_TASK, API_METHOD_GET, 200, 300);     /* 0.3 ms */
    api_metrics_observe(m, API_ROUTE_TASK, API_METHOD_GET, 200, 500);     /* on a bound */
    api_metrics_observe(m, API_ROUTE_TASK, API_METHOD_GET, 404, 2000);
    api_metrics_observe(m, API_ROUTE_TASK, API_METHOD_DELETE, 204, 20000000); /* 20 s */
    api_metrics_count(m, API_ROUTE_UNMATCHED, API_METHOD_OTHER, 405);
    api_metrics_count(m, API_ROUTE_UNMATCHED, API_METHOD_OTHER, 99);  /* not counted */
    api_metrics_inflight(m, 1);
    api_metrics_auth(m, API_AUTH_DENIED);
    api_metrics_format_http(m, &t);
    assert_false(t.oom);
    check_exposition(t.p);

    assert_true(strstr(t.p, "# TYPE hugetask_http_requests_total counter\n") != NULL);
    assert_true(strstr(t.p, "# TYPE hugetask_http_request_duration_seconds histogram\n") != NULL);
    assert_true(sample(t.p, "hugetask_http_requests_total{route=\"/graphs/{graph}/tasks/{id}\","
                            "method=\"GET\",code=\"200\"}") == 2);
    assert_true(sample(t.p, "hugetask_http_requests_total{route=\"/graphs/{graph}/tasks/{id}\","
                            "method=\"GET\",code=\"404\"}") == 1);
    assert_true(sample(t.p, "hugetask_http_requests_total{route=\"unmatched\","
                            "method=\"other\",code=\"405\"}") == 1);
    assert_false(has_sample(t.p, "hugetask_http_requests_total{route=\"unmatched\","
                                 "method=\"other\",code=\"99\"}"));
    /* Never observed: not written. */
    assert_null(strstr(t.p, "route=\"/versions\""));

    {
        char key[256];
        (void) snprintf(key, sizeof(key), "hugetask_http_request_duration_seconds_bucket%s,le=\"0.0005\"}", task);
        assert_true(sample(t.p, key) == 2);
        (void) snprintf(key, sizeof(key), "hugetask_http_request_duration_seconds_bucket%s,le=\"0.0025\"}", task);
        assert_true(sample(t.p, key) == 3);
        (void) snprintf(key, sizeof(key), "hugetask_http_request_duration_seconds_bucket%s,le=\"10\"}", task);
        assert_true(sample(t.p, key) == 3);
        (void) snprintf(key, sizeof(key), "hugetask_http_request_duration_seconds_bucket%s,le=\"+Inf\"}", task);
        assert_true(sample(t.p, key) == 4);
        (void) snprintf(key, sizeof(key), "hugetask_http_request_duration_seconds_count%s}", task);
        assert_true(sample(t.p, key) == 4);
        (void) snprintf(key, sizeof(key), "hugetask_http_request_duration_seconds_sum%s}", task);
        assert_true(sample(t.p, key) > 20.0027 && sample(t.p, key) < 20.0029);
    }
    assert_true(sample(t.p, "hugetask_http_requests_in_flight") == 1);
    assert_true(sample(t.p, "hugetask_auth_checks_total{result=\"denied\"}") == 1);
    assert_true(sample(t.p, "hugetask_auth_checks_total{result=\"cached\"}") == 0);
    api_text_fini(&t);
    api_metrics_free(m);
}

static void
test_task_gauges_fill_every_status(void **state)
{
    const char *const     graphs[] = { "hugegraph", "other" };
    const ht_status_count counts[] = {
        { "hugegraph", "queued", 5 }, { "hugegraph", "new", 2 },
        { "hugegraph", "success", 40 }, { "other", "odd\"state", 1 },
        { "unserved", "queued", 9 },
    };
    const ht_queue_age    ages[] = { { "hugegraph", 5, 12.5 } };
    api_task_gauges       g = { 1, graphs, 2, counts, 5, ages, 1 };
    api_text              t = { 0 };

    (void) state;
    api_metrics_format_tasks(&g, &t);
    assert_false(t.oom);
    check_exposition(t.p);
    assert_true(sample(t.p, "hugetask_db_up") == 1);
    assert_true(sample(t.p, "hugetask_tasks{graph=\"hugegraph\",status=\"queued\"}") == 5);
    assert_true(sample(t.p, "hugetask_tasks{graph=\"hugegraph\",status=\"running\"}") == 0);
    assert_true(sample(t.p, "hugetask_tasks{graph=\"other\",status=\"deleting\"}") == 0);
    assert_true(sample(t.p, "hugetask_tasks{graph=\"other\",status=\"odd\\\"state\"}") == 1);
    assert_true(sample(t.p, "hugetask_queue_depth{graph=\"hugegraph\"}") == 7);
    assert_true(sample(t.p, "hugetask_queue_depth{graph=\"other\"}") == 0);
    assert_true(sample(t.p, "hugetask_queue_oldest_age_seconds{graph=\"hugegraph\"}") == 12.5);
    assert_true(sample(t.p, "hugetask_queue_oldest_age_seconds{graph=\"other\"}") == 0);
    assert_null(strstr(t.p, "unserved"));
    api_text_fini(&t);
}

static void
test_db_down_is_a_gauge(void **state)
{
    const char *const graphs[] = { "hugegraph" };
    api_task_gauges   g = { 0, graphs, 1, NULL, 0, NULL, 0 };
    api_text          t = { 0 };

    (void) state;
    api_metrics_format_tasks(&g, &t);
    check_exposition(t.p);
    assert_true(sample(t.p, "hugetask_db_up") == 0);
    assert_null(strstr(t.p, "hugetask_tasks{"));
    api_text_fini(&t);
}

static void
test_label_values_are_escaped(void **state)
{
    api_text t = { 0 };

    (void) state;
    api_text_printf(&t, "x{a=\"");
    api_text_label(&t, "back\\slash \"quoted\"\nnext");
    api_text_printf(&t, "\"} 1\n");
    assert_string_equal(t.p, "x{a=\"back\\\\slash \\\"quoted\\\"\\nnext\"} 1\n");
    check_exposition(t.p);
    api_text_fini(&t);
}

static void
test_process_metrics_parse(void **state)
{
    api_metrics *m = api_metrics_new();
    api_text     t = { 0 };

    (void) state;
    api_metrics_format_process(m, &t);
    check_exposition(t.p);
    assert_true(sample(t.p, "process_resident_memory_bytes") > 0);
    assert_true(sample(t.p, "process_open_fds") >= 3);
    assert_true(sample(t.p, "hugetask_uptime_seconds") >= 0);
    api_text_fini(&t);
    api_metrics_free(m);
}

static void
test_request_ids(void **state)
{
    char a[API_REQ_ID_MAX + 1], b[API_REQ_ID_MAX + 1];
    char long_id[API_REQ_ID_MAX + 2];

    (void) state;
    assert_true(api_req_id_ok("abc"));
    assert_true(api_req_id_ok("A-Z_a.z-09"));
    assert_false(api_req_id_ok(""));
    assert_false(api_req_id_ok(NULL));
    assert_false(api_req_id_ok("has space"));
    assert_false(api_req_id_ok("semi;colon"));
    assert_false(api_req_id_ok("new\nline"));
    assert_false(api_req_id_ok("caf\xc3\xa9"));
    memset(long_id, 'x', sizeof(long_id));
    long_id[API_REQ_ID_MAX] = '\0';
    assert_true(api_req_id_ok(long_id));
    long_id[API_REQ_ID_MAX] = 'x';
    long_id[API_REQ_ID_MAX + 1] = '\0';
    assert_false(api_req_id_ok(long_id));

    api_req_id_new(a);
    api_req_id_new(b);
    assert_true(api_req_id_ok(a));
    assert_true(api_req_id_ok(b));
    assert_string_not_equal(a, b);
    /* Same process prefix, different counters. */
    assert_int_equal(strchr(a, '-') - a, 12);
    assert_memory_equal(a, b, 13);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_are_patterns),
        cmocka_unit_test(test_methods_are_bounded),
        cmocka_unit_test(test_counters_and_histogram_format),
        cmocka_unit_test(test_task_gauges_fill_every_status),
        cmocka_unit_test(test_db_down_is_a_gauge),
        cmocka_unit_test(test_label_values_are_escaped),
        cmocka_unit_test(test_process_metrics_parse),
        cmocka_unit_test(test_request_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

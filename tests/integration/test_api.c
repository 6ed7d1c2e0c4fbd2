/*
 * tests/integration/test_api.c - conformance of the HugeGraph task API.
 *
 * One test per rule of DESIGN §3 (issue 3), through HTTP against the real
 * hugetask-api and hugetask-worker.  The stack serves three graphs but its
 * worker only runs "hugegraph": tasks of "other" stay queued, which makes
 * listing, paging, cancel and delete of not-started tasks deterministic.
 * Every task object any test sees is checked against the 15 allowed keys,
 * and every job-creation reply must be exactly {"task_id": N}.
 *
 * Needs HT_TEST_PGURL (tests/run.sh sets it); without it every test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness/harness.h"

#define EXC_ILLEGAL   "class java.lang.IllegalArgumentException"
#define EXC_NOTFOUND  "class org.apache.hugegraph.exception.NotFoundException"
#define EXC_BADREQ    "class jakarta.ws.rs.BadRequestException"
#define EXC_UNSUPP    "class jakarta.ws.rs.NotSupportedException"
#define EXC_LIMIT     "class org.apache.hugegraph.exception.LimitExceedException"
#define EXC_NOTALLOW  "class jakarta.ws.rs.NotAllowedException"
#define EXC_NOROUTE   "class jakarta.ws.rs.NotFoundException"
#define EXC_BACKEND   "class org.apache.hugegraph.backend.BackendException"

#define INPUT_LIMIT 65536

static const char *const ALLOWED_KEYS[] = {
    "id", "task_type", "task_name", "task_status", "task_callable",
    "task_create", "task_update", "task_progress", "task_retries",
    "task_input", "task_result", "task_description", "task_dependencies",
    "task_server", "task_priority", NULL,
};

/* ---- fixture ------------------------------------------------------- */

static char *const api_args[] = {
    "--graphs", "hugegraph,other,fresh", "--max-input-bytes", "65536", NULL,
};
static char *const worker_args[] = { "--graphs", "hugegraph", NULL };

static int
group_setup(void **state)
{
    th_opts o = {
        .api_bin = HT_API_BIN,
        .worker_bin = HT_WORKER_BIN,
        .workers = 2,
        .api_args = api_args,
        .worker_args = worker_args,
    };
    th_stack *s = th_stack_new("api_conformance", &o);

    if (s == NULL)
        return -1;
    if (th_stack_start(s) != 0) {
        th_stack_free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int
group_teardown(void **state)
{
    return th_stack_free(*state);
}

/* ---- helpers ------------------------------------------------------- */

/* Every key allowed, no null values. */
static void
check_task_keys(json_t *task)
{
    const char *key;
    json_t     *v;

    assert_true(json_is_object(task));
    json_object_foreach(task, key, v) {
        int ok = 0;
        for (int i = 0; ALLOWED_KEYS[i] != NULL; i++)
            if (strcmp(key, ALLOWED_KEYS[i]) == 0)
                ok = 1;
        if (!ok)
            fail_msg("task object has key '%s', not one of the 15 allowed", key);
        if (json_is_null(v))
            fail_msg("task object has null value for '%s'", key);
    }
    assert_true(json_is_integer(json_object_get(task, "id")));
    assert_true(json_is_string(json_object_get(task, "task_name")));
}

/* List views: allowed keys and never result, input or callable. */
static void
check_list_tasks(json_t *tasks)
{
    size_t  i;
    json_t *t;

    assert_true(json_is_array(tasks));
    json_array_foreach(tasks, i, t) {
        check_task_keys(t);
        assert_null(json_object_get(t, "task_result"));
        assert_null(json_object_get(t, "task_input"));
        assert_null(json_object_get(t, "task_callable"));
    }
}

/* A request that must answer want; returns the reply (caller finis it). */
static void
req(th_stack *s, const char *method, const char *path, const char *body,
    const char *ctype, int want, th_resp *r)
{
    assert_int_equal(th_http(s, method, path, body, ctype, r), 0);
    if (r->status != want)
        fail_msg("%s %s: want %d, got %d: %s", method, path, want, r->status,
                 r->body);
}

static void
assert_error(th_stack *s, const char *method, const char *path,
             const char *body, const char *ctype, int status,
             const char *exception, const char *message)
{
    th_resp r;

    req(s, method, path, body, ctype, status, &r);
    assert_non_null(r.json);
    assert_string_equal(json_string_value(json_object_get(r.json, "exception")),
                        exception);
    if (message != NULL)
        assert_string_equal(json_string_value(json_object_get(r.json, "message")),
                            message);
    assert_non_null(json_object_get(r.json, "cause"));
    assert_int_equal(json_object_size(r.json), 3);
    th_resp_fini(&r);
}

/* POST a body to jobs/gremlin under prefix; must be 201 exactly
 * {"task_id": N}. */
static int64_t
submit_body(th_stack *s, const char *prefix, const char *graph, const char *body)
{
    char    path[256];
    th_resp r;
    int64_t id;

    snprintf(path, sizeof(path), "%s/graphs/%s/jobs/gremlin", prefix, graph);
    req(s, "POST", path, body, NULL, 201, &r);
    assert_true(json_is_object(r.json));
    assert_int_equal(json_object_size(r.json), 1);
    assert_true(json_is_integer(json_object_get(r.json, "task_id")));
    id = json_integer_value(json_object_get(r.json, "task_id"));
    assert_true(id > 0);
    th_resp_fini(&r);
    return id;
}

static int64_t
submit(th_stack *s, const char *graph, const char *script)
{
    json_t *b = json_pack("{s:s}", "gremlin", script);
    char   *text = json_dumps(b, JSON_COMPACT);
    int64_t id = submit_body(s, "", graph, text);

    free(text);
    json_decref(b);
    return id;
}

/* GET a task; returns its JSON (caller decrefs). */
static json_t *
get_task(th_stack *s, const char *graph, int64_t id)
{
    char    path[256];
    th_resp r;
    json_t *t;

    snprintf(path, sizeof(path), "/graphs/%s/tasks/%" PRId64, graph, id);
    req(s, "GET", path, NULL, NULL, 200, &r);
    check_task_keys(r.json);
    t = json_incref(r.json);
    th_resp_fini(&r);
    return t;
}

static const char *
status_of(json_t *task)
{
    return json_string_value(json_object_get(task, "task_status"));
}

/* GET a list path; returns the "tasks" array's owner object. */
static json_t *
list(th_stack *s, const char *path)
{
    th_resp r;
    json_t *o;

    req(s, "GET", path, NULL, NULL, 200, &r);
    assert_true(json_is_object(r.json));
    check_list_tasks(json_object_get(r.json, "tasks"));
    o = json_incref(r.json);
    th_resp_fini(&r);
    return o;
}

static void
wait_status(th_stack *s, const char *graph, int64_t id, const char *status)
{
    json_t *t = NULL;

    assert_int_equal(th_wait_task_status(s, graph, id, status, 20, 20, &t), 0);
    check_task_keys(t);
    json_decref(t);
}

/* ---- 1. path families, versions, graphs ----------------------------- */

static void
test_versions_exact(void **state)
{
    th_resp r;
    json_t *want = json_loads("{\"versions\":{\"version\":\"v1\",\"core\":\"1.7.0\","
                              "\"gremlin\":\"3.5.1\",\"api\":\"0.71\"}}", 0, NULL);

    req(*state, "GET", "/versions", NULL, NULL, 200, &r);
    assert_true(json_equal(r.json, want));
    json_decref(want);
    th_resp_fini(&r);
}

static void
test_graphs_listed_in_both_families(void **state)
{
    const char *paths[] = { "/graphs", "/graphspaces/DEFAULT/graphs" };
    json_t     *want = json_loads("{\"graphs\":[\"hugegraph\",\"other\",\"fresh\"]}", 0, NULL);

    for (int i = 0; i < 2; i++) {
        th_resp r;
        req(*state, "GET", paths[i], NULL, NULL, 200, &r);
        assert_true(json_equal(r.json, want));
        th_resp_fini(&r);
    }
    json_decref(want);
}

static void
test_graphspace_family_uses_same_tasks(void **state)
{
    th_stack *s = *state;
    int64_t   id = submit_body(s, "/graphspaces/DEFAULT", "other",
                               "{\"gremlin\":\"1\"}");
    char      path[256];
    json_t   *t = get_task(s, "other", id);
    th_resp   r;

    assert_string_equal(status_of(t), "queued");
    json_decref(t);
    snprintf(path, sizeof(path), "/graphspaces/DEFAULT/graphs/other/tasks/%" PRId64, id);
    req(s, "GET", path, NULL, NULL, 200, &r);
    check_task_keys(r.json);
    assert_int_equal(json_integer_value(json_object_get(r.json, "id")), id);
    assert_non_null(json_object_get(r.json, "task_input"));
    th_resp_fini(&r);
    t = list(s, "/graphspaces/DEFAULT/graphs/other/tasks?limit=-1");
    assert_true(json_array_size(json_object_get(t, "tasks")) >= 1);
    json_decref(t);
}

static void
test_unknown_graphspace_is_404(void **state)
{
    assert_error(*state, "GET", "/graphspaces/SPACE2/graphs/hugegraph/tasks", NULL,
                 NULL, 404, EXC_NOROUTE, "Graphspace 'SPACE2' does not exist");
}

static void
test_unknown_graph_is_404_in_both_families(void **state)
{
    assert_error(*state, "GET", "/graphs/nope/tasks", NULL, NULL, 404,
                 EXC_NOTFOUND, "Graph 'nope' does not exist");
    assert_error(*state, "GET", "/graphspaces/DEFAULT/graphs/nope/tasks/1", NULL,
                 NULL, 404, EXC_NOTFOUND, "Graph 'nope' does not exist");
    assert_error(*state, "POST", "/graphs/nope/jobs/gremlin", "{\"gremlin\":\"1\"}",
                 NULL, 404, EXC_NOTFOUND, "Graph 'nope' does not exist");
}

/* ---- 2. listing ------------------------------------------------------- */

static void
test_status_filter_any_case(void **state)
{
    th_stack *s = *state;
    int64_t   id = submit(s, "hugegraph", "1 + 1");
    json_t   *o;
    size_t    i;
    json_t   *t;
    int       seen = 0;

    wait_status(s, "hugegraph", id, "success");
    o = list(s, "/graphs/hugegraph/tasks?status=sUcCeSs&limit=-1");
    json_array_foreach(json_object_get(o, "tasks"), i, t) {
        assert_string_equal(status_of(t), "success");
        if (json_integer_value(json_object_get(t, "id")) == id)
            seen = 1;
    }
    assert_true(seen);
    json_decref(o);
}

static void
test_status_unknown_lists_nothing(void **state)
{
    json_t *o = list(*state, "/graphs/other/tasks?status=UNKNOWN");

    assert_int_equal(json_array_size(json_object_get(o, "tasks")), 0);
    json_decref(o);
}

static void
test_status_bad_value_is_400(void **state)
{
    assert_error(*state, "GET", "/graphs/other/tasks?status=finished", NULL, NULL,
                 400, EXC_ILLEGAL,
                 "Status value must be in [UNKNOWN, NEW, SCHEDULING, SCHEDULED, "
                 "QUEUED, RESTORING, RUNNING, SUCCESS, CANCELLING, CANCELLED, "
                 "FAILED, HANGING, DELETING], but got 'finished'");
}

/* Makes "other" hold at least n tasks. */
static void
fill_other(th_stack *s, size_t n)
{
    json_t *o = list(s, "/graphs/other/tasks?limit=-1");
    size_t  have = json_array_size(json_object_get(o, "tasks"));

    json_decref(o);
    for (; have < n; have++)
        (void) submit(s, "other", "1");
}

static void
test_limit_default_100_and_minus_one_all(void **state)
{
    th_stack *s = *state;
    json_t   *o;
    size_t    all;

    fill_other(s, 105);
    o = list(s, "/graphs/other/tasks");
    assert_int_equal(json_array_size(json_object_get(o, "tasks")), 100);
    assert_null(json_object_get(o, "page"));
    json_decref(o);
    o = list(s, "/graphs/other/tasks?limit=-1");
    all = json_array_size(json_object_get(o, "tasks"));
    assert_true(all >= 105);
    json_decref(o);
    o = list(s, "/graphs/other/tasks?limit=3");
    assert_int_equal(json_array_size(json_object_get(o, "tasks")), 3);
    json_decref(o);
    o = list(s, "/graphs/other/tasks?limit=0");
    assert_int_equal(json_array_size(json_object_get(o, "tasks")), 0);
    json_decref(o);
}

static void
test_limit_bad_values_are_400(void **state)
{
    assert_error(*state, "GET", "/graphs/other/tasks?limit=-2", NULL, NULL, 400,
                 EXC_ILLEGAL, NULL);
    assert_error(*state, "GET", "/graphs/other/tasks?limit=ten", NULL, NULL, 400,
                 EXC_ILLEGAL, NULL);
}

static void
test_list_is_ascending_id(void **state)
{
    json_t *o = list(*state, "/graphs/other/tasks?limit=-1");
    size_t  i;
    json_t *t;
    int64_t last = 0;

    json_array_foreach(json_object_get(o, "tasks"), i, t) {
        int64_t id = json_integer_value(json_object_get(t, "id"));
        assert_true(id > last);
        last = id;
    }
    json_decref(o);
}

static void
test_ids_ignore_limit_and_omit_unknown(void **state)
{
    th_stack *s = *state;
    int64_t   a = submit(s, "other", "1"), b = submit(s, "other", "1");
    char      path[256];
    json_t   *o, *tasks;

    snprintf(path, sizeof(path),
             "/graphs/other/tasks?limit=1&ids=%" PRId64 "&ids=999999&ids=%" PRId64, b, a);
    o = list(s, path);
    tasks = json_object_get(o, "tasks");
    assert_int_equal(json_array_size(tasks), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(tasks, 0), "id")), a);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(tasks, 1), "id")), b);
    assert_null(json_object_get(o, "page"));
    json_decref(o);
}

static void
test_ids_with_status_or_page_is_400(void **state)
{
    assert_error(*state, "GET", "/graphs/other/tasks?ids=1&status=queued", NULL, NULL,
                 400, EXC_ILLEGAL, NULL);
    assert_error(*state, "GET", "/graphs/other/tasks?ids=1&page=", NULL, NULL, 400,
                 EXC_ILLEGAL, NULL);
    assert_error(*state, "GET", "/graphs/other/tasks?ids=x", NULL, NULL, 400,
                 EXC_ILLEGAL, "Invalid task id 'x'");
}

static void
test_paging_walks_all_without_empty_page(void **state)
{
    th_stack *s = *state;
    json_t   *all = list(s, "/graphs/other/tasks?limit=-1");
    size_t    total = json_array_size(json_object_get(all, "tasks"));
    size_t    seen = 0, pages = 0;
    char      token[128] = "";
    int64_t   last = 0;

    for (;;) {
        char    path[256];
        json_t *o, *tasks, *page;
        size_t  i;
        json_t *t;

        snprintf(path, sizeof(path), "/graphs/other/tasks?limit=10&page=%s", token);
        o = list(s, path);
        assert_int_equal(json_object_size(o), 2);
        tasks = json_object_get(o, "tasks");
        page = json_object_get(o, "page");
        assert_non_null(page);
        assert_true(json_array_size(tasks) > 0);   /* never an empty extra page */
        json_array_foreach(tasks, i, t) {
            int64_t id = json_integer_value(json_object_get(t, "id"));
            assert_true(id > last);
            last = id;
            seen++;
        }
        pages++;
        if (json_is_null(page)) {
            json_decref(o);
            break;
        }
        assert_true(json_is_string(page));
        assert_int_equal(json_array_size(tasks), 10);
        snprintf(token, sizeof(token), "%s", json_string_value(page));
        json_decref(o);
        assert_true(pages < 1000);
    }
    assert_int_equal(seen, total);
    assert_int_equal(pages, (total + 9) / 10);
    json_decref(all);
}

static void
test_paging_exact_multiple_ends_with_null(void **state)
{
    th_stack *s = *state;
    json_t   *all = list(s, "/graphs/other/tasks?limit=-1");
    size_t    total = json_array_size(json_object_get(all, "tasks"));
    char      path[128];
    json_t   *o;

    /* A limit equal to the total: one page, page null. */
    snprintf(path, sizeof(path), "/graphs/other/tasks?page=&limit=%zu", total);
    o = list(s, path);
    assert_int_equal(json_array_size(json_object_get(o, "tasks")), total);
    assert_true(json_is_null(json_object_get(o, "page")));
    json_decref(o);
    o = list(s, "/graphs/other/tasks?page=&limit=0");
    assert_int_equal(json_array_size(json_object_get(o, "tasks")), 0);
    assert_true(json_is_null(json_object_get(o, "page")));
    json_decref(o);
    json_decref(all);
}

static void
test_paging_bad_token_is_400(void **state)
{
    assert_error(*state, "GET", "/graphs/other/tasks?page=garbage", NULL, NULL, 400,
                 EXC_ILLEGAL, "Invalid page 'garbage'");
}

/* ---- 3. cancel --------------------------------------------------------- */

static void
test_cancel_legacy_replies_cancelled_true(void **state)
{
    th_stack *s = *state;
    int64_t   id = submit(s, "other", "1");
    char      path[128];
    th_resp   r;
    json_t   *t;

    snprintf(path, sizeof(path), "/graphs/other/tasks/%" PRId64 "?action=cancel", id);
    req(s, "PUT", path, NULL, NULL, 202, &r);
    assert_int_equal(json_object_size(r.json), 1);
    assert_true(json_is_true(json_object_get(r.json, "cancelled")));
    th_resp_fini(&r);
    t = get_task(s, "other", id);
    assert_string_equal(status_of(t), "cancelled");
    assert_null(json_object_get(t, "task_result"));
    json_decref(t);
}

static void
test_cancel_graphspace_replies_detail_task(void **state)
{
    th_stack *s = *state;
    int64_t   queued = submit(s, "other", "1");
    int64_t   running = submit(s, "hugegraph", "Thread.sleep(20000); 1");
    char      path[160];
    th_resp   r;

    snprintf(path, sizeof(path),
             "/graphspaces/DEFAULT/graphs/other/tasks/%" PRId64 "?action=cancel", queued);
    req(s, "PUT", path, NULL, NULL, 202, &r);
    check_task_keys(r.json);
    assert_string_equal(status_of(r.json), "cancelled");
    assert_int_equal(json_integer_value(json_object_get(r.json, "id")), queued);
    assert_non_null(json_object_get(r.json, "task_input"));
    th_resp_fini(&r);

    wait_status(s, "hugegraph", running, "running");
    snprintf(path, sizeof(path),
             "/graphspaces/DEFAULT/graphs/hugegraph/tasks/%" PRId64 "?action=cancel", running);
    req(s, "PUT", path, NULL, NULL, 202, &r);
    check_task_keys(r.json);
    assert_true(strcmp(status_of(r.json), "cancelling") == 0 ||
                strcmp(status_of(r.json), "cancelled") == 0);
    th_resp_fini(&r);
    wait_status(s, "hugegraph", running, "cancelled");
}

static void
test_cancel_completed_or_cancelling_is_400(void **state)
{
    th_stack *s = *state;
    int64_t   done = submit(s, "hugegraph", "2");
    /* Ignores the interrupt: stays cancelling until the grace period ends. */
    int64_t   stubborn = submit(s, "hugegraph",
                                "while (true) { try { Thread.sleep(50) } "
                                "catch (InterruptedException e) { } }");
    char      path[128], msg[128];

    wait_status(s, "hugegraph", done, "success");
    snprintf(path, sizeof(path), "/graphs/hugegraph/tasks/%" PRId64 "?action=cancel", done);
    snprintf(msg, sizeof(msg),
             "Can't cancel task '%" PRId64 "' which is completed or cancelling", done);
    assert_error(s, "PUT", path, NULL, NULL, 400, EXC_BADREQ, msg);

    wait_status(s, "hugegraph", stubborn, "running");
    snprintf(path, sizeof(path), "/graphs/hugegraph/tasks/%" PRId64 "?action=cancel",
             stubborn);
    {
        th_resp r;
        req(s, "PUT", path, NULL, NULL, 202, &r);
        th_resp_fini(&r);
    }
    snprintf(msg, sizeof(msg),
             "Can't cancel task '%" PRId64 "' which is completed or cancelling", stubborn);
    assert_error(s, "PUT", path, NULL, NULL, 400, EXC_BADREQ, msg);
    /* The grace period (3 s) ends it, still cancelled. */
    wait_status(s, "hugegraph", stubborn, "cancelled");
}

static void
test_cancel_unknown_is_404(void **state)
{
    assert_error(*state, "PUT", "/graphs/other/tasks/987654?action=cancel", NULL, NULL,
                 404, EXC_NOTFOUND, "Can't find task with id '987654'");
}

static void
test_cancel_action_checked_before_id(void **state)
{
    assert_error(*state, "PUT", "/graphs/other/tasks/1?action=pause", NULL, NULL, 415,
                 EXC_UNSUPP, "Not support action 'pause'");
    assert_error(*state, "PUT", "/graphs/other/tasks/1", NULL, NULL, 415, EXC_UNSUPP,
                 "Not support action 'null'");
    assert_error(*state, "PUT", "/graphs/other/tasks/notanid?action=x", NULL, NULL, 415,
                 EXC_UNSUPP, "Not support action 'x'");
    assert_error(*state, "PUT", "/graphs/other/tasks/notanid?action=cancel", NULL, NULL,
                 400, EXC_ILLEGAL, "Invalid task id 'notanid'");
}

/* ---- 4. delete ----------------------------------------------------------- */

static void
test_delete_completed_is_204_empty(void **state)
{
    th_stack *s = *state;
    int64_t   id = submit(s, "hugegraph", "3");
    char      path[128], msg[96];
    th_resp   r;

    wait_status(s, "hugegraph", id, "success");
    snprintf(path, sizeof(path), "/graphs/hugegraph/tasks/%" PRId64, id);
    req(s, "DELETE", path, NULL, NULL, 204, &r);
    assert_int_equal(r.body_len, 0);
    th_resp_fini(&r);
    snprintf(msg, sizeof(msg), "Can't find task with id '%" PRId64 "'", id);
    assert_error(s, "GET", path, NULL, NULL, 404, EXC_NOTFOUND, msg);
    assert_error(s, "DELETE", path, NULL, NULL, 404, EXC_NOTFOUND, msg);
}

static void
test_delete_incomplete_is_400_naming_status(void **state)
{
    th_stack *s = *state;
    int64_t   id = submit(s, "other", "1");
    char      path[128], msg[160];

    snprintf(path, sizeof(path), "/graphs/other/tasks/%" PRId64, id);
    snprintf(msg, sizeof(msg),
             "Can't delete incomplete task '%" PRId64
             "' in status queued, Please try to cancel the task first", id);
    assert_error(s, "DELETE", path, NULL, NULL, 400, EXC_BADREQ, msg);
}

static void
test_delete_force_any_status(void **state)
{
    th_stack *s = *state;
    int64_t   id = submit(s, "other", "1");
    char      path[128];
    th_resp   r;

    snprintf(path, sizeof(path), "/graphs/other/tasks/%" PRId64 "?force=true", id);
    req(s, "DELETE", path, NULL, NULL, 204, &r);
    assert_int_equal(r.body_len, 0);
    th_resp_fini(&r);
    snprintf(path, sizeof(path), "/graphs/other/tasks/%" PRId64, id);
    req(s, "GET", path, NULL, NULL, 404, &r);
    th_resp_fini(&r);
}

static void
test_delete_force_stops_running_job(void **state)
{
    th_stack *s = *state;
    int64_t   id = submit(s, "hugegraph",
                          "for (int i = 0; i < 200; i++) {"
                          " graph.addVertex(T.label, 'forced'); graph.tx().commit();"
                          " Thread.sleep(50) }");
    char      path[128], sql[128];
    int64_t   n1, n2;
    th_resp   r;

    wait_status(s, "hugegraph", id, "running");
    th_sleep_ms(300);
    snprintf(path, sizeof(path), "/graphs/hugegraph/tasks/%" PRId64 "?force=true", id);
    req(s, "DELETE", path, NULL, NULL, 204, &r);
    th_resp_fini(&r);
    th_sleep_ms((int64_t) (1500 * th_timeout_mult()));
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM vertices WHERE label = 'forced'");
    assert_int_equal(th_sql_i64(s, sql, &n1), 0);
    th_sleep_ms((int64_t) (1000 * th_timeout_mult()));
    assert_int_equal(th_sql_i64(s, sql, &n2), 0);
    assert_int_equal(n1, n2);           /* the job stopped */
    assert_true(n1 < 200);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tasks WHERE graph = 'hugegraph' "
             "AND id = %" PRId64, id);
    assert_int_equal(th_sql_i64(s, sql, &n1), 0);
    assert_int_equal(n1, 0);            /* nothing wrote the row back */
}

/* ---- 5. submission ------------------------------------------------------- */

static void
test_gremlin_required(void **state)
{
    assert_error(*state, "POST", "/graphs/other/jobs/gremlin", "{\"bindings\":{}}", NULL,
                 400, EXC_ILLEGAL, "The gremlin parameter can't be null");
    assert_error(*state, "POST", "/graphs/other/jobs/gremlin", "{\"gremlin\":5}", NULL,
                 400, EXC_ILLEGAL, NULL);
}

static void
test_language_defaults_and_other_is_400(void **state)
{
    th_stack *s = *state;
    int64_t   id = submit_body(s, "", "other", "{\"gremlin\":\"1\",\"bindings\":{\"x\":1}}");
    json_t   *t = get_task(s, "other", id);

    assert_string_equal(json_string_value(json_object_get(t, "task_input")),
                        "{\"gremlin\":\"1\",\"bindings\":{\"x\":1},"
                        "\"language\":\"gremlin-groovy\",\"aliases\":{\"other\":\"graph\"}}");
    assert_string_equal(json_string_value(json_object_get(t, "task_type")), "gremlin");
    assert_string_equal(json_string_value(json_object_get(t, "task_callable")),
                        "org.apache.hugegraph.job.GremlinJob");
    json_decref(t);
    assert_error(s, "POST", "/graphs/other/jobs/gremlin",
                 "{\"gremlin\":\"1\",\"language\":\"gremlin-python\"}", NULL, 400,
                 EXC_ILLEGAL, "Not support language 'gremlin-python'");
}

static void
test_aliases_must_be_empty(void **state)
{
    th_stack *s = *state;

    (void) submit_body(s, "", "other", "{\"gremlin\":\"1\",\"aliases\":{}}");
    (void) submit_body(s, "", "other", "{\"gremlin\":\"1\",\"aliases\":null}");
    assert_error(s, "POST", "/graphs/other/jobs/gremlin",
                 "{\"gremlin\":\"1\",\"aliases\":{\"g\":\"graph\"}}", NULL, 400,
                 EXC_ILLEGAL, "There is no need to pass gremlin aliases");
}

static void
test_bindings_must_be_object(void **state)
{
    th_stack *s = *state;
    int64_t   id = submit_body(s, "", "other", "{\"gremlin\":\"1\",\"bindings\":null}");
    json_t   *t = get_task(s, "other", id);

    assert_non_null(strstr(json_string_value(json_object_get(t, "task_input")),
                           "\"bindings\":{}"));
    json_decref(t);
    assert_error(s, "POST", "/graphs/other/jobs/gremlin",
                 "{\"gremlin\":\"1\",\"bindings\":[1]}", NULL, 400, EXC_ILLEGAL, NULL);
    assert_error(s, "POST", "/graphs/other/jobs/gremlin",
                 "{\"gremlin\":\"1\",\"bindings\":\"x\"}", NULL, 400, EXC_ILLEGAL, NULL);
}

static void
test_bad_bodies_are_clear_4xx(void **state)
{
    th_stack *s = *state;

    assert_error(s, "POST", "/graphs/other/jobs/gremlin", "{\"gremlin\":", NULL, 400,
                 EXC_ILLEGAL, NULL);
    assert_error(s, "POST", "/graphs/other/jobs/gremlin", "[1,2]", NULL, 400,
                 EXC_ILLEGAL, NULL);
    assert_error(s, "POST", "/graphs/other/jobs/gremlin", NULL, NULL, 400, EXC_ILLEGAL,
                 "The request body can't be empty");
    assert_error(s, "POST", "/graphs/other/jobs/gremlin", "{\"gremlin\":\"1\"}",
                 "text/plain", 415, EXC_UNSUPP, NULL);
}

static void
test_body_over_limit_is_413(void **state)
{
    th_stack *s = *state;
    size_t    n = INPUT_LIMIT + 100;
    char     *big = malloc(n + 1);
    th_resp   r;

    assert_non_null(big);
    memset(big, ' ', n);
    memcpy(big, "{\"gremlin\":\"1\"}", 15);
    big[n] = '\0';
    req(s, "POST", "/graphs/other/jobs/gremlin", big, NULL, 413, &r);
    assert_string_equal(json_string_value(json_object_get(r.json, "exception")), EXC_LIMIT);
    th_resp_fini(&r);
    free(big);
    /* The server still answers afterwards. */
    req(s, "GET", "/versions", NULL, NULL, 200, &r);
    th_resp_fini(&r);
}

/* Deep nesting once overflowed an HTTP thread's stack inside jansson (250
 * levels in bindings killed the API); now it is a 400, and the API lives. */
static void
test_deeply_nested_body_is_400(void **state)
{
    static const int levels[] = { 65, 250, 5000 };
    th_stack *s = *state;
    th_resp   r;

    for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++) {
        int    n = levels[k];
        size_t len = 40 + 2 * (size_t) n;
        char  *body = malloc(len);
        size_t o;

        assert_non_null(body);
        o = (size_t) snprintf(body, len, "{\"gremlin\":\"1\",\"bindings\":{\"x\":");
        memset(body + o, '[', (size_t) n);
        o += (size_t) n;
        memset(body + o, ']', (size_t) n);
        o += (size_t) n;
        memcpy(body + o, "}}", 3);
        assert_error(s, "POST", "/graphs/other/jobs/gremlin", body, NULL, 400,
                     EXC_ILLEGAL, "Invalid request body: nested deeper than 64 levels");
        free(body);
    }
    /* 63 levels inside the two outer objects (65 in all) is too deep too;
     * 62 inside is accepted. */
    {
        char body[256];
        int  o = snprintf(body, sizeof(body), "{\"gremlin\":\"1\",\"bindings\":{\"x\":");
        memset(body + o, '[', 62);
        memset(body + o + 62, ']', 62);
        memcpy(body + o + 124, "}}", 3);
        req(s, "POST", "/graphs/other/jobs/gremlin", body, NULL, 201, &r);
        th_resp_fini(&r);
    }
    req(s, "GET", "/versions", NULL, NULL, 200, &r);
    th_resp_fini(&r);
}

static void
test_task_name_first_line_cut_on_utf8(void **state)
{
    th_stack *s = *state;
    char      script[1024];
    size_t    o = 0;
    json_t   *t;
    int64_t   id;
    const char *name;

    script[o++] = 'a';
    for (int i = 0; i < 200; i++) {          /* 200 x U+00E9, 2 bytes each */
        script[o++] = (char) 0xc3;
        script[o++] = (char) 0xa9;
    }
    memcpy(script + o, "\n2", 3);
    id = submit(s, "other", script);
    t = get_task(s, "other", id);
    name = json_string_value(json_object_get(t, "task_name"));
    /* 256 bytes would split a character: 1 + 127 * 2 = 255 bytes remain. */
    assert_int_equal(strlen(name), 255);
    assert_int_equal(memcmp(name, script, 255), 0);
    json_decref(t);
    id = submit(s, "other", "g.V()\ng.E()");
    t = get_task(s, "other", id);
    assert_string_equal(json_string_value(json_object_get(t, "task_name")), "g.V()");
    json_decref(t);
}

static void
test_ids_per_graph_from_one_never_reused(void **state)
{
    th_stack *s = *state;
    int64_t   first = submit(s, "fresh", "1");
    int64_t   second;
    char      path[128];
    th_resp   r;

    assert_int_equal(first, 1);
    snprintf(path, sizeof(path), "/graphs/fresh/tasks/%" PRId64 "?force=true", first);
    req(s, "DELETE", path, NULL, NULL, 204, &r);
    th_resp_fini(&r);
    assert_int_equal(th_stack_stop(s), 0);
    assert_int_equal(th_stack_start(s), 0);
    second = submit(s, "fresh", "1");
    assert_true(second > first);
}

static void
test_pending_cap_is_400(void **state)
{
    char *const cap_args[] = { "--max-pending", "3", NULL };
    th_opts     o = { .api_bin = HT_API_BIN, .worker_bin = HT_WORKER_BIN,
                      .api_args = cap_args };
    th_stack   *s = th_stack_new("pending_cap", &o);
    int64_t     ids[3];
    char        path[128];
    th_resp     r;

    (void) state;
    assert_non_null(s);
    assert_int_equal(th_migrate(s), 0);
    assert_int_equal(th_api_start(s), 0);          /* no worker: all stay queued */
    for (int i = 0; i < 3; i++)
        ids[i] = submit(s, "hugegraph", "1");
    assert_error(s, "POST", "/graphs/hugegraph/jobs/gremlin", "{\"gremlin\":\"1\"}",
                 NULL, 400, EXC_ILLEGAL,
                 "The graph 'hugegraph' already has 3 pending tasks, the limit of "
                 "max-pending; try again later");
    snprintf(path, sizeof(path), "/graphs/hugegraph/tasks/%" PRId64 "?action=cancel", ids[0]);
    req(s, "PUT", path, NULL, NULL, 202, &r);
    th_resp_fini(&r);
    (void) submit(s, "hugegraph", "1");
    th_stack_passed(s);
    assert_int_equal(th_stack_free(s), 0);
}

/* A claim takes exactly the tasks it runs: quick tasks queued behind long
 * ones all run at once on the free workers, none waits for a lease to
 * expire (which would show as a retry). */
static void
test_claims_take_only_what_runs(void **state)
{
    th_stack *s = *state;
    int64_t   slow[2], quick[6];

    for (int i = 0; i < 2; i++)
        slow[i] = submit(s, "hugegraph", "Thread.sleep(1500); 'slow'");
    for (int i = 0; i < 6; i++)
        quick[i] = submit(s, "hugegraph", "'quick'");
    for (int i = 0; i < 6; i++) {
        json_t *t = NULL;
        assert_int_equal(th_wait_task_status(s, "hugegraph", quick[i], "success", 20, 20, &t), 0);
        assert_int_equal(json_integer_value(json_object_get(t, "task_retries")), 0);
        json_decref(t);
    }
    for (int i = 0; i < 2; i++) {
        json_t *t = NULL;
        assert_int_equal(th_wait_task_status(s, "hugegraph", slow[i], "success", 20, 20, &t), 0);
        assert_int_equal(json_integer_value(json_object_get(t, "task_retries")), 0);
        json_decref(t);
    }
}

/* The dashboard views (sql/0005) answer and agree with the table. */
static void
test_dashboard_views_agree_with_tasks(void **state)
{
    th_stack   *s = *state;
    int64_t     total, by_status, v;
    const char *views[] = { "ht_throughput_per_minute", "ht_latency_last_hour",
                            "ht_queue", "ht_stuck_tasks", "ht_worker_fleet", NULL };
    int64_t     id = submit(s, "hugegraph", "5");

    wait_status(s, "hugegraph", id, "success");
    assert_int_equal(th_sql_i64(s, "SELECT count(*) FROM tasks", &total), 0);
    assert_int_equal(th_sql_i64(s, "SELECT sum(tasks) FROM ht_tasks_by_status", &by_status), 0);
    assert_int_equal(total, by_status);
    for (int i = 0; views[i] != NULL; i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", views[i]);
        assert_int_equal(th_sql_i64(s, sql, &v), 0);
    }
    /* "other" is never served by a worker: its queue is what it holds. */
    assert_int_equal(th_sql_i64(s, "SELECT queued FROM ht_queue WHERE graph = 'other'", &v), 0);
    assert_int_equal(th_sql_i64(s, "SELECT count(*) FROM tasks WHERE graph = 'other'"
                                   " AND status = 'queued'", &total), 0);
    assert_int_equal(v, total);
    assert_int_equal(th_sql_i64(s, "SELECT count(*) FROM ht_latency_last_hour"
                                   " WHERE graph = 'hugegraph' AND wait_p50_ms >= 0"
                                   " AND run_p99_ms >= run_p50_ms", &v), 0);
    assert_int_equal(v, 1);
}

/* ---- 6. errors ------------------------------------------------------------- */

static void
test_unknown_paths_and_methods(void **state)
{
    th_stack *s = *state;

    assert_error(s, "GET", "/nothing/here", NULL, NULL, 404, EXC_NOROUTE, NULL);
    assert_error(s, "GET", "/graphs/hugegraph/tasks/1/extra", NULL, NULL, 404,
                 EXC_NOROUTE, NULL);
    assert_error(s, "GET", "/graphs/hugegraph/jobs/gremlin", NULL, NULL, 405,
                 EXC_NOTALLOW, NULL);
    assert_error(s, "POST", "/graphs/hugegraph/tasks", "{}", NULL, 405, EXC_NOTALLOW,
                 NULL);
    assert_error(s, "DELETE", "/versions", NULL, NULL, 405, EXC_NOTALLOW, NULL);

    assert_error(s, "PATCH", "/graphs/hugegraph/tasks/1", "{}", NULL, 405,
                 EXC_NOTALLOW, NULL);
    /* Methods the HTTP layer itself does not know answer the same way. */
    assert_error(s, "FOO", "/graphs/hugegraph/tasks", NULL, NULL, 405, EXC_NOTALLOW,
                 "HTTP 405 Method Not Allowed");
    assert_error(s, "TRACE", "/graphs/hugegraph/tasks", NULL, NULL, 405, EXC_NOTALLOW,
                 NULL);
}

static void
test_bad_and_overflowing_ids_are_400(void **state)
{
    th_stack *s = *state;

    assert_error(s, "GET", "/graphs/hugegraph/tasks/abc", NULL, NULL, 400, EXC_ILLEGAL,
                 "Invalid task id 'abc'");
    assert_error(s, "GET", "/graphs/hugegraph/tasks/99999999999999999999", NULL, NULL,
                 400, EXC_ILLEGAL, "Invalid task id '99999999999999999999'");
    assert_error(s, "DELETE", "/graphs/hugegraph/tasks/1x", NULL, NULL, 400,
                 EXC_ILLEGAL, "Invalid task id '1x'");
}

/* Runs SQL on the administrative connection. */
static void
admin_sql(th_stack *s, const char *sql)
{
    PGconn   *c = PQconnectdb(s->admin_url);
    PGresult *res;

    assert_int_equal(PQstatus(c), CONNECTION_OK);
    res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(res);
    PQfinish(c);
}

static void
test_database_down_is_503_then_recovers(void **state)
{
    th_stack *s = *state;
    char      sql[256];
    th_resp   r;
    int64_t   id;

    /* Cut the test database off: existing sessions end, new ones are refused. */
    snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS false", s->dbname);
    admin_sql(s, sql);
    snprintf(sql, sizeof(sql),
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             "WHERE datname = '%s'", s->dbname);
    admin_sql(s, sql);
    if (s->db != NULL) {
        PQfinish(s->db);
        s->db = NULL;
    }
    assert_error(s, "GET", "/graphs/hugegraph/tasks/1", NULL, NULL, 503, EXC_BACKEND, NULL);
    assert_error(s, "GET", "/graphs/hugegraph/tasks", NULL, NULL, 503, EXC_BACKEND, NULL);
    assert_error(s, "POST", "/graphs/hugegraph/jobs/gremlin", "{\"gremlin\":\"1\"}", NULL,
                 503, EXC_BACKEND, NULL);
    snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS true", s->dbname);
    admin_sql(s, sql);
    req(s, "GET", "/graphs/hugegraph/tasks?limit=1", NULL, NULL, 200, &r);
    th_resp_fini(&r);
    id = submit(s, "hugegraph", "7");
    wait_status(s, "hugegraph", id, "success");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_exact),
        cmocka_unit_test(test_graphs_listed_in_both_families),
        cmocka_unit_test(test_graphspace_family_uses_same_tasks),
        cmocka_unit_test(test_unknown_graphspace_is_404),
        cmocka_unit_test(test_unknown_graph_is_404_in_both_families),
        cmocka_unit_test(test_status_filter_any_case),
        cmocka_unit_test(test_status_unknown_lists_nothing),
        cmocka_unit_test(test_status_bad_value_is_400),
        cmocka_unit_test(test_limit_default_100_and_minus_one_all),
        cmocka_unit_test(test_limit_bad_values_are_400),
        cmocka_unit_test(test_list_is_ascending_id),
        cmocka_unit_test(test_ids_ignore_limit_and_omit_unknown),
        cmocka_unit_test(test_ids_with_status_or_page_is_400),
        cmocka_unit_test(test_paging_walks_all_without_empty_page),
        cmocka_unit_test(test_paging_exact_multiple_ends_with_null),
        cmocka_unit_test(test_paging_bad_token_is_400),
        cmocka_unit_test(test_cancel_legacy_replies_cancelled_true),
        cmocka_unit_test(test_cancel_graphspace_replies_detail_task),
        cmocka_unit_test(test_cancel_completed_or_cancelling_is_400),
        cmocka_unit_test(test_cancel_unknown_is_404),
        cmocka_unit_test(test_cancel_action_checked_before_id),
        cmocka_unit_test(test_delete_completed_is_204_empty),
        cmocka_unit_test(test_delete_incomplete_is_400_naming_status),
        cmocka_unit_test(test_delete_force_any_status),
        cmocka_unit_test(test_delete_force_stops_running_job),
        cmocka_unit_test(test_gremlin_required),
        cmocka_unit_test(test_language_defaults_and_other_is_400),
        cmocka_unit_test(test_aliases_must_be_empty),
        cmocka_unit_test(test_bindings_must_be_object),
        cmocka_unit_test(test_bad_bodies_are_clear_4xx),
        cmocka_unit_test(test_body_over_limit_is_413),
        cmocka_unit_test(test_deeply_nested_body_is_400),
        cmocka_unit_test(test_task_name_first_line_cut_on_utf8),
        cmocka_unit_test(test_ids_per_graph_from_one_never_reused),
        cmocka_unit_test(test_pending_cap_is_400),
        cmocka_unit_test(test_claims_take_only_what_runs),
        cmocka_unit_test(test_dashboard_views_agree_with_tasks),
        cmocka_unit_test(test_unknown_paths_and_methods),
        cmocka_unit_test(test_bad_and_overflowing_ids_are_400),
        cmocka_unit_test(test_database_down_is_503_then_recovers),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

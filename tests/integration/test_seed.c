/*
 * tests/integration/test_seed.c - the seed's task API, end to end.
 *
 * Each test gets its own database and its own hugetask-api and
 * hugetask-worker (2 worker processes), and speaks only HTTP to them, as a
 * HugeGraph client would: versions, submit, get, list (status, any case,
 * limit), cancel of the seed's 10-iteration loop, delete of finished and of
 * running tasks, and tasks surviving a restart of both daemons.  The
 * expected texts are HugeGraph's (../shared/seed/task-api.md, DESIGN §3).
 *
 * Needs HT_TEST_PGURL (tests/run.sh sets it); without it every test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness/harness.h"

#define GRAPH "hugegraph"
#define TASKS "/graphs/" GRAPH "/tasks"

/* The seed's loop, as its Java string concatenation reads. */
static const char SEED_LOOP[] =
    "for (int i = 0; i < 10; i++) {"
    "hugegraph.addVertex(T.label, 'man');"
    "hugegraph.tx().commit();"
    "try {"
    "sleep(1000);"
    "} catch (InterruptedException e) {"
    "break;"
    "}"
    "}";

static const char *const ALLOWED_KEYS[] = {
    "id", "task_type", "task_name", "task_status", "task_callable",
    "task_create", "task_update", "task_progress", "task_retries",
    "task_input", "task_result", "task_description", "task_dependencies",
    "task_server", "task_priority", NULL,
};

/* ---- fixture ------------------------------------------------------- */

static int
setup_stack(void **state)
{
    th_opts o = {
        .api_bin = HT_API_BIN,
        .worker_bin = HT_WORKER_BIN,
        .workers = 2,
    };
    th_stack *s = th_stack_new((const char *) *state, &o);

    if (s == NULL)
        return -1;
    if (th_stack_start(s) != 0) {
        th_stack_free(s);
        return -1;
    }
    *state = s;
    return 0;
}

/* Fails the test if a daemon crashed or did not stop cleanly. */
static int
teardown_stack(void **state)
{
    return th_stack_free(*state);
}

/* ---- helpers ------------------------------------------------------- */

/*
 * The helpers below report a failure at the caller's line: each is called
 * through a macro that passes __FILE__ and __LINE__ (the AT parameters).
 */
#define AT const char *file, int line
#define FAIL_AT(...)                                                        \
    do {                                                                    \
        print_error(__VA_ARGS__);                                           \
        print_error("\n");                                                  \
        _fail(file, line);                                                  \
    } while (0)

/* Requests and asserts the status; the caller th_resp_fini's *r. */
static void
request_at(AT, th_stack *s, const char *method, const char *path,
           const char *body, int want, th_resp *r)
{
    if (th_http(s, method, path, body, NULL, r) != 0)
        FAIL_AT("%s %s: no HTTP reply", method, path);
    if (r->status != want)
        FAIL_AT("%s %s: want %d, got %d: %s", method, path, want, r->status,
                r->body);
}
#define request(...) request_at(__FILE__, __LINE__, __VA_ARGS__)

static int64_t
submit_at(AT, th_stack *s, const char *script)
{
    int64_t id = 0;

    if (th_submit_gremlin(s, GRAPH, script, &id) != 0 || id <= 0)
        FAIL_AT("could not submit %s", script);
    return id;
}
#define submit(...) submit_at(__FILE__, __LINE__, __VA_ARGS__)

/* Waits for status and returns the task object (caller json_decref's). */
static json_t *
await_at(AT, th_stack *s, int64_t id, const char *status, double seconds,
         int interval_ms)
{
    json_t *t = NULL;

    if (th_wait_task_status(s, GRAPH, id, status, seconds, interval_ms,
                            &t) != 0 || t == NULL)
        FAIL_AT("task %" PRId64 " did not become %s", id, status);
    return t;
}
#define await(...) await_at(__FILE__, __LINE__, __VA_ARGS__)

static void
assert_str_field_at(AT, const json_t *o, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(o, key));

    if (v == NULL)
        FAIL_AT("%s: missing or not a string", key);
    if (strcmp(v, want) != 0)
        FAIL_AT("%s: want \"%s\", got \"%s\"", key, want, v);
}
#define assert_str_field(...) \
    assert_str_field_at(__FILE__, __LINE__, __VA_ARGS__)

static json_int_t
int_field_at(AT, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_integer(v))
        FAIL_AT("%s: missing or not an integer", key);
    return json_integer_value(v);
}
#define int_field(...) int_field_at(__FILE__, __LINE__, __VA_ARGS__)

/* Only DESIGN §3's keys, no nulls; list entries lack the detail fields. */
static void
assert_task_shape_at(AT, const json_t *t, int in_list)
{
    const char *key;
    json_t *v;

    if (!json_is_object(t))
        FAIL_AT("task is not a JSON object");
    json_object_foreach((json_t *) t, key, v) {
        int known = 0;

        for (int i = 0; ALLOWED_KEYS[i] != NULL; i++)
            known |= strcmp(key, ALLOWED_KEYS[i]) == 0;
        if (!known)
            FAIL_AT("task has key \"%s\", which HugeGraph clients reject", key);
        if (json_is_null(v))
            FAIL_AT("task key \"%s\" is null (absent values are omitted)", key);
    }
    if (in_list && (json_object_get(t, "task_result") != NULL ||
                    json_object_get(t, "task_input") != NULL ||
                    json_object_get(t, "task_callable") != NULL))
        FAIL_AT("list entries must not have task_result, task_input or "
                "task_callable");
}
#define assert_task_shape(...) \
    assert_task_shape_at(__FILE__, __LINE__, __VA_ARGS__)

static void
assert_epoch_ms_recent_at(AT, const json_t *t, const char *key)
{
    const json_t *v = json_object_get(t, key);
    int64_t now = th_epoch_ms(), day = 24 * 3600 * 1000LL, ms;

    if (!json_is_integer(v))
        FAIL_AT("%s: missing or not an integer", key);
    ms = (int64_t) json_integer_value(v);
    if (ms < now - day || ms > now + day)
        FAIL_AT("%s = %" PRId64 " is not epoch ms near now (%" PRId64 ")",
                key, ms, now);
}
#define assert_epoch_ms_recent(...) \
    assert_epoch_ms_recent_at(__FILE__, __LINE__, __VA_ARGS__)

/* GET a list and assert its envelope and every entry's shape. */
static json_t *
get_list_at(AT, th_stack *s, const char *path, th_resp *r)
{
    json_t *tasks, *t;
    size_t i;

    request_at(file, line, s, "GET", path, NULL, 200, r);
    tasks = json_object_get(r->json, "tasks");
    if (!json_is_object(r->json) || !json_is_array(tasks))
        FAIL_AT("GET %s: want {\"tasks\": [...]}, got %s", path, r->body);
    json_array_foreach(tasks, i, t)
        assert_task_shape_at(file, line, t, 1);
    return tasks;
}
#define get_list(...) get_list_at(__FILE__, __LINE__, __VA_ARGS__)

static int
list_has(const json_t *tasks, int64_t id)
{
    json_t *t;
    size_t i;

    json_array_foreach(tasks, i, t) {
        if (json_integer_value(json_object_get(t, "id")) == id)
            return 1;
    }
    return 0;
}

static void
assert_json_text_equals_at(AT, const char *text, const char *want_json)
{
    json_error_t e1, e2;
    json_t *got = json_loads(text, JSON_DECODE_ANY, &e1);
    json_t *want = json_loads(want_json, JSON_DECODE_ANY, &e2);

    if (want == NULL)
        FAIL_AT("bad expected JSON (%s): %s", e2.text, want_json);
    if (got == NULL)
        FAIL_AT("not JSON (%s): %s", e1.text, text);
    if (!json_equal(got, want))
        FAIL_AT("want %s, got %s", want_json, text);
    json_decref(got);
    json_decref(want);
}
#define assert_json_text_equals(...) \
    assert_json_text_equals_at(__FILE__, __LINE__, __VA_ARGS__)

static void
assert_error_at(AT, const th_resp *r, const char *exception,
                const char *message)
{
    if (!json_is_object(r->json))
        FAIL_AT("error body is not a JSON object: %s", r->body);
    assert_str_field_at(file, line, r->json, "exception", exception);
    assert_str_field_at(file, line, r->json, "message", message);
    if (!json_is_string(json_object_get(r->json, "cause")))
        FAIL_AT("error body has no string \"cause\": %s", r->body);
}
#define assert_error(...) assert_error_at(__FILE__, __LINE__, __VA_ARGS__)

/* ---- tests --------------------------------------------------------- */

static void
test_versions_match_hugegraph_1_7(void **state)
{
    th_stack *s = *state;
    th_resp r;

    request(s, "GET", "/versions", NULL, 200, &r);
    assert_non_null(r.json);
    assert_json_text_equals(r.body, "{\"versions\":{\"version\":\"v1\","
                            "\"core\":\"1.7.0\",\"gremlin\":\"3.5.1\","
                            "\"api\":\"0.71\"}}");
    th_resp_fini(&r);
    th_stack_passed(s);
}

static void
test_traversal_succeeds_with_every_seed_field(void **state)
{
    th_stack *s = *state;
    const char *body = "{\"gremlin\":\"hugegraph.traversal().V()\","
                       "\"bindings\":{},\"language\":\"gremlin-groovy\","
                       "\"aliases\":{}}";
    th_resp r;
    json_t *t, *tasks;
    int64_t id, id2;
    char path[128];

    request(s, "POST", "/graphs/" GRAPH "/jobs/gremlin", body, 201, &r);
    assert_true(json_is_object(r.json));
    assert_int_equal(json_object_size(r.json), 1);
    id = (int64_t) int_field(r.json, "task_id");
    assert_true(id > 0);
    th_resp_fini(&r);

    t = await(s, id, "success", 30, 20);
    assert_task_shape(t, 0);
    assert_str_field(t, "task_name", "hugegraph.traversal().V()");
    assert_true(json_is_number(json_object_get(t, "task_progress")));
    assert_epoch_ms_recent(t, "task_create");
    assert_epoch_ms_recent(t, "task_update");
    assert_true(int_field(t, "task_update") >= int_field(t, "task_create"));
    assert_str_field(t, "task_status", "success");
    assert_str_field(t, "task_result", "[]");
    assert_int_equal(int_field(t, "task_retries"), 0);
    assert_int_equal(int_field(t, "id"), id);
    assert_str_field(t, "task_type", "gremlin");
    assert_str_field(t, "task_callable", "org.apache.hugegraph.job.GremlinJob");
    assert_true(json_is_string(json_object_get(t, "task_input")));
    assert_json_text_equals(
        json_string_value(json_object_get(t, "task_input")),
        "{\"gremlin\":\"hugegraph.traversal().V()\",\"bindings\":{},"
        "\"language\":\"gremlin-groovy\","
        "\"aliases\":{\"hugegraph\":\"graph\"}}");
    json_decref(t);

    /* A second task, so limit=1 has something to leave out. */
    id2 = submit(s, "g.V().count()");
    json_decref(await(s, id2, "success", 30, 20));

    tasks = get_list(s, TASKS "?status=success", &r);
    assert_true(list_has(tasks, id));
    assert_true(list_has(tasks, id2));
    th_resp_fini(&r);

    tasks = get_list(s, TASKS "?status=SUCCESS", &r);
    assert_true(list_has(tasks, id));
    th_resp_fini(&r);

    tasks = get_list(s, TASKS "?limit=1", &r);
    assert_int_equal(json_array_size(tasks), 1);
    assert_true(list_has(tasks, id)); /* ascending id */
    th_resp_fini(&r);

    tasks = get_list(s, TASKS "?status=running", &r);
    assert_false(list_has(tasks, id));
    th_resp_fini(&r);

    snprintf(path, sizeof path, TASKS "/%" PRId64, id);
    request(s, "GET", path, NULL, 200, &r);
    assert_task_shape(r.json, 0);
    th_resp_fini(&r);
    th_stack_passed(s);
}

static void
test_cancel_stops_the_seed_loop(void **state)
{
    th_stack *s = *state;
    char path[128];
    json_t *t;
    th_resp r;
    int64_t id, count_id;
    json_t *res;
    json_int_t men;

    id = submit(s, SEED_LOOP);
    json_decref(await(s, id, "running", 30, 10));
    th_sleep_ms(2000);

    snprintf(path, sizeof path, TASKS "/%" PRId64 "?action=cancel", id);
    request(s, "PUT", path, NULL, 202, &r);
    assert_json_text_equals(r.body, "{\"cancelled\": true}");
    th_resp_fini(&r);

    t = await(s, id, "cancelled", 1.0, 10);
    assert_task_shape(t, 0);
    assert_null(json_object_get(t, "task_result"));
    json_decref(t);

    count_id = submit(s, "g.V().hasLabel('man').count()");
    t = await(s, count_id, "success", 30, 20);
    assert_true(json_is_string(json_object_get(t, "task_result")));
    res = json_loads(json_string_value(json_object_get(t, "task_result")),
                     JSON_DECODE_ANY, NULL);
    if (!json_is_array(res) || json_array_size(res) != 1 ||
        !json_is_integer(json_array_get(res, 0)))
        fail_msg("count result is not [k]: %s",
                 json_string_value(json_object_get(t, "task_result")));
    men = json_integer_value(json_array_get(res, 0));
    if (men < 1 || men >= 10)
        fail_msg("want 1 <= men < 10 after the cancel, got %lld",
                 (long long) men);
    json_decref(res);
    json_decref(t);
    th_stack_passed(s);
}

static void
test_delete_finished_task_then_404(void **state)
{
    th_stack *s = *state;
    char path[128], msg[128];
    th_resp r;
    int64_t id;

    id = submit(s, "hugegraph.traversal().V()");
    json_decref(await(s, id, "success", 30, 20));

    snprintf(path, sizeof path, TASKS "/%" PRId64, id);
    request(s, "DELETE", path, NULL, 204, &r);
    assert_int_equal(r.body_len, 0);
    th_resp_fini(&r);

    snprintf(msg, sizeof msg, "Can't find task with id '%" PRId64 "'", id);
    request(s, "GET", path, NULL, 404, &r);
    assert_error(&r, "class org.apache.hugegraph.exception.NotFoundException",
                 msg);
    th_resp_fini(&r);

    request(s, "DELETE", path, NULL, 404, &r);
    assert_error(&r, "class org.apache.hugegraph.exception.NotFoundException",
                 msg);
    th_resp_fini(&r);
    th_stack_passed(s);
}

static void
test_delete_running_task_is_refused(void **state)
{
    th_stack *s = *state;
    char path[128], cancel[160], msg[256];
    th_resp r;
    int64_t id;

    id = submit(s, "Thread.sleep(5000); 1");
    json_decref(await(s, id, "running", 30, 10));

    snprintf(path, sizeof path, TASKS "/%" PRId64, id);
    snprintf(msg, sizeof msg, "Can't delete incomplete task '%" PRId64
             "' in status running, Please try to cancel the task first", id);
    request(s, "DELETE", path, NULL, 400, &r);
    assert_error(&r, "class jakarta.ws.rs.BadRequestException", msg);
    th_resp_fini(&r);

    snprintf(cancel, sizeof cancel, "%s?action=cancel", path);
    request(s, "PUT", cancel, NULL, 202, &r);
    th_resp_fini(&r);
    json_decref(await(s, id, "cancelled", 5.0, 10));

    request(s, "DELETE", path, NULL, 204, &r);
    th_resp_fini(&r);
    th_stack_passed(s);
}

static void
test_tasks_survive_restart(void **state)
{
    th_stack *s = *state;
    int64_t a, b, c;
    json_t *tasks;
    th_resp r;

    a = submit(s, "hugegraph.traversal().V()");
    b = submit(s, "g.V().count()");
    json_decref(await(s, a, "success", 30, 20));
    json_decref(await(s, b, "success", 30, 20));

    assert_int_equal(th_stack_stop(s), 0);
    assert_int_equal(th_stack_start(s), 0);

    tasks = get_list(s, TASKS, &r);
    assert_true(list_has(tasks, a));
    assert_true(list_has(tasks, b));
    th_resp_fini(&r);

    c = submit(s, "hugegraph.traversal().V()");
    assert_true(c > a && c > b);
    json_decref(await(s, c, "success", 30, 20));
    th_stack_passed(s);
}

int
main(void)
{
    const char *url = getenv("HT_TEST_PGURL");
    const struct CMUnitTest tests[] = {
#define T(fn, name) \
    cmocka_unit_test_prestate_setup_teardown(fn, setup_stack, teardown_stack, \
                                             (void *) (name))
        T(test_versions_match_hugegraph_1_7, "versions"),
        T(test_traversal_succeeds_with_every_seed_field, "seed_fields"),
        T(test_cancel_stops_the_seed_loop, "cancel"),
        T(test_delete_finished_task_then_404, "delete"),
        T(test_delete_running_task_is_refused, "delete_running"),
        T(test_tasks_survive_restart, "restart"),
#undef T
    };

    if (url == NULL || *url == '\0') {
        fprintf(stderr, "test_seed: FAIL: HT_TEST_PGURL is not set. The "
                "integration tests need PostgreSQL: run ./tests/run.sh, or "
                "export HT_TEST_PGURL="
                "postgresql://postgres@127.0.0.1:PORT/postgres\n");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}

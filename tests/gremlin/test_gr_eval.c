/*
 * tests/gremlin/test_gr_eval.c - gr_run on the in-memory graph: what reaches
 * the store (pushed-down filters, counts, adjacency batches), how the host
 * is called, transactions, and the result codes.  The corpus (*.test)
 * covers the language itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/gremlin/mem_graph.h"
#include "worker/gremlin/gremlin.h"

typedef struct host_log {
    int     checks, sleeps, cancel_at, fail_code;
    int64_t progress;
} host_log;

static int
check_cb(void *arg, ht_err *err)
{
    host_log *h = arg;

    h->checks++;
    if (h->cancel_at && h->checks >= h->cancel_at)
        return ht_err_set(err, h->fail_code ? h->fail_code : HT_ECANCELED, 0,
                          NULL, "stop");
    return HT_OK;
}

static int
sleep_cb(void *arg, int64_t ms, ht_err *err)
{
    host_log *h = arg;

    h->sleeps++;
    return check_cb(arg, err);
}

static void
progress_cb(void *arg, int64_t v)
{
    ((host_log *) arg)->progress = v;
}

typedef struct fixture {
    mem_graph *g;
    host_log   log;
    gr_host    host;
    ht_arena  *a;
    char      *result;
} fixture;

static int
setup(void **state)
{
    static fixture f;

    memset(&f, 0, sizeof(f));
    f.g = mem_graph_new();
    mem_graph_load_modern(f.g);
    f.host.arg = &f.log;
    f.host.check = check_cb;
    f.host.sleep_ms = sleep_cb;
    f.host.progress = progress_cb;
    f.a = ht_arena_new(0, 0);
    *state = &f;
    return 0;
}

static int
setup_empty(void **state)
{
    int rc = setup(state);
    fixture *f = *state;

    mem_graph_free(f->g);
    f->g = mem_graph_new();
    return rc;
}

static int
teardown(void **state)
{
    fixture *f = *state;

    ht_arena_free(f->a);
    mem_graph_free(f->g);
    return 0;
}

static int
run(fixture *f, const char *script)
{
    gr_job job;

    memset(&job, 0, sizeof(job));
    job.script = script;
    job.graph_name = "hugegraph";
    job.ops = &mem_graph_ops;
    job.graph = f->g;
    job.host = &f->host;
    job.arena = f->a;
    return gr_run(&job, &f->result);
}

static void
test_eval_count_after_head_filters_is_one_count_call(void **state)
{
    fixture         *f = *state;
    mem_graph_stats *s = mem_graph_stats_of(f->g);

    assert_int_equal(run(f, "g.V().hasLabel('person').has('age').count()"),
                     HT_OK);
    assert_string_equal(f->result, "[4]");
    assert_int_equal(s->counts, 1);
    assert_int_equal(s->scans, 0);
    assert_int_equal(s->last_n_labels, 1);
    assert_int_equal(s->last_n_has, 1);
}

static void
test_eval_head_filters_and_limit_are_one_scan(void **state)
{
    fixture         *f = *state;
    mem_graph_stats *s = mem_graph_stats_of(f->g);

    assert_int_equal(run(f, "g.V().hasLabel('person').has('name', 'josh')"
                            ".limit(5).id()"),
                     HT_OK);
    assert_string_equal(f->result, "[4]");
    assert_int_equal(s->scans, 1);
    assert_int_equal(s->last_limit, 5);
    assert_int_equal(s->last_n_has, 1);
}

static void
test_eval_adjacency_is_batched(void **state)
{
    fixture         *f = *state;
    mem_graph_stats *s = mem_graph_stats_of(f->g);
    char             script[256];

    /* 2500 vertices all pointing at vertex 1 */
    (void) snprintf(script, sizeof(script),
                    "def hub = g.V(1).next()\n"
                    "for (i in 1..2500) graph.addVertex('n').addEdge('to', hub)\n"
                    "graph.tx().commit()\n"
                    "g.V().hasLabel('n').out('to').count()");
    assert_int_equal(run(f, script), HT_OK);
    assert_string_equal(f->result, "[2500]");
    /* 2500 ids in batches of at most 1000: three calls, not 2500 */
    assert_int_equal(s->adjacents, 3);
    assert_int_equal(s->max_adjacent_batch, 1000);
}

static void
test_eval_far_vertices_load_in_one_scan(void **state)
{
    fixture         *f = *state;
    mem_graph_stats *s = mem_graph_stats_of(f->g);

    assert_int_equal(run(f, "g.V(1).out().values('name')"), HT_OK);
    assert_string_equal(f->result, "[\"vadas\",\"josh\",\"lop\"]");
    assert_int_equal(s->adjacents, 1);
    assert_int_equal(s->scans, 2); /* V(1), then the three far ends */
}

static void
test_eval_does_not_commit_on_its_own(void **state)
{
    fixture *f = *state;

    assert_int_equal(run(f, "graph.addVertex('x'); 1"), HT_OK);
    assert_int_equal(mem_graph_stats_of(f->g)->commits, 0);
    assert_int_equal(mem_graph_vertices(f->g), 7);
    assert_int_equal(mem_graph_committed_vertices(f->g), 6);
    assert_int_equal(run(f, "graph.tx().commit()"), HT_OK);
    assert_int_equal(mem_graph_committed_vertices(f->g), 7);
}

static void
test_eval_checks_between_statements_and_iterations(void **state)
{
    fixture *f = *state;

    assert_int_equal(run(f, "1; 2; 3"), HT_OK);
    assert_true(f->log.checks >= 3);
    f->log.checks = 0;
    assert_int_equal(run(f, "for (i in 1..100) { }"), HT_OK);
    assert_true(f->log.checks >= 100);
}

static void
test_eval_cancel_is_ecanceled(void **state)
{
    fixture *f = *state;

    f->log.cancel_at = 10;
    assert_int_equal(run(f, "while (true) { }"), HT_ECANCELED);
    assert_string_equal(f->result, "InterruptedException: stop");
}

static void
test_eval_other_host_codes_stop_at_once(void **state)
{
    fixture *f = *state;

    f->log.cancel_at = 10;
    f->log.fail_code = HT_ETIMEDOUT;
    assert_int_equal(run(f, "try { while (true) { } } catch (Exception e) "
                            "{ 'caught' }"),
                     HT_ETIMEDOUT);
    assert_string_equal(f->result, "TimeoutException: stop");
}

static void
test_eval_sleep_uses_the_host(void **state)
{
    fixture *f = *state;

    assert_int_equal(run(f, "sleep(5); Thread.sleep(5); 'ok'"), HT_OK);
    assert_int_equal(f->log.sleeps, 2);
    assert_string_equal(f->result, "\"ok\"");
}

static void
test_eval_progress_reaches_the_host(void **state)
{
    fixture *f = *state;

    assert_int_equal(run(f, "gremlinJob.updateProgress(55)"), HT_OK);
    assert_int_equal(f->log.progress, 55);
}

static void
test_eval_null_host_is_allowed(void **state)
{
    fixture *f = *state;
    gr_job   job;

    memset(&job, 0, sizeof(job));
    job.script = "sleep(1); g.V().count()";
    job.ops = &mem_graph_ops;
    job.graph = f->g;
    job.arena = f->a;
    assert_int_equal(gr_run(&job, &f->result), HT_OK);
    assert_string_equal(f->result, "[6]");
}

static void
test_eval_arena_cap_is_a_limit(void **state)
{
    fixture  *f = *state;
    ht_arena *small = ht_arena_new(4096, 64 * 1024);
    gr_job    job;

    memset(&job, 0, sizeof(job));
    job.script = "def l = []; while (true) { l.add('x' + l.size()) }";
    job.ops = &mem_graph_ops;
    job.graph = f->g;
    job.arena = small;
    assert_int_equal(gr_run(&job, &f->result), HT_ENOMEM);
    assert_non_null(strstr(f->result, "LimitExceedException: job memory "
                                      "limit exceeded"));
    ht_arena_free(small);
}

/* 50 000 vertices and 100 000 edges: far more than BIG_CAP holds, were
 * the traversal's stream kept whole. */
#define BIG_V   50000
#define BIG_CAP (1024 * 1024)

static int
run_capped(fixture *f, ht_arena *a, const char *script)
{
    gr_job job;

    memset(&job, 0, sizeof(job));
    job.script = script;
    job.graph_name = "hugegraph";
    job.ops = &mem_graph_ops;
    job.graph = f->g;
    job.host = &f->host;
    job.arena = a;
    job.scratch_limit = BIG_CAP;
    return gr_run(&job, &f->result);
}

static void
test_eval_streams_through_a_graph_larger_than_the_arena(void **state)
{
    static const struct {
        const char *script, *want;
    } cases[] = {
        {"g.V().out().count()", "[100000]"},
        {"g.V().values('name').count()", "[50000]"},
        {"g.V().out().values('i').sum()", "[2499950000]"},
        {"g.V().out().has('name', 'n7').count()", "[2]"},
        {"g.V().hasLabel('node').out().out().hasLabel('node').count()",
         "[200000]"},
        {"g.V().out().iterate(); 1", "1"},
    };
    fixture *f = *state;

    mem_graph_load_big(f->g, BIG_V, 2);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ht_arena *a = ht_arena_new(4096, BIG_CAP);
        int       rc = run_capped(f, a, cases[i].script);

        if (rc != HT_OK)
            print_error("%s: %s\n", cases[i].script, f->result);
        assert_int_equal(rc, HT_OK);
        assert_string_equal(f->result, cases[i].want);
        /* the job arena held the script, never the stream */
        assert_true(ht_arena_used(a) < BIG_CAP / 4);
        ht_arena_free(a);
    }
}

static void
test_eval_a_barrier_over_the_same_stream_hits_the_limit(void **state)
{
    static const char *const scripts[] = {
        "g.V().out().fold().unfold().count()",
        "g.V().out().order().by('name').limit(1)",
        "g.V().out().id()", /* the results themselves are a barrier */
    };
    fixture *f = *state;

    mem_graph_load_big(f->g, BIG_V, 2);
    for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
        ht_arena *a = ht_arena_new(4096, BIG_CAP);

        assert_int_equal(run_capped(f, a, scripts[i]), HT_ENOMEM);
        assert_non_null(strstr(f->result, "LimitExceedException: job memory "
                                          "limit exceeded"));
        ht_arena_free(a);
    }
}

static void
test_eval_limit_after_streamed_steps_stops_the_scan(void **state)
{
    fixture         *f = *state;
    mem_graph_stats *s = mem_graph_stats_of(f->g);
    ht_arena        *a = ht_arena_new(4096, BIG_CAP);

    mem_graph_load_big(f->g, BIG_V, 2);
    assert_int_equal(run_capped(f, a, "g.V().out().limit(3).id()"), HT_OK);
    assert_string_equal(f->result, "[2,3,9]"); /* n0 -> n1, n2 */
    assert_int_equal(s->scans, 1);
    assert_int_equal(s->adjacents, 1); /* the first batch was enough */
    ht_arena_free(a);
}

static void
test_eval_bindings_shadow_builtins(void **state)
{
    fixture *f = *state;
    gr_job   job;
    json_t  *b = json_pack("{s:i}", "g", 5);

    assert_non_null(b);
    memset(&job, 0, sizeof(job));
    job.script = "g + 1";
    job.bindings = b;
    job.ops = &mem_graph_ops;
    job.graph = f->g;
    job.arena = f->a;
    assert_int_equal(gr_run(&job, &f->result), HT_OK);
    assert_string_equal(f->result, "6");
    json_decref(b);
}


static void
test_eval_predicates_and_count_are_pushed_down(void **state)
{
    fixture         *f = *state;
    mem_graph_stats *s = mem_graph_stats_of(f->g);

    assert_int_equal(run(f, "g.V().hasLabel('person').has('age', gt(28))"
                            ".has('name', within('marko', 'josh')).count()"),
                     HT_OK);
    assert_string_equal(f->result, "[2]");
    assert_int_equal(s->counts, 1);
    assert_int_equal(s->scans, 0);
    assert_int_equal(s->last_n_preds, 2);
    assert_int_equal(s->last_n_labels, 1);
}

static void
test_eval_order_and_range_are_pushed_down(void **state)
{
    fixture         *f = *state;
    mem_graph_stats *s = mem_graph_stats_of(f->g);

    assert_int_equal(run(f, "g.V().has('age').order().by('age', desc)"
                            ".range(1, 3).values('name')"),
                     HT_OK);
    assert_string_equal(f->result, "[\"josh\",\"marko\"]");
    assert_int_equal(s->scans, 1);
    assert_int_equal(s->last_ordered, 1);
    assert_int_equal(s->last_offset, 1);
    assert_int_equal(s->last_limit, 2);
}

static void
test_eval_skip_then_limit_compose(void **state)
{
    fixture         *f = *state;
    mem_graph_stats *s = mem_graph_stats_of(f->g);

    assert_int_equal(run(f, "g.V().skip(1).limit(3).skip(1).id()"), HT_OK);
    assert_string_equal(f->result, "[3,4]");
    assert_int_equal(s->scans, 1);
    assert_int_equal(s->last_offset, 2);
    assert_int_equal(s->last_limit, 2);
}

static void
test_eval_child_traversals_are_batched(void **state)
{
    fixture         *f = *state;
    mem_graph_stats *s = mem_graph_stats_of(f->g);

    assert_int_equal(run(f, "g.V().where(out('created')).order()"
                            ".by(out().count(), desc).id()"),
                     HT_OK);
    assert_string_equal(f->result, "[1,4,6]");
    /* one adjacency call for where(), one for by(): not one per vertex */
    assert_int_equal(s->adjacents, 2);
}

static void
test_eval_repeat_is_bounded_by_the_step_budget(void **state)
{
    fixture *f = *state;
    gr_job   job;

    memset(&job, 0, sizeof(job));
    job.script = "g.V().repeat(both()).until(has('name', 'nobody'))";
    job.graph_name = "hugegraph";
    job.ops = &mem_graph_ops;
    job.graph = f->g;
    job.host = &f->host;
    job.arena = f->a;
    job.max_steps = 100000;
    assert_int_equal(gr_run(&job, &f->result), HT_ELIMIT);
    assert_non_null(strstr(f->result, "step budget"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_eval_count_after_head_filters_is_one_count_call, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_eval_head_filters_and_limit_are_one_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eval_adjacency_is_batched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_eval_far_vertices_load_in_one_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eval_does_not_commit_on_its_own,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_eval_checks_between_statements_and_iterations, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_eval_cancel_is_ecanceled, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_eval_other_host_codes_stop_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eval_sleep_uses_the_host, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_eval_progress_reaches_the_host,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_eval_null_host_is_allowed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_eval_arena_cap_is_a_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_eval_streams_through_a_graph_larger_than_the_arena, setup_empty,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_eval_a_barrier_over_the_same_stream_hits_the_limit, setup_empty,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_eval_limit_after_streamed_steps_stops_the_scan, setup_empty,
            teardown),
        cmocka_unit_test_setup_teardown(test_eval_bindings_shadow_builtins,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_eval_predicates_and_count_are_pushed_down, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_eval_order_and_range_are_pushed_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eval_skip_then_limit_compose,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_eval_child_traversals_are_batched, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_eval_repeat_is_bounded_by_the_step_budget, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

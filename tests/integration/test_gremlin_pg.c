/*
 * tests/integration/test_gremlin_pg.c - level-2 traversals through the
 * real stack: HTTP, the worker and PostgreSQL (store_graph.c's SQL).
 *
 * One stack for the whole file: the first test loads TinkerPop's modern
 * graph through a job (vertex ids 1..6, edge ids 7..12 from the fresh
 * database's sequence), the others run scripts of the tests/gremlin corpus and
 * compare task_result with what the in-memory corpus expects, so the
 * push-down SQL and the in-memory graph are held to one answer.
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

static const char LOAD_MODERN[] =
    "def marko = graph.addVertex(T.label, 'person', 'name', 'marko', 'age', 29)\n"
    "def vadas = graph.addVertex(T.label, 'person', 'name', 'vadas', 'age', 27)\n"
    "def lop = graph.addVertex(T.label, 'software', 'name', 'lop', 'lang', 'java')\n"
    "def josh = graph.addVertex(T.label, 'person', 'name', 'josh', 'age', 32)\n"
    "def ripple = graph.addVertex(T.label, 'software', 'name', 'ripple', 'lang', 'java')\n"
    "def peter = graph.addVertex(T.label, 'person', 'name', 'peter', 'age', 35)\n"
    "marko.addEdge('knows', vadas, 'weight', 0.5)\n"
    "marko.addEdge('knows', josh, 'weight', 1.0)\n"
    "marko.addEdge('created', lop, 'weight', 0.4)\n"
    "josh.addEdge('created', ripple, 'weight', 1.0)\n"
    "josh.addEdge('created', lop, 'weight', 0.4)\n"
    "peter.addEdge('created', lop, 'weight', 0.2)\n"
    "graph.tx().commit()\n"
    "[g.V().count().next(), g.E().id().toList()]";

static const struct {
    const char *script, *result;
} cases[] = {
    {"g.V().hasLabel('person').count()", "[4]"},
    {"g.V().has('age', gt(30)).values('name')", "[\"josh\",\"peter\"]"},
    {"g.V().has('age', inside(27, 32)).values('name')", "[\"marko\"]"},
    {"g.V().has('age', outside(28, 33)).values('name')",
     "[\"vadas\",\"peter\"]"},
    {"g.V().has('name', within('josh', 'lop', 'nobody')).id()", "[3,4]"},
    {"g.V().has('name', without(['josh', 'lop'])).id()", "[1,2,5,6]"},
    {"g.V().has('age', neq(29)).id()", "[2,4,6]"},
    {"g.V().has('name', gte('p')).values('name')",
     "[\"vadas\",\"ripple\",\"peter\"]"},
    {"g.V().has('age', between(27, 32)).count()", "[2]"},
    {"g.V().order().by('name').values('name')",
     "[\"josh\",\"lop\",\"marko\",\"peter\",\"ripple\",\"vadas\"]"},
    {"g.V().order().by('age', desc).values('name')",
     "[\"peter\",\"josh\",\"marko\",\"vadas\"]"},
    {"g.V().order().by('lang', desc).id()", "[3,5]"},
    {"g.V().has('age').order().by('age', desc).range(1, 3).values('name')",
     "[\"josh\",\"marko\"]"},
    {"g.V().skip(1).limit(3).skip(1).id()", "[3,4]"},
    {"g.V().range(2, 4).count()", "[2]"},
    {"g.E().has('weight', lt(0.45)).id()", "[9,11,12]"},
    {"g.E().order().by('weight').id()", "[12,9,11,7,8,10]"},
    {"g.V(1).out().values('name')", "[\"vadas\",\"josh\",\"lop\"]"},
    {"g.V(1, 4).out().out().values('name')", "[\"ripple\",\"lop\"]"},
    {"g.V().has('name', 'marko').out('knows').out('created').values('name')",
     "[\"ripple\",\"lop\"]"},
    {"g.V(1).repeat(out()).times(2).path().by('name')",
     "[{\"labels\":[[],[],[]],\"objects\":[\"marko\",\"josh\",\"ripple\"]},"
     "{\"labels\":[[],[],[]],\"objects\":[\"marko\",\"josh\",\"lop\"]}]"},
    {"g.V().groupCount().by(T.label)", "[{\"person\":4,\"software\":2}]"},
    {"g.V().group().by('lang').by(count())", "[{\"java\":2}]"},
    {"g.V().where(out().count().is(gt(1))).values('name')",
     "[\"marko\",\"josh\"]"},
    {"g.V(1).as('a').out('created').in('created').where(neq('a'))"
     ".values('name')",
     "[\"josh\",\"peter\"]"},
    /* jsonb keeps keys shortest first: "age" before "name" */
    {"g.V(1).valueMap()", "[{\"age\":[29],\"name\":[\"marko\"]}]"},
    {"g.E(7).elementMap()",
     "[{\"id\":7,\"label\":\"knows\",\"IN\":{\"id\":2,\"label\":\"person\"},"
     "\"OUT\":{\"id\":1,\"label\":\"person\"},\"weight\":0.5}]"},
    {"g.V().values('age').sum()", "[123]"},
    {"g.V().values('age').mean()", "[30.75]"},
    {"g.V().coalesce(values('lang'), values('name'))",
     "[\"marko\",\"vadas\",\"java\",\"josh\",\"java\",\"peter\"]"},
    {"g.V(1).out().dedup().fold()",
     "[[{\"id\":2,\"label\":\"person\",\"type\":\"vertex\",\"properties\":"
     "{\"age\":27,\"name\":\"vadas\"}},{\"id\":4,\"label\":\"person\",\"type\":"
     "\"vertex\",\"properties\":{\"age\":32,\"name\":\"josh\"}},{\"id\":3,"
     "\"label\":\"software\",\"type\":\"vertex\",\"properties\":{\"lang\":"
     "\"java\",\"name\":\"lop\"}}]]"},
};

static th_stack *stack;

static int
setup_stack(void **state)
{
    th_opts o = {
        .api_bin = HT_API_BIN,
        .worker_bin = HT_WORKER_BIN,
        .workers = 2,
    };

    (void) state;
    stack = th_stack_new("gremlin_pg", &o);
    if (stack == NULL)
        return -1;
    if (th_stack_start(stack) != 0) {
        th_stack_free(stack);
        stack = NULL;
        return -1;
    }
    return 0;
}

static int
teardown_stack(void **state)
{
    (void) state;
    return th_stack_free(stack);
}

/* Runs script as a job; its final status and task_result (malloc'd). */
static char *
run_job(const char *script, const char *status)
{
    json_t     *t = NULL;
    int64_t     id = 0;
    const char *r;
    char       *copy;

    assert_int_equal(th_submit_gremlin(stack, GRAPH, script, &id), 0);
    if (th_wait_task_status(stack, GRAPH, id, status, 60, 20, &t) != 0)
        fail_msg("script did not end %s: %s", status, script);
    r = json_string_value(json_object_get(t, "task_result"));
    if (r == NULL)
        fail_msg("task_result is not a string for: %s", script);
    copy = strdup(r);
    json_decref(t);
    assert_non_null(copy);
    return copy;
}

static void
test_loads_the_modern_graph(void **state)
{
    char *r;

    (void) state;
    r = run_job(LOAD_MODERN, "success");
    assert_string_equal(r, "[6,[7,8,9,10,11,12]]");
    free(r);
}

static void
test_corpus_scripts_match_the_in_memory_results(void **state)
{
    int bad = 0;

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *r = run_job(cases[i].script, "success");

        if (strcmp(r, cases[i].result) != 0) {
            fprintf(stderr, "script:   %s\nexpected: %s\ngot:      %s\n",
                    cases[i].script, cases[i].result, r);
            bad++;
        }
        free(r);
    }
    assert_int_equal(bad, 0);
}

static void
test_mutations_run_in_the_job_transaction(void **state)
{
    char *r;

    (void) state;
    r = run_job("g.addV('person').property('name', 'stephen').as('s')"
                ".V(1).addE('knows').to('s').iterate()\n"
                "g.V().has('name', 'stephen').in('knows').values('name')",
                "success");
    assert_string_equal(r, "[\"marko\"]");
    free(r);
    /* a failing job rolls back its writes */
    r = run_job("g.addV('ghost').iterate(); 1 / 0", "failed");
    assert_non_null(strstr(r, "ArithmeticException"));
    free(r);
    r = run_job("[g.V().hasLabel('ghost').count().next(), "
                "g.V().has('name', 'stephen').drop().iterate(), "
                "g.V().count().next()]",
                "success");
    assert_string_equal(r, "[0,[],6]");
    free(r);
}

static void
test_errors_name_line_and_column(void **state)
{
    char *r;

    (void) state;
    r = run_job("g.V()\n  .union(out())", "failed");
    assert_string_equal(r, "UnsupportedSyntax: line 2, column 4: step "
                           "'union' is not supported");
    free(r);
    r = run_job("g.V().has('age', gt(1)).range(3, 1)", "failed");
    assert_non_null(strstr(r, "IllegalArgumentException: line 1, column 25:"));
    free(r);
    th_stack_passed(stack);
}

int
main(void)
{
    const char *url = getenv("HT_TEST_PGURL");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_the_modern_graph),
        cmocka_unit_test(test_corpus_scripts_match_the_in_memory_results),
        cmocka_unit_test(test_mutations_run_in_the_job_transaction),
        cmocka_unit_test(test_errors_name_line_and_column),
    };

    if (url == NULL || *url == '\0') {
        fprintf(stderr, "test_gremlin_pg: FAIL: HT_TEST_PGURL is not set; "
                "run ./tests/run.sh\n");
        return 1;
    }
    return cmocka_run_group_tests(tests, setup_stack, teardown_stack);
}

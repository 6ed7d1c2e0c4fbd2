/*
 * tests/gremlin/test_gr_parse.c - the parser: tree shapes, precedence,
 * positions, and the errors it and the checker give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "worker/gremlin/ast.h"
#include "worker/gremlin/lex.h"

static gr_node *
parse_ok(ht_arena *a, const char *src)
{
    gr_node *root = NULL;
    ht_err   err;

    ht_err_clear(&err);
    if (gr_parse_script(a, src, &root, &err) != HT_OK)
        fail_msg("%s: %s", err.exception, err.msg);
    assert_int_equal(root->kind, GR_N_BLOCK);
    return root;
}

static void
expect_error(const char *src, int code, const char *kind, const char *msg)
{
    ht_arena *a = ht_arena_new(0, 0);
    gr_node  *root;
    ht_err    err;

    ht_err_clear(&err);
    assert_int_equal(gr_parse_script(a, src, &root, &err), code);
    assert_string_equal(err.exception, kind);
    assert_string_equal(err.msg, msg);
    ht_arena_free(a);
}

static void
test_parse_precedence(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);
    gr_node  *r = parse_ok(a, "1 + 2 * 3 == 7 && !x");
    gr_node  *and = r->kids[0], *eq, *plus;

    (void) state;
    assert_int_equal(r->n_kids, 1);
    assert_int_equal(and->kind, GR_N_BINARY);
    assert_int_equal(and->op, GR_TK_AND);
    eq = and->a;
    assert_int_equal(eq->op, GR_TK_EQ);
    plus = eq->a;
    assert_int_equal(plus->op, GR_TK_PLUS);
    assert_int_equal(plus->b->op, GR_TK_STAR);
    assert_int_equal(and->b->kind, GR_N_UNARY);
    ht_arena_free(a);
}

static void
test_parse_method_chain_positions(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);
    gr_node  *r = parse_ok(a, "g.V(1)\n .out('knows')");
    gr_node  *out = r->kids[0];

    (void) state;
    assert_int_equal(out->kind, GR_N_CALL);
    assert_string_equal(out->str, "out");
    assert_int_equal(out->line, 2);
    assert_int_equal(out->col, 3);
    assert_int_equal(out->n_kids, 1);
    assert_int_equal(out->a->kind, GR_N_CALL);
    assert_string_equal(out->a->str, "V");
    assert_int_equal(out->a->a->kind, GR_N_IDENT);
    ht_arena_free(a);
}

static void
test_parse_statements(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);
    gr_node  *r = parse_ok(a,
                          "int i = 0, j\n"
                          "for (int k = 0; k < 3; k++) { i += k }\n"
                          "for (x in 1..3) i++\n"
                          "while (i > 0) i--\n"
                          "if (i) { 1 } else if (j) 2 else { 3 }\n"
                          "try { 1 } catch (InterruptedException | "
                          "IllegalArgumentException e) { 2 } finally { 3 }\n"
                          "return i");

    (void) state;
    assert_int_equal(r->n_kids, 7);
    assert_int_equal(r->kids[0]->kind, GR_N_DECL);
    assert_int_equal(r->kids[0]->n_kids, 2);
    assert_int_equal(r->kids[1]->kind, GR_N_FOR);
    assert_int_equal(r->kids[2]->kind, GR_N_FOREACH);
    assert_string_equal(r->kids[2]->str, "x");
    assert_int_equal(r->kids[2]->a->kind, GR_N_RANGE);
    assert_int_equal(r->kids[3]->kind, GR_N_WHILE);
    assert_int_equal(r->kids[4]->kind, GR_N_IF);
    assert_int_equal(r->kids[4]->c->kind, GR_N_IF);
    assert_int_equal(r->kids[5]->kind, GR_N_TRY);
    assert_int_equal(r->kids[5]->n_kids, 1);
    assert_int_equal(r->kids[5]->kids[0]->n_kids, 2);
    assert_non_null(r->kids[5]->b);
    assert_int_equal(r->kids[6]->kind, GR_N_RETURN);
    ht_arena_free(a);
}

static void
test_parse_list_and_map_literals(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);
    gr_node  *r = parse_ok(a, "[1, 2]; [a: 1, 'b': 2]; [:]; []");

    (void) state;
    assert_int_equal(r->kids[0]->kind, GR_N_LIST);
    assert_int_equal(r->kids[0]->n_kids, 2);
    assert_int_equal(r->kids[1]->kind, GR_N_MAP);
    assert_int_equal(r->kids[1]->n_kids, 4);
    assert_int_equal(r->kids[1]->kids[0]->kind, GR_N_STRING);
    assert_string_equal(r->kids[1]->kids[0]->str, "a");
    assert_int_equal(r->kids[2]->kind, GR_N_MAP);
    assert_int_equal(r->kids[3]->kind, GR_N_LIST);
    ht_arena_free(a);
}

static void
test_parse_keywords_as_step_names(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);
    gr_node  *r = parse_ok(a, "g.V().in('x').as_is()");

    (void) state;
    assert_string_equal(r->kids[0]->a->str, "in");
    ht_arena_free(a);
}

static void
test_parse_syntax_errors(void **state)
{
    (void) state;
    expect_error("g.V(1 out()", HT_EINVAL, "SyntaxError",
                 "line 1, column 7: expected ')' near 'out'");
    expect_error("if (x { }", HT_EINVAL, "UnsupportedSyntax",
                 "line 1, column 7: closures are not supported");
    expect_error("for (i = 0; i < 3) { }", HT_EINVAL, "SyntaxError",
                 "line 1, column 18: expected ';' near ')'");
    expect_error("try { }", HT_EINVAL, "SyntaxError",
                 "line 1, column 8: expected 'catch' or 'finally' at end of "
                 "script");
    expect_error("1 = 2", HT_EINVAL, "SyntaxError",
                 "line 1, column 3: cannot assign to this expression near '='");
    expect_error("continue", HT_EINVAL, "SyntaxError",
                 "line 1, column 1: 'continue' outside a loop");
}

static void
test_parse_unsupported_constructs(void **state)
{
    (void) state;
    expect_error("g.V().each { it }", HT_EINVAL, "UnsupportedSyntax",
                 "line 1, column 12: closures are not supported");
    expect_error("x = { a -> a }", HT_EINVAL, "UnsupportedSyntax",
                 "line 1, column 5: closures are not supported");
    expect_error("g.V()\n    .union(out()).times(2)", HT_EINVAL,
                 "UnsupportedSyntax",
                 "line 2, column 6: step 'union' is not supported");
    expect_error("import foo", HT_EINVAL, "UnsupportedSyntax",
                 "line 1, column 1: 'import' is not supported");
    expect_error("2 ** 3", HT_EINVAL, "UnsupportedSyntax",
                 "line 1, column 3: operator '**' is not supported");
}

static void
test_parse_depth_is_limited(void **state)
{
    char      src[4000];
    ht_arena *a = ht_arena_new(0, 0);
    gr_node  *root;
    ht_err    err;
    size_t    k = 0;

    (void) state;
    for (int i = 0; i < 1000; i++)
        src[k++] = '(';
    src[k] = '\0';
    ht_err_clear(&err);
    assert_int_equal(gr_parse_script(a, src, &root, &err), HT_ELIMIT);
    assert_string_equal(err.exception, "LimitExceedException");
    /* a long left-deep chain is limited too, without deep recursion */
    k = 0;
    for (int i = 0; i < 1500; i++) {
        src[k++] = '1';
        src[k++] = '+';
    }
    src[k++] = '1';
    src[k] = '\0';
    assert_int_equal(gr_parse_script(a, src, &root, &err), HT_ELIMIT);
    assert_non_null(strstr(err.msg, "nested deeper than 1000 levels"));
    ht_arena_free(a);
}

static void
test_check_lists_unsupported_steps(void **state)
{
    (void) state;
    assert_true(gr_step_is_unsupported("union"));
    assert_true(gr_step_is_unsupported("match"));
    assert_false(gr_step_is_unsupported("repeat"));
    assert_false(gr_step_is_unsupported("order"));
    assert_false(gr_step_is_unsupported("out"));
    assert_false(gr_step_is_unsupported("count"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_precedence),
        cmocka_unit_test(test_parse_method_chain_positions),
        cmocka_unit_test(test_parse_statements),
        cmocka_unit_test(test_parse_list_and_map_literals),
        cmocka_unit_test(test_parse_keywords_as_step_names),
        cmocka_unit_test(test_parse_syntax_errors),
        cmocka_unit_test(test_parse_unsupported_constructs),
        cmocka_unit_test(test_parse_depth_is_limited),
        cmocka_unit_test(test_check_lists_unsupported_steps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

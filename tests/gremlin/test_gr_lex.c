/*
 * tests/gremlin/test_gr_lex.c - the lexer: token kinds, places, literal
 * values, newline rules and its errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "worker/gremlin/lex.h"

static gr_token *
lex_ok(ht_arena *a, const char *src, size_t *n)
{
    gr_token *t = NULL;
    ht_err    err;

    ht_err_clear(&err);
    assert_int_equal(gr_lex(a, src, &t, n, &err), HT_OK);
    return t;
}

static void
test_lex_kinds_and_places(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);
    size_t    n;
    gr_token *t = lex_ok(a, "g.V(1)\n  .out('x')", &n);

    (void) state;
    assert_int_equal(n, 13);
    assert_int_equal(t[0].kind, GR_TK_IDENT);
    assert_int_equal(t[1].kind, GR_TK_DOT);
    assert_int_equal(t[3].kind, GR_TK_LPAREN);
    assert_int_equal(t[4].kind, GR_TK_INT);
    assert_int_equal(t[6].kind, GR_TK_NL);
    assert_int_equal(t[7].kind, GR_TK_DOT);
    assert_int_equal(t[7].line, 2);
    assert_int_equal(t[7].col, 3);
    assert_int_equal(t[10].kind, GR_TK_STRING);
    assert_string_equal(t[10].sval, "x");
    assert_int_equal(t[n - 1].kind, GR_TK_EOF);
    ht_arena_free(a);
}

static void
test_lex_numbers(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);
    size_t    n;
    gr_token *t = lex_ok(a, "1000L 1.5 2e3 1..5 7d", &n);

    (void) state;
    assert_int_equal(t[0].kind, GR_TK_INT);
    assert_int_equal(t[0].ival, 1000);
    assert_int_equal(t[1].kind, GR_TK_DECIMAL);
    assert_true(t[1].dval == 1.5);
    assert_int_equal(t[2].kind, GR_TK_DECIMAL);
    assert_true(t[2].dval == 2000.0);
    assert_int_equal(t[3].kind, GR_TK_INT);
    assert_int_equal(t[4].kind, GR_TK_RANGE);
    assert_int_equal(t[5].kind, GR_TK_INT);
    assert_int_equal(t[6].kind, GR_TK_DECIMAL);
    ht_arena_free(a);
}

static void
test_lex_string_escapes(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);
    size_t    n;
    gr_token *t = lex_ok(a, "'a\\'b\\n' \"\\u0041\\t\" '''x\ny'''", &n);

    (void) state;
    assert_string_equal(t[0].sval, "a'b\n");
    assert_string_equal(t[1].sval, "A\t");
    assert_string_equal(t[2].sval, "x\ny");
    assert_int_equal(t[3].kind, GR_TK_EOF); /* the newline was inside */
    ht_arena_free(a);
}

static void
test_lex_newlines_dropped_inside_parens(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);
    size_t    n;
    gr_token *t = lex_ok(a, "f(1,\n2)\n\n\n[3,\n4]", &n);

    (void) state;
    /* f ( 1 , 2 ) NL [ 3 , 4 ] EOF */
    assert_int_equal(n, 13);
    assert_int_equal(t[6].kind, GR_TK_NL);
    ht_arena_free(a);
}

static void
test_lex_operators_longest_first(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);
    size_t    n;
    gr_token *t = lex_ok(a, "a..<b ?: c ?. ++ += == != <= && || << ->", &n);

    (void) state;
    assert_int_equal(t[1].kind, GR_TK_RANGE_EXCL);
    assert_int_equal(t[3].kind, GR_TK_ELVIS);
    assert_int_equal(t[5].kind, GR_TK_SAFEDOT);
    assert_int_equal(t[6].kind, GR_TK_INCR);
    assert_int_equal(t[7].kind, GR_TK_PLUS_ASSIGN);
    assert_int_equal(t[8].kind, GR_TK_EQ);
    assert_int_equal(t[9].kind, GR_TK_NE);
    assert_int_equal(t[10].kind, GR_TK_LE);
    assert_int_equal(t[11].kind, GR_TK_AND);
    assert_int_equal(t[12].kind, GR_TK_OR);
    assert_int_equal(t[13].kind, GR_TK_OTHER_OP);
    assert_int_equal(t[14].kind, GR_TK_ARROW);
    ht_arena_free(a);
}

static void
test_lex_comments_skipped(void **state)
{
    ht_arena *a = ht_arena_new(0, 0);
    size_t    n;
    gr_token *t = lex_ok(a, "1 // x\n/* y\n z */ 2", &n);

    (void) state;
    assert_int_equal(n, 4);
    assert_int_equal(t[2].kind, GR_TK_INT);
    assert_int_equal(t[2].line, 3);
    ht_arena_free(a);
}

static void
expect_error(const char *src, const char *kind, const char *msg)
{
    ht_arena *a = ht_arena_new(0, 0);
    gr_token *t;
    size_t    n;
    ht_err    err;

    ht_err_clear(&err);
    assert_int_not_equal(gr_lex(a, src, &t, &n, &err), HT_OK);
    assert_string_equal(err.exception, kind);
    assert_string_equal(err.msg, msg);
    ht_arena_free(a);
}

static void
test_lex_errors_name_the_place(void **state)
{
    (void) state;
    expect_error("'abc", "SyntaxError", "line 1, column 1: unterminated string");
    expect_error("x\n  @", "SyntaxError",
                 "line 2, column 3: unexpected character '@'");
    expect_error("\"a$b\"", "UnsupportedSyntax",
                 "line 1, column 3: string interpolation is not supported");
    expect_error("99999999999999999999", "SyntaxError",
                 "line 1, column 1: integer literal too large");
    expect_error("/* open", "SyntaxError",
                 "line 1, column 1: unterminated comment");
    expect_error("'\\q'", "SyntaxError",
                 "line 1, column 2: unknown escape in string");
}

static void
test_lex_refuses_past_arena_cap(void **state)
{
    ht_arena *a = ht_arena_new(1024, 2048);
    gr_token *t;
    size_t    n;
    ht_err    err;

    (void) state;
    ht_err_clear(&err);
    assert_int_equal(gr_lex(a, "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 "
                               "19 20 21 22 23 24 25 26 27 28 29 30 31 32 33",
                            &t, &n, &err),
                     HT_ENOMEM);
    ht_arena_free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lex_kinds_and_places),
        cmocka_unit_test(test_lex_numbers),
        cmocka_unit_test(test_lex_string_escapes),
        cmocka_unit_test(test_lex_newlines_dropped_inside_parens),
        cmocka_unit_test(test_lex_operators_longest_first),
        cmocka_unit_test(test_lex_comments_skipped),
        cmocka_unit_test(test_lex_errors_name_the_place),
        cmocka_unit_test(test_lex_refuses_past_arena_cap),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

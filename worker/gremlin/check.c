/*
 * worker/gremlin/check.c - refuses what the evaluator does not run, before
 * any graph work is done.
 *
 * Gremlin steps are plain method calls to the parser, so a script using a
 * step of the full language that is not implemented here would otherwise
 * fail half-way, after it had written to the graph.  This walk finds the
 * first such call and names it.  The list holds TinkerPop step names only;
 * a name not on it that turns out unknown at run time is still refused, at
 * run time, with the same message.
 */
#include "worker/gremlin/ast.h"

#include <string.h>

static const char *const unsupported_steps[] = {
    "aggregate", "and", "barrier", "cap", "choose", "coin", "cyclicPath",
    "explain", "filter", "flatMap", "hasKey", "hasValue", "index", "inject",
    "key", "local", "loops", "map", "match", "math", "optional", "option",
    "or", "profile", "project", "propertyMap", "sack", "sample",
    "sideEffect", "store", "subgraph", "timeLimit", "tree", "union",
    "withSack", "withSideEffect", "with", "shortestPath",
    "connectedComponent", "pageRank", "peerPressure", "program", NULL};

int
gr_step_is_unsupported(const char *name)
{
    for (int i = 0; unsupported_steps[i]; i++)
        if (strcmp(unsupported_steps[i], name) == 0)
            return 1;
    return 0;
}

static int
walk(const gr_node *n, int loops, ht_err *err)
{
    int rc;

    if (n == NULL)
        return HT_OK;
    if ((n->kind == GR_N_BREAK || n->kind == GR_N_CONTINUE) && loops == 0)
        return ht_err_set(err, HT_EINVAL, 400, "SyntaxError",
                          "line %d, column %d: '%s' outside a loop", n->line,
                          n->col, n->kind == GR_N_BREAK ? "break" : "continue");
    if (n->kind == GR_N_WHILE || n->kind == GR_N_FOR ||
        n->kind == GR_N_FOREACH)
        loops++;
    /* the receiver first, so the first bad step in the text is named */
    if ((rc = walk(n->a, loops, err)) != HT_OK)
        return rc;
    if (n->kind == GR_N_CALL && n->a && gr_step_is_unsupported(n->str))
        return ht_err_set(err, HT_EINVAL, 400, "UnsupportedSyntax",
                          "line %d, column %d: step '%s' is not supported",
                          n->line, n->col, n->str);
    if ((rc = walk(n->b, loops, err)) != HT_OK ||
        (rc = walk(n->c, loops, err)) != HT_OK || (rc = walk(n->d, loops, err)) != HT_OK)
        return rc;
    for (size_t i = 0; i < n->n_kids; i++)
        if ((rc = walk(n->kids[i], loops, err)) != HT_OK)
            return rc;
    return HT_OK;
}

int
gr_check_script(const gr_node *root, ht_err *err)
{
    return walk(root, 0, err);
}

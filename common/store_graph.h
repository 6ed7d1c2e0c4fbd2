/*
 * common/store_graph.h - the SQL of the property graph (vertices, edges).
 *
 * Every statement is scoped by graph name, so a job can only ever read and
 * write its own graph's rows.  Scans stream in keyset batches: the whole
 * graph is never loaded.  Properties travel as JSON text (jsonb in the
 * table); the caller parses them.
 */
#ifndef HT_STORE_GRAPH_H
#define HT_STORE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/db.h"

typedef struct ht_graph_row {
    int         edge;       /* 0 vertex, 1 edge */
    int64_t     id;
    const char *label;      /* borrowed: valid during the callback */
    const char *props;      /* JSON object text, borrowed */
    int64_t     out_v, in_v;
    const char *out_label, *in_label;
} ht_graph_row;

/* 0 go on, 1 stop, negative HT_E* to fail. */
typedef int (*ht_graph_row_cb)(void *arg, const ht_graph_row *row, ht_err *err);

/* has(key, P) pushed down; the operators mirror gr_pred_op (gremlin.h). */
typedef enum {
    HT_GP_EQ, HT_GP_NEQ, HT_GP_LT, HT_GP_LTE, HT_GP_GT, HT_GP_GTE,
    HT_GP_INSIDE, HT_GP_OUTSIDE, HT_GP_BETWEEN, HT_GP_WITHIN, HT_GP_WITHOUT
} ht_graph_pred_op;

/* The element must have key; its value v (jsonb) must pass op against a
 * (and b): jsonb equality, or jsonb order between values of one JSON type
 * (strings in the database collation), within/without: a is a JSON array
 * of candidates.  a and b are JSON texts, sent as parameters. */
typedef struct ht_graph_pred {
    const char      *key;
    ht_graph_pred_op op;
    const char      *a, *b;
} ht_graph_pred;

typedef struct ht_graph_query {
    int                edge;
    const int64_t     *ids;      /* NULL = any id */
    size_t             n_ids;
    const char *const *labels;   /* NULL = any label */
    size_t             n_labels;
    const char        *contains; /* JSON object the properties must contain, or NULL */
    const char *const *keys;     /* property keys that must exist */
    size_t             n_keys;
    int64_t            limit;    /* -1 = all */
    const ht_graph_pred *preds;  /* all must hold */
    size_t             n_preds;
    const char        *order_key; /* NULL: id order; else this property's
                                     jsonb order (elements without it are
                                     left out), ties in id order */
    int                order_desc;
    int64_t            offset;   /* rows skipped first */
} ht_graph_query;

/* Streams the matches in keyset batches (on id, or on (order value, id)).
 * The offset applies to the first batch only. */
int ht_store_graph_scan(ht_db *db, ht_arena *a, const char *graph,
                        const ht_graph_query *q, ht_graph_row_cb cb, void *arg,
                        ht_err *err);
int ht_store_graph_count(ht_db *db, ht_arena *a, const char *graph,
                         const ht_graph_query *q, int64_t *out, ht_err *err);

/* Edges touching vids: dir 1 = out of them, 2 = into them, 3 = both.  The
 * row's out_v/in_v say which end matched; with dir 3 an edge between two
 * of the vertices is reported once per end. */
int ht_store_graph_adjacent(ht_db *db, ht_arena *a, const char *graph,
                            const int64_t *vids, size_t n, int dir,
                            const char *const *labels, size_t n_labels,
                            ht_graph_row_cb cb, void *arg, ht_err *err);

/* id 0 assigns one.  HT_ECONFLICT when the id is taken. */
int ht_store_vertex_add(ht_db *db, const char *graph, const char *label,
                        int64_t id, const char *props, int64_t *out,
                        ht_err *err);
/* The new edge's id and its ends' labels (in arena a).  HT_ENOTFOUND when
 * an end vertex does not exist in this graph. */
int ht_store_edge_add(ht_db *db, ht_arena *a, const char *graph,
                      const char *label, int64_t out_v, int64_t in_v,
                      const char *props, int64_t *id, const char **out_label,
                      const char **in_label, ht_err *err);
/* value NULL removes the key.  HT_ENOTFOUND when the element is gone. */
int ht_store_element_set_prop(ht_db *db, const char *graph, int edge,
                              int64_t id, const char *key, const char *value,
                              ht_err *err);
int ht_store_element_remove(ht_db *db, const char *graph, int edge,
                            int64_t id, ht_err *err);

#endif

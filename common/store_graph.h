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
} ht_graph_query;

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

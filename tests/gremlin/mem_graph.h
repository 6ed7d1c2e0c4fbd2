/*
 * tests/gremlin/mem_graph.h - an in-memory gr_graph_ops for the interpreter
 * tests, with transactions (commit copies the working state, rollback
 * restores the last commit) and call counters, so tests can prove that
 * filters were pushed into one query and adjacency came in batches.
 */
#ifndef MEM_GRAPH_H
#define MEM_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "worker/gremlin/gremlin.h"

typedef struct mem_graph mem_graph;

typedef struct mem_graph_stats {
    int scans, counts, adjacents, commits, rollbacks;
    size_t max_adjacent_batch;  /* most vertex ids in one adjacent call */
    int64_t last_limit;         /* the limit of the last scan or count */
    size_t last_n_has;          /* has filters in the last scan or count */
    size_t last_n_labels;
    size_t last_n_preds;        /* has(k, P) pushed into the last query */
    int64_t last_offset;
    int last_ordered;           /* the last query had an order key */
} mem_graph_stats;

extern const gr_graph_ops mem_graph_ops;

mem_graph *mem_graph_new(void);
void       mem_graph_free(mem_graph *g);

/* TinkerPop's "modern" graph, committed: vertices 1 marko, 2 vadas, 3 lop,
 * 4 josh, 5 ripple, 6 peter; edges 7..12. */
void mem_graph_load_modern(mem_graph *g);

/* A large committed graph: n_vertices 'node' vertices {name: "n<i>",
 * i: <i>} and fanout 'link' edges out of each (no properties). */
void mem_graph_load_big(mem_graph *g, size_t n_vertices, size_t fanout);

/* Committed (durable) vertices and edges, not counting open work. */
size_t mem_graph_committed_vertices(const mem_graph *g);
size_t mem_graph_vertices(const mem_graph *g);
size_t mem_graph_edges(const mem_graph *g);

mem_graph_stats *mem_graph_stats_of(mem_graph *g);

#endif

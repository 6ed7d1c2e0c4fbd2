-- Indexes behind the traversal push-down (worker/gremlin step_store.c ->
-- common/store_graph.c).  Statements bind the property key as a parameter;
-- PostgreSQL plans each one-shot statement with its parameter values, so
-- an expression on properties -> 'name' matches these indexes.
--
-- has('name', x) and has('name', P) on vertices, order().by('name'): the
-- jsonb value (its btree order is the one the scans sort by), per graph,
-- id last for the keyset of ordered scans.
CREATE INDEX vertices_name ON vertices (graph, (properties -> 'name'), id);
CREATE INDEX vertices_label_name ON vertices (graph, label, (properties -> 'name'), id);
-- the text form, for hand-written SQL and equality look-ups by name
CREATE INDEX vertices_name_text ON vertices (graph, (properties ->> 'name'));
-- adjacency: out()/in() fetch the edges of a batch of vertices in id order
CREATE INDEX edges_out_id ON edges (graph, out_v, id);
CREATE INDEX edges_in_id ON edges (graph, in_v, id);

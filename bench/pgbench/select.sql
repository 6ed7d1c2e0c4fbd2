-- bench/pgbench/select.sql: the floor under GET tasks/{id}.
-- Primary-key lookup of one random existing task, the columns a detail view
-- needs.  -D maxid=N sets the id range.
\set id random(1, :maxid)
SELECT graph, id, type, name, status, description, progress, retries, priority,
       server, created_at, updated_at, callable, input, result
  FROM tasks WHERE graph = 'hugegraph' AND id = :id;

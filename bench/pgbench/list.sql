-- bench/pgbench/list.sql: the floor under GET tasks?status=success&limit=100
-- (first page, list columns, id order).
SELECT graph, id, type, name, status, description, progress, retries, priority,
       server, created_at, updated_at
  FROM tasks WHERE graph = 'hugegraph' AND status = 'success' AND id > 0
 ORDER BY id LIMIT 100;

-- bench/pgbench/select10.sql: the floor under GET tasks?ids= with 10 ids.
-- Ten random existing ids in one statement, list columns, id order.
\set a random(1, :maxid)
\set b random(1, :maxid)
\set c random(1, :maxid)
\set d random(1, :maxid)
\set e random(1, :maxid)
\set f random(1, :maxid)
\set g random(1, :maxid)
\set h random(1, :maxid)
\set i random(1, :maxid)
\set j random(1, :maxid)
SELECT graph, id, type, name, status, description, progress, retries, priority,
       server, created_at, updated_at
  FROM tasks
 WHERE graph = 'hugegraph'
   AND id = ANY (ARRAY[:a, :b, :c, :d, :e, :f, :g, :h, :i, :j]::bigint[])
 ORDER BY id;

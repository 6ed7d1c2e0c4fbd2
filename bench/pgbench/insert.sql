-- bench/pgbench/insert.sql: the floor under POST jobs/gremlin.
-- One autocommitted single-row INSERT of a row shaped like a submitted
-- gremlin task, into a table with hugetask's own schema and indexes
-- (the bench applies sql/ to pgbench's database too).
INSERT INTO tasks (graph, id, type, name, callable, status, input, max_retries)
VALUES ('hugegraph', nextval(ht_task_seq('hugegraph')), 'gremlin', '1',
        'org.apache.hugegraph.job.GremlinJob', 'queued',
        '{"gremlin":"1","bindings":{},"language":"gremlin-groovy","aliases":{"hugegraph":"graph"}}',
        3)
RETURNING id;

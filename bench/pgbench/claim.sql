-- bench/pgbench/claim.sql: the ceiling of a one-task-per-round-trip queue.
-- Each pgbench client is one job slot: claim the oldest queued row with
-- FOR UPDATE SKIP LOCKED (one autocommitted statement), then finish it (a
-- second one), with nothing in between.  ceiling_q has hugetask's columns and
-- indexes plus claimed_at, so the drain rate can be taken from the rows.
-- When every remaining row is locked by another client the claim finds
-- nothing: cid is 0 and the finish touches no row.
WITH c AS (
    UPDATE ceiling_q t
       SET status = 'running', server = 'pgbench', attempt = t.attempt + 1,
           lease_until = now() + interval '10 seconds', updated_at = now(),
           claimed_at = now()
      FROM (SELECT graph, id FROM ceiling_q
             WHERE status = 'queued' AND graph = 'hugegraph'
             ORDER BY created_at, graph, id
             LIMIT 1 FOR UPDATE SKIP LOCKED) s
     WHERE t.graph = s.graph AND t.id = s.id AND t.status = 'queued'
 RETURNING t.id
)
SELECT coalesce((SELECT id FROM c), 0) AS cid
\gset
UPDATE ceiling_q
   SET status = 'success', result = '[1]', lease_until = NULL, updated_at = now()
 WHERE graph = 'hugegraph' AND id = :cid AND status = 'running';

-- 0005_dashboard_views.sql - read-only views for dashboards that query
-- PostgreSQL directly (Grafana and the like).  They read tasks only and
-- take no locks a worker would wait on.

-- How many tasks each graph has in each status.
CREATE VIEW ht_tasks_by_status AS
SELECT graph, status, count(*) AS tasks
  FROM tasks
 GROUP BY graph, status;

-- Completed tasks per minute over the last day.
CREATE VIEW ht_throughput_per_minute AS
SELECT graph, date_trunc('minute', updated_at) AS minute, status, count(*) AS tasks
  FROM tasks
 WHERE status IN ('success', 'failed', 'cancelled')
   AND updated_at > now() - interval '1 day'
 GROUP BY graph, date_trunc('minute', updated_at), status;

-- Queue wait (claim - submission) and run time (end - claim) percentiles of
-- the tasks that ended in the last hour, in milliseconds.
CREATE VIEW ht_latency_last_hour AS
SELECT graph,
       count(*) AS tasks,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at) * 1000) AS wait_p50_ms,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at) * 1000) AS wait_p99_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - started_at) * 1000) AS run_p50_ms,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - started_at) * 1000) AS run_p99_ms
  FROM tasks
 WHERE status IN ('success', 'failed')
   AND started_at IS NOT NULL
   AND updated_at > now() - interval '1 hour'
 GROUP BY graph;

-- The queue: how many tasks wait and for how long the oldest has waited.
CREATE VIEW ht_queue AS
SELECT graph, count(*) AS queued, min(created_at) AS oldest,
       extract(epoch FROM now() - min(created_at)) AS oldest_age_s
  FROM tasks
 WHERE status = 'queued'
 GROUP BY graph;

-- Running or cancelling tasks whose lease has run out: the next rescue
-- (any worker, within half a lease) re-queues or fails them.
CREATE VIEW ht_stuck_tasks AS
SELECT graph, id, status, server, attempt, retries, lease_until, updated_at
  FROM tasks
 WHERE status IN ('running', 'cancelling')
   AND (lease_until IS NULL OR lease_until < now());

-- The worker processes that hold tasks now (task_server is host:pid).
CREATE VIEW ht_worker_fleet AS
SELECT server, count(*) AS running, min(started_at) AS running_since,
       max(lease_until) AS lease_until
  FROM tasks
 WHERE status IN ('running', 'cancelling')
 GROUP BY server;

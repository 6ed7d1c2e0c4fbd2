-- 0008_retention.sql - the index that keeps retention flat at millions of
-- rows.
--
-- The retention pass (worker/retention.c, SQL in common/store_task.c)
-- deletes completed tasks oldest first in batches:
--   ... WHERE status IN ('success', 'cancelled', 'failed')
--         AND updated_at < now() - <age> ORDER BY updated_at LIMIT <batch>
-- This partial index holds only completed rows, in updated_at order, so a
-- batch reads exactly the rows it deletes (plus dead index entries not yet
-- vacuumed), whatever the size of the table or of the queue.  Queued and
-- running rows are not in it, so claims and heartbeats never touch it; a
-- finish adds one entry.
--
-- Built inside the migration's transaction (not CONCURRENTLY): on a large
-- existing table it blocks writes to tasks while it builds (about a second
-- per million rows here).  IF NOT EXISTS lets an operator build it first
-- with CREATE INDEX CONCURRENTLY (same name and definition) and migrate
-- afterwards without the pause.
CREATE INDEX IF NOT EXISTS tasks_completed_age ON tasks (updated_at)
    WHERE status IN ('success', 'cancelled', 'failed');

-- 0006_task_events.sql - task_events: one row per status transition of
-- every task, for dashboards and audits.
--
-- Filled by statement-level triggers on tasks with transition tables: the
-- workers claim and finish up to 256 tasks per statement, so a row-level
-- trigger would cost one INSERT per task, where these cost one INSERT ...
-- SELECT per statement.  Only rows whose status changed produce an event
-- (a heartbeat, a lease extension or a progress write produce none).
--
-- Invariants and choices:
--   * from_status is NULL for the creation of a task (INSERT).
--   * at is clock_timestamp() when the statement ran, not now(): a worker's
--     success is written inside the job's own graph transaction, whose
--     now() is when that transaction began.  The row lock the UPDATE holds
--     until commit orders the transitions of one task, so ordering a task's
--     events by at gives its history.
--   * retries, attempt and server are the row's values after the
--     transition: server is the worker process (host:pid) that holds or
--     held the task, so a claim's event names the claimer.
--   * Deleting a task (DELETE .../tasks/{id}, or retention) keeps its
--     events: they are the audit trail, and they age out with retention
--     (--retention deletes events older than the same age).
--   * No foreign key to tasks (that would forbid deleting a task) and no
--     primary key (nothing looks an event up by itself; the two indexes
--     below serve a task's history and retention).
CREATE TABLE task_events (
    graph       text        NOT NULL,
    task_id     bigint      NOT NULL,
    from_status text,
    to_status   text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    retries     integer     NOT NULL DEFAULT 0,
    attempt     integer     NOT NULL DEFAULT 0,
    server      text
);
COMMENT ON TABLE task_events IS
    'one row per status transition of a task (from_status NULL = created); '
    'kept when the task is deleted; aged out by --retention';

-- A task's history, in order.
CREATE INDEX task_events_task ON task_events (graph, task_id, at);
-- Retention (oldest first) and time-window dashboards.
CREATE INDEX task_events_at ON task_events (at);

CREATE FUNCTION ht_task_events_on_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz := clock_timestamp();
BEGIN
    INSERT INTO task_events (graph, task_id, from_status, to_status, at,
                             retries, attempt, server)
    SELECT n.graph, n.id, NULL, n.status, t, n.retries, n.attempt, n.server
      FROM ht_new_tasks n;
    RETURN NULL;
END $$;

CREATE FUNCTION ht_task_events_on_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz := clock_timestamp();
BEGIN
    INSERT INTO task_events (graph, task_id, from_status, to_status, at,
                             retries, attempt, server)
    SELECT n.graph, n.id, o.status, n.status, t, n.retries, n.attempt, n.server
      FROM ht_new_tasks n
      JOIN ht_old_tasks o ON o.graph = n.graph AND o.id = n.id
     WHERE o.status IS DISTINCT FROM n.status;
    RETURN NULL;
END $$;

-- PostgreSQL allows no column list (UPDATE OF status) on a trigger with
-- transition tables, so every UPDATE statement fires it; the WHERE above
-- makes the ones that change no status insert nothing.
CREATE TRIGGER task_events_insert
    AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS ht_new_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION ht_task_events_on_insert();

CREATE TRIGGER task_events_update
    AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS ht_old_tasks NEW TABLE AS ht_new_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION ht_task_events_on_update();

-- Dashboards: the transitions of the last hour, newest first when ordered
-- by at DESC (served by task_events_at).
CREATE VIEW ht_task_events_recent AS
SELECT graph, task_id, from_status, to_status, at, retries, attempt, server
  FROM task_events
 WHERE at > now() - interval '1 hour';
COMMENT ON VIEW ht_task_events_recent IS
    'task status transitions of the last hour (task_events)';

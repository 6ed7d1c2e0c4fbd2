-- 0004_started_at.sql - when the current attempt of a task was claimed.
--
-- Queue wait (started_at - created_at) and run time (updated_at - started_at
-- for a completed task) for dashboards and benchmarks.  Set by the claim
-- statement itself, so it costs no extra write.
ALTER TABLE tasks ADD COLUMN started_at timestamptz;

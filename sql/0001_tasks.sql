-- 0001_tasks.sql - tasks, their per-graph id sequences, and the graph store.
--
-- Statuses are HugeGraph's lowercase names.  Completed = success, cancelled,
-- failed: such a row never changes status again (the workers' and the API's
-- statements all compare-and-set on the current status).

CREATE TABLE tasks (
    graph            text        NOT NULL,
    id               bigint      NOT NULL,
    type             text        NOT NULL,
    name             text        NOT NULL,
    callable         text        NOT NULL,
    status           text        NOT NULL,
    input            text,
    result           text,
    description      text,
    progress         bigint      NOT NULL DEFAULT 0,
    retries          integer     NOT NULL DEFAULT 0,
    max_retries      integer     NOT NULL DEFAULT 3,
    priority         integer     NOT NULL DEFAULT 0,
    server           text,
    attempt          integer     NOT NULL DEFAULT 0,
    lease_until      timestamptz,
    cancel_requested boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (graph, id),
    CONSTRAINT tasks_status_known CHECK (status IN (
        'new', 'scheduling', 'scheduled', 'queued', 'restoring', 'running',
        'success', 'cancelling', 'cancelled', 'failed', 'hanging', 'deleting'))
) WITH (fillfactor = 70);

-- Claim: the oldest queued task first.
CREATE INDEX tasks_queued ON tasks (created_at, graph, id) WHERE status = 'queued';
-- Listing by status in id order.
CREATE INDEX tasks_by_status ON tasks (graph, status, id);
-- Rescue: running or cancelling tasks by lease deadline.
CREATE INDEX tasks_lease ON tasks (lease_until)
    WHERE status IN ('running', 'cancelling');

-- One id sequence per graph, so ids start at 1 per graph and are never
-- reused (a sequence never hands a number out twice, even after deletes,
-- rollbacks and restarts).  Sequences are not transactional, so submitting
-- takes no lock that lives until commit.
CREATE FUNCTION ht_task_seq(g text) RETURNS regclass
    LANGUAGE sql STABLE AS $$ SELECT quote_ident('ht_task_seq_' || g)::regclass $$;

CREATE FUNCTION ht_ensure_graph(g text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I START 1', 'ht_task_seq_' || g);
END $$;

-- The property graph that gremlin jobs read and write.
CREATE SEQUENCE ht_element_id_seq START 1;

CREATE TABLE vertices (
    graph      text   NOT NULL,
    id         bigint NOT NULL,
    label      text   NOT NULL,
    properties jsonb  NOT NULL DEFAULT '{}',
    PRIMARY KEY (graph, id)
);
CREATE INDEX vertices_label ON vertices (graph, label, id);
CREATE INDEX vertices_props ON vertices USING gin (properties jsonb_path_ops);

CREATE TABLE edges (
    graph      text   NOT NULL,
    id         bigint NOT NULL,
    label      text   NOT NULL,
    out_v      bigint NOT NULL,
    in_v       bigint NOT NULL,
    properties jsonb  NOT NULL DEFAULT '{}',
    PRIMARY KEY (graph, id),
    FOREIGN KEY (graph, out_v) REFERENCES vertices (graph, id) ON DELETE CASCADE,
    FOREIGN KEY (graph, in_v) REFERENCES vertices (graph, id) ON DELETE CASCADE
);
CREATE INDEX edges_label ON edges (graph, label, id);
CREATE INDEX edges_out ON edges (graph, out_v, label);
CREATE INDEX edges_in ON edges (graph, in_v, label);
CREATE INDEX edges_props ON edges USING gin (properties jsonb_path_ops);

-- seedgate schema, version 1.
--
-- Portable by design: times are integer Unix milliseconds (bigint in Postgres),
-- JSON is stored as text (jsonb in Postgres), and every statement here has a
-- one-to-one Postgres spelling. STRICT makes SQLite enforce the column types
-- the way Postgres would.

CREATE TABLE tasks (
    id            TEXT    NOT NULL PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    dialect       TEXT    NOT NULL,
    model         TEXT    NOT NULL,
    model_alias   TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    request_json  TEXT    NOT NULL,
    -- Lower-cased copy of request.prompt for case-insensitive substring search
    -- (Go's Unicode lower-casing; SQLite's lower() only knows ASCII).
    prompt_lower  TEXT    NOT NULL,
    result_json   TEXT,
    usage_json    TEXT,
    error_json    TEXT,
    provider      TEXT    NOT NULL,
    upstream_id   TEXT    NOT NULL,
    dispatched_at INTEGER,
    attempts      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER,
    expires_at    INTEGER NOT NULL,
    next_check_at INTEGER,
    progress      INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    lease_owner   TEXT    NOT NULL,
    lease_until   INTEGER
) STRICT;

-- ClaimDue and NextDue: only live tasks are indexed, so the index stays as small
-- as the work queue. The WHERE term must stay textually identical to the one in
-- the claim query, or SQLite will not use the index.
CREATE INDEX tasks_due_idx ON tasks (next_check_at, id)
    WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'expired');

-- ListTasks, newest first, per tenant and across tenants (the console).
CREATE INDEX tasks_tenant_created_idx ON tasks (tenant, created_at, id);
CREATE INDEX tasks_created_idx ON tasks (created_at, id);

-- Reconciling upstream state by the provider's id.
CREATE INDEX tasks_upstream_idx ON tasks (upstream_id) WHERE upstream_id <> '';

CREATE TABLE files (
    id           TEXT    NOT NULL PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    purpose      TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    duration     REAL    NOT NULL,
    blob_key     TEXT    NOT NULL,
    -- No foreign key: a result file outlives a deleted task until blob cleanup.
    task_id      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX files_task_idx ON files (task_id) WHERE task_id <> '';

CREATE TABLE settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

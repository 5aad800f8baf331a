-- seedgate schema, version 1 (PostgreSQL). A straight translation of the
-- SQLite 0001_init.sql: times are bigint Unix milliseconds, JSON is text (kept
-- byte for byte, as SQLite keeps it; jsonb would refuse "\u0000" in a prompt).
-- Ids sort bytewise (COLLATE "C"), like SQLite's, so list order and keyset
-- cursors agree between engines whatever the database's locale.

CREATE TABLE tasks (
    id            text COLLATE "C" NOT NULL PRIMARY KEY,
    tenant        text    NOT NULL,
    dialect       text    NOT NULL,
    model         text    NOT NULL,
    model_alias   text    NOT NULL,
    status        text    NOT NULL,
    request_json  text    NOT NULL,
    -- Lower-cased copy of request.prompt (Go's Unicode lower-casing, as in SQLite).
    prompt_lower  text    NOT NULL,
    result_json   text,
    usage_json    text,
    error_json    text,
    provider      text    NOT NULL,
    upstream_id   text    NOT NULL,
    dispatched_at bigint,
    attempts      integer NOT NULL,
    created_at    bigint  NOT NULL,
    updated_at    bigint  NOT NULL,
    started_at    bigint,
    finished_at   bigint,
    expires_at    bigint  NOT NULL,
    next_check_at bigint,
    progress      integer NOT NULL,
    version       bigint  NOT NULL,
    lease_owner   text    NOT NULL,
    lease_until   bigint
);

-- ClaimDue and NextDue: only live tasks are indexed. The WHERE term must stay
-- the one in the claim query (liveStatus), or the planner cannot use the index.
CREATE INDEX tasks_due_idx ON tasks (next_check_at, id)
    WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'expired');

CREATE INDEX tasks_tenant_created_idx ON tasks (tenant, created_at, id);
CREATE INDEX tasks_created_idx ON tasks (created_at, id);
CREATE INDEX tasks_upstream_idx ON tasks (upstream_id) WHERE upstream_id <> '';

CREATE TABLE files (
    id           text COLLATE "C" NOT NULL PRIMARY KEY,
    tenant       text    NOT NULL,
    kind         text    NOT NULL,
    purpose      text    NOT NULL,
    name         text    NOT NULL,
    content_type text    NOT NULL,
    size         bigint  NOT NULL,
    sha256       text    NOT NULL,
    width        integer NOT NULL,
    height       integer NOT NULL,
    duration     double precision NOT NULL,
    blob_key     text    NOT NULL,
    task_id      text    NOT NULL,
    created_at   bigint  NOT NULL
);

CREATE INDEX files_task_idx ON files (task_id) WHERE task_id <> '';

CREATE TABLE settings (
    key   text NOT NULL PRIMARY KEY,
    value text NOT NULL
);

-- API keys, tenants, budgets, per-key request counters and the admin audit
-- log.

-- Stored API keys. The key itself is never stored: hash is the hex SHA-256 of
-- it (keys carry 256 random bits, so a fast hash is enough; see auth.HashKey).
CREATE TABLE api_keys (
    id            TEXT    NOT NULL PRIMARY KEY,  -- key_…, also the visible part of the key
    hash          TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    tenant        TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,              -- comma-separated: read, submit, admin
    rpm           INTEGER,                       -- NULL: the tenant's
    max_in_flight INTEGER,                       -- NULL: the tenant's
    created_at    INTEGER NOT NULL,
    created_by    TEXT    NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    last_used_at  INTEGER
) STRICT;

CREATE INDEX api_keys_tenant_idx ON api_keys (tenant, created_at);

-- Tenants with limits or a balance. No row (or a NULL balance): not limited by a balance.
CREATE TABLE tenants (
    id            TEXT    NOT NULL PRIMARY KEY,
    rpm           INTEGER,                       -- NULL: the gateway default
    max_in_flight INTEGER,
    balance       INTEGER,                       -- NULL: unlimited
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- One charge per task: reserved with the task's insert, settled or released in
-- the transaction that writes its terminal status (store.AccountStore).
CREATE TABLE charges (
    task_id         TEXT    NOT NULL PRIMARY KEY,
    tenant          TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    model           TEXT    NOT NULL,
    state           TEXT    NOT NULL,            -- open | settled | released
    held            INTEGER NOT NULL,            -- 1: reserved from a balance
    estimate_tokens INTEGER NOT NULL,
    reserved        INTEGER NOT NULL,
    rate            INTEGER NOT NULL,            -- unit per 1e6 tokens, snapshotted at submit
    unit            TEXT    NOT NULL,
    tokens          INTEGER NOT NULL,
    amount          INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    settled_at      INTEGER
) STRICT;

-- A key's tasks in flight are its open charges: only those are indexed.
CREATE INDEX charges_open_key_idx ON charges (key_id) WHERE state = 'open';
CREATE INDEX charges_settled_idx ON charges (settled_at) WHERE state = 'settled';

-- Every reserve, settle, release and top-up.
CREATE TABLE ledger (
    id       INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    tenant   TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    task_id  TEXT    NOT NULL,
    key_id   TEXT    NOT NULL,
    model    TEXT    NOT NULL,
    tokens   INTEGER NOT NULL,
    amount   INTEGER NOT NULL,
    delta    INTEGER NOT NULL,                   -- change of the balance
    balance  INTEGER,                            -- after; NULL when unlimited
    unit     TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    note     TEXT    NOT NULL
) STRICT;

CREATE INDEX ledger_tenant_idx ON ledger (tenant, id);
CREATE INDEX ledger_task_idx ON ledger (task_id) WHERE task_id <> '';

-- Requests per minute: one row per key, the current fixed window's count.
CREATE TABLE rate_windows (
    key_id       TEXT    NOT NULL PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL
) STRICT;

-- Admin actions.
CREATE TABLE audit_log (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    status     INTEGER NOT NULL,
    request_id TEXT    NOT NULL
) STRICT;

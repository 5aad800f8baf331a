-- API keys, tenants, budgets, per-key request counters and the admin audit
-- log; the SQLite migration 0005 translated.

-- Stored API keys. The key itself is never stored: hash is the hex SHA-256 of
-- it (keys carry 256 random bits, so a fast hash is enough; see auth.HashKey).
CREATE TABLE api_keys (
    id            text    NOT NULL PRIMARY KEY,
    hash          text    NOT NULL,
    name          text    NOT NULL,
    tenant        text    NOT NULL,
    scopes        text    NOT NULL,
    rpm           integer,
    max_in_flight integer,
    created_at    bigint  NOT NULL,
    created_by    text    NOT NULL,
    expires_at    bigint,
    revoked_at    bigint,
    last_used_at  bigint
);

CREATE INDEX api_keys_tenant_idx ON api_keys (tenant, created_at);

CREATE TABLE tenants (
    id            text    NOT NULL PRIMARY KEY,
    rpm           integer,
    max_in_flight integer,
    balance       bigint,
    created_at    bigint  NOT NULL,
    updated_at    bigint  NOT NULL
);

CREATE TABLE charges (
    task_id         text    NOT NULL PRIMARY KEY,
    tenant          text    NOT NULL,
    key_id          text    NOT NULL,
    model           text    NOT NULL,
    state           text    NOT NULL,
    held            boolean NOT NULL,
    estimate_tokens bigint  NOT NULL,
    reserved        bigint  NOT NULL,
    rate            bigint  NOT NULL,
    unit            text    NOT NULL,
    tokens          bigint  NOT NULL,
    amount          bigint  NOT NULL,
    created_at      bigint  NOT NULL,
    settled_at      bigint
);

CREATE INDEX charges_open_key_idx ON charges (key_id) WHERE state = 'open';
CREATE INDEX charges_settled_idx ON charges (settled_at) WHERE state = 'settled';

CREATE TABLE ledger (
    id       bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       bigint  NOT NULL,
    tenant   text    NOT NULL,
    kind     text    NOT NULL,
    task_id  text    NOT NULL,
    key_id   text    NOT NULL,
    model    text    NOT NULL,
    tokens   bigint  NOT NULL,
    amount   bigint  NOT NULL,
    delta    bigint  NOT NULL,
    balance  bigint,
    unit     text    NOT NULL,
    actor    text    NOT NULL,
    note     text    NOT NULL
);

CREATE INDEX ledger_tenant_idx ON ledger (tenant, id);
CREATE INDEX ledger_task_idx ON ledger (task_id) WHERE task_id <> '';

CREATE TABLE rate_windows (
    key_id       text    NOT NULL PRIMARY KEY,
    window_start bigint  NOT NULL,
    count        integer NOT NULL
);

CREATE TABLE audit_log (
    id         bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         bigint  NOT NULL,
    actor      text    NOT NULL,
    action     text    NOT NULL,
    target     text    NOT NULL,
    detail     text    NOT NULL,
    status     integer NOT NULL,
    request_id text    NOT NULL
);

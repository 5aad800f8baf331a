-- Webhook outbox, signing secrets and idempotency keys.

-- One row per status change of a task that has a callback_url, written in the
-- same transaction as the change (CreateTask / UpdateTask), so a crash can
-- never lose an event. The id is the Standard Webhooks webhook-id: it stays
-- the same for every attempt, automatic or manual.
CREATE TABLE webhook_messages (
    id               TEXT    NOT NULL PRIMARY KEY,
    task_id          TEXT    NOT NULL,
    tenant           TEXT    NOT NULL,
    key_id           TEXT    NOT NULL,
    dialect          TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    status           TEXT    NOT NULL,   -- the task's status this event announces
    task_version     INTEGER NOT NULL,
    snapshot_json    TEXT    NOT NULL,   -- the task as it was written
    state            TEXT    NOT NULL,   -- pending | delivered | failed | gone | skipped
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER,            -- set while pending
    last_status_code INTEGER NOT NULL,
    last_error       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    lease_owner      TEXT    NOT NULL,
    lease_until      INTEGER
) STRICT;

-- The claim query; the WHERE term must match webhookDueSQL's exactly.
CREATE INDEX webhook_messages_due_idx ON webhook_messages (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_messages_task_idx ON webhook_messages (task_id, created_at);
-- A 410 stops every pending message to that endpoint.
CREATE INDEX webhook_messages_endpoint_idx ON webhook_messages (key_id, url) WHERE state = 'pending';

CREATE TABLE webhook_attempts (
    message_id    TEXT    NOT NULL,
    n             INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER NOT NULL,     -- 0: no HTTP answer
    error         TEXT    NOT NULL,
    response_body TEXT    NOT NULL,     -- the first bytes, for debugging receivers
    manual        INTEGER NOT NULL,     -- 1: sent because of POST …/retry
    PRIMARY KEY (message_id, n)
) STRICT;

-- The whsec_ signing secret of each API key. previous_secret stays valid (and
-- is signed with too) until previous_until, so receivers can roll over.
CREATE TABLE webhook_secrets (
    key_id          TEXT    NOT NULL PRIMARY KEY,
    secret          TEXT    NOT NULL,
    previous_secret TEXT    NOT NULL,
    previous_until  INTEGER,
    created_at      INTEGER NOT NULL,
    rotated_at      INTEGER
) STRICT;

-- Idempotency-Key records, per API key, kept 24 h.
CREATE TABLE idempotency_keys (
    key_id        TEXT    NOT NULL,
    idem_key      TEXT    NOT NULL,
    fingerprint   TEXT    NOT NULL,   -- hash of method, path and body
    done          INTEGER NOT NULL,   -- 0: the first request is still running
    status_code   INTEGER NOT NULL,
    content_type  TEXT    NOT NULL,
    body          BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    locked_until  INTEGER NOT NULL,   -- an unfinished record older than this was abandoned
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (key_id, idem_key)
) STRICT;

CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

-- Webhook outbox, signing secrets and idempotency keys (SQLite 0004).

CREATE TABLE webhook_messages (
    id               text COLLATE "C" NOT NULL PRIMARY KEY,
    task_id          text    NOT NULL,
    tenant           text    NOT NULL,
    key_id           text    NOT NULL,
    dialect          text    NOT NULL,
    url              text    NOT NULL,
    status           text    NOT NULL,
    task_version     bigint  NOT NULL,
    snapshot_json    text    NOT NULL,
    state            text    NOT NULL,
    attempts         integer NOT NULL,
    next_attempt_at  bigint,
    last_status_code integer NOT NULL,
    last_error       text    NOT NULL,
    created_at       bigint  NOT NULL,
    updated_at       bigint  NOT NULL,
    delivered_at     bigint,
    lease_owner      text    NOT NULL,
    lease_until      bigint
);

-- The claim query; the WHERE term must match webhookDue.
CREATE INDEX webhook_messages_due_idx ON webhook_messages (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_messages_task_idx ON webhook_messages (task_id, created_at);
CREATE INDEX webhook_messages_endpoint_idx ON webhook_messages (key_id, url) WHERE state = 'pending';

CREATE TABLE webhook_attempts (
    message_id    text    NOT NULL,
    n             integer NOT NULL,
    started_at    bigint  NOT NULL,
    duration_ms   bigint  NOT NULL,
    status_code   integer NOT NULL,
    error         text    NOT NULL,
    response_body text    NOT NULL,
    manual        boolean NOT NULL,
    PRIMARY KEY (message_id, n)
);

CREATE TABLE webhook_secrets (
    key_id          text   NOT NULL PRIMARY KEY,
    secret          text   NOT NULL,
    previous_secret text   NOT NULL,
    previous_until  bigint,
    created_at      bigint NOT NULL,
    rotated_at      bigint
);

CREATE TABLE idempotency_keys (
    key_id        text    NOT NULL,
    idem_key      text    NOT NULL,
    fingerprint   text    NOT NULL,
    done          boolean NOT NULL,
    status_code   integer NOT NULL,
    content_type  text    NOT NULL,
    body          bytea   NOT NULL,
    created_at    bigint  NOT NULL,
    locked_until  bigint  NOT NULL,
    expires_at    bigint  NOT NULL,
    PRIMARY KEY (key_id, idem_key)
);

CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

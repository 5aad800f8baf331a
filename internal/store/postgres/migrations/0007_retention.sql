-- Fair webhook delivery, result retention, deleted tasks' files and storage
-- quotas (SQLite 0007).

ALTER TABLE webhook_messages ADD COLUMN endpoint text NOT NULL DEFAULT '';

ALTER TABLE files ADD COLUMN expired_at bigint;
CREATE INDEX files_result_created_idx ON files (created_at, id) WHERE task_id <> '' AND expired_at IS NULL;
CREATE INDEX files_tenant_idx ON files (tenant) WHERE expired_at IS NULL;

ALTER TABLE tenants ADD COLUMN storage_quota bigint;

CREATE TABLE blob_trash (
    blob_key   text   NOT NULL PRIMARY KEY,
    created_at bigint NOT NULL
);

-- Fair webhook delivery, result retention, deleted tasks' files and storage
-- quotas.

-- The receiver of a message: scheme://host:port of its URL (store.WebhookEndpoint).
-- Messages from before this column have '' and are capped by the dispatcher alone.
ALTER TABLE webhook_messages ADD COLUMN endpoint TEXT NOT NULL DEFAULT '';

-- Set when a result's content was removed after the retention period: the row
-- stays so its URL answers that the file expired.
ALTER TABLE files ADD COLUMN expired_at INTEGER;
-- Retention sweeps results (task_id <> '') oldest first; storage use sums a tenant's live files.
CREATE INDEX files_result_created_idx ON files (created_at, id) WHERE task_id <> '' AND expired_at IS NULL;
CREATE INDEX files_tenant_idx ON files (tenant) WHERE expired_at IS NULL;

-- Bytes of file storage the tenant may hold; NULL: the gateway default.
ALTER TABLE tenants ADD COLUMN storage_quota INTEGER;

-- Blobs whose file rows are gone or expired, removed from blob storage by
-- the sweeper of any instance (deleting a blob twice is harmless). The row is
-- written in the transaction that removes the file's row, so a crash leaves
-- work, never an orphan.
CREATE TABLE blob_trash (
    blob_key   TEXT    NOT NULL PRIMARY KEY,
    created_at INTEGER NOT NULL
) STRICT;

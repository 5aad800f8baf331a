-- Fair webhook delivery (SQLite 0007).

ALTER TABLE webhook_messages ADD COLUMN endpoint text NOT NULL DEFAULT '';

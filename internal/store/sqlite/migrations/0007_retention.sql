-- Fair webhook delivery.

-- The receiver of a message: scheme://host:port of its URL (store.WebhookEndpoint).
-- Messages from before this column have '' and are capped by the dispatcher alone.
ALTER TABLE webhook_messages ADD COLUMN endpoint TEXT NOT NULL DEFAULT '';

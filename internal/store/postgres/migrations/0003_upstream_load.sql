-- Per-key load of upstream channels (SQLite 0003): the live tasks holding an
-- upstream key. The WHERE term must stay the one in keyLoadSQL.
CREATE INDEX tasks_key_load_idx ON tasks (provider, model, channel, upstream_key)
    WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'expired') AND upstream_key <> '';

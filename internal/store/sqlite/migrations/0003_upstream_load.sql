-- Per-key load of upstream channels (store.UpstreamStore.KeyLoad): the live
-- tasks holding an upstream key. Only those rows are indexed, so the index is
-- as small as the number of tasks in flight upstream. The status term must
-- stay textually identical to the one in the query.
CREATE INDEX tasks_key_load_idx ON tasks (provider, model, channel, upstream_key)
    WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'expired') AND upstream_key <> '';

-- Due status checks (SQLite 0006): only live tasks that exist upstream, so
-- the claim does not walk the due tasks still waiting to be dispatched. The
-- WHERE term must stay the one in claimChecksSQL.
CREATE INDEX tasks_check_due_idx ON tasks (next_check_at, id)
    WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'expired') AND upstream_id <> '';

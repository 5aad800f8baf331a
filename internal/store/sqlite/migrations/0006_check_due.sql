-- Due status checks (store.UpstreamStore.ClaimDueChecks): only live tasks
-- that exist upstream. Without it the claim walks tasks_due_idx through every
-- due task still waiting to be dispatched — a long walk on each scheduler
-- turn while creates pour in. The WHERE term must stay the one in
-- claimChecksSQL.
CREATE INDEX tasks_check_due_idx ON tasks (next_check_at, id)
    WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'expired') AND upstream_id <> '';

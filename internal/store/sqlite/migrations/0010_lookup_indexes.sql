-- A tenant's usage (GET /v1/usage) reads only this index: its settled
-- charges in time order with what the sum needs, not every settled charge.
CREATE INDEX charges_tenant_usage_idx ON charges (tenant, settled_at, model, unit, tokens, amount)
    WHERE state = 'settled';

-- The seedance dialect finds a task by the request id of its create call: a
-- copy of request.request_id, indexed (reading the JSON scanned every task).
ALTER TABLE tasks ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
UPDATE tasks SET request_id = coalesce(json_extract(request_json, '$.request_id'), '');
CREATE INDEX tasks_request_id_idx ON tasks (tenant, request_id) WHERE request_id <> '';

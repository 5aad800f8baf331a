-- Which upstream channel and key own a task's upstream task: status checks and
-- cancels must use the key that created it.
ALTER TABLE tasks ADD COLUMN channel      TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN upstream_key TEXT NOT NULL DEFAULT '';

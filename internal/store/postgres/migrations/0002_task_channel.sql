-- Which upstream channel and key own a task's upstream task (SQLite 0002).
ALTER TABLE tasks ADD COLUMN channel      text NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN upstream_key text NOT NULL DEFAULT '';

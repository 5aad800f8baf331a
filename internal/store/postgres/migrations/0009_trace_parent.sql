-- The W3C trace context (traceparent) of the request that created a task:
-- its background steps are spans of that trace ('' when it was not traced).
ALTER TABLE tasks ADD COLUMN trace_parent text NOT NULL DEFAULT '';

-- The gateway processes running on this database and their heartbeats. A
-- lease counts only while its holder beats: the leases of an instance whose
-- heartbeat went stale are freed at once (store.InstanceStore), whatever
-- their length. Leases are found through the live-task and pending-message
-- indexes, so the claims need no new index and no join.
CREATE TABLE instances (
    id           TEXT    NOT NULL PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
) STRICT;

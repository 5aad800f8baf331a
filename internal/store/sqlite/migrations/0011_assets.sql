-- The asset library: a tenant's files that requests name as asset://<id>,
-- in groups, and their copies in upstream accounts' asset libraries.
CREATE TABLE assets (
    id         TEXT NOT NULL PRIMARY KEY,
    tenant     TEXT NOT NULL,
    grp        TEXT NOT NULL,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    source_url TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX assets_tenant_idx ON assets (tenant, created_at, id);

-- One row per (asset, upstream account): written before the upstream create,
-- so that however many tasks use an asset it is created once per account.
CREATE TABLE asset_mirrors (
    asset_id    TEXT NOT NULL,
    account     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    upstream_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    error       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (asset_id, account)
) STRICT;

-- The upstream asset group holding a tenant's group in an account.
CREATE TABLE asset_group_mirrors (
    tenant      TEXT NOT NULL,
    grp         TEXT NOT NULL,
    account     TEXT NOT NULL,
    upstream_id TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, grp, account)
) STRICT;

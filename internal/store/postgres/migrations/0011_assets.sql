-- The asset library: a tenant's files that requests name as asset://<id>,
-- in groups, and their copies in upstream accounts' asset libraries.
CREATE TABLE assets (
    id         text NOT NULL PRIMARY KEY,
    tenant     text NOT NULL,
    grp        text NOT NULL,
    name       text NOT NULL,
    kind       text NOT NULL,
    file_id    text NOT NULL,
    source_url text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX assets_tenant_idx ON assets (tenant, created_at, id);

-- One row per (asset, upstream account): written before the upstream create,
-- so that however many tasks use an asset it is created once per account.
CREATE TABLE asset_mirrors (
    asset_id    text NOT NULL,
    account     text NOT NULL,
    channel     text NOT NULL,
    upstream_id text NOT NULL,
    status      text NOT NULL,
    error       text NOT NULL,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (asset_id, account)
);

-- The upstream asset group holding a tenant's group in an account.
CREATE TABLE asset_group_mirrors (
    tenant      text NOT NULL,
    grp         text NOT NULL,
    account     text NOT NULL,
    upstream_id text NOT NULL,
    created_at  bigint NOT NULL,
    PRIMARY KEY (tenant, grp, account)
);

package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/seedgate/seedgate/internal/store"
)

const assetColumns = `id, tenant, grp, name, kind, file_id, source_url, created_at`

func scanAsset(r Row) (*store.Asset, error) {
	var (
		a       store.Asset
		created int64
	)
	if err := r.Scan(&a.ID, &a.Tenant, &a.Group, &a.Name, &a.Kind, &a.FileID, &a.SourceURL, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMillis(created)
	return &a, nil
}

// CreateAsset implements store.AssetQueries.
func (c Conn) CreateAsset(ctx context.Context, a *store.Asset) error {
	if a == nil || a.ID == "" {
		return fmt.Errorf("create asset: an asset with an id is required")
	}
	_, err := c.Q.Exec(ctx, `INSERT INTO assets (`+assetColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.ID, a.Tenant, a.Group, a.Name, a.Kind, a.FileID, a.SourceURL, toMillis(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("create asset %s: %w", a.ID, err)
	}
	return nil
}

// GetAsset implements store.AssetQueries and store.Executor.
func (c Conn) GetAsset(ctx context.Context, id string) (*store.Asset, error) {
	a, err := scanAsset(c.Q.QueryRow(ctx, `SELECT `+assetColumns+` FROM assets WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get asset %s: %w", id, err)
	}
	return a, nil
}

// ListAssets implements store.AssetQueries: keyset pages, newest first. An
// After that names no asset of the tenant starts from the newest.
func (c Conn) ListAssets(ctx context.Context, f store.AssetFilter) (store.AssetPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	where, args := `tenant = $1`, []any{f.Tenant}
	if f.Group != nil {
		args = append(args, *f.Group)
		where += fmt.Sprintf(` AND grp = $%d`, len(args))
	}
	if f.After != "" {
		args = append(args, f.After)
		n := len(args)
		where += fmt.Sprintf(` AND ((created_at, id) < (SELECT created_at, id FROM assets WHERE id = $%d AND tenant = $1)
			OR NOT EXISTS (SELECT 1 FROM assets WHERE id = $%d AND tenant = $1))`, n, n)
	}
	args = append(args, limit+1)
	rows, err := c.Q.Query(ctx, `SELECT `+assetColumns+` FROM assets WHERE `+where+
		fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args)), args...)
	as, err := collect(rows, err, scanAsset)
	if err != nil {
		return store.AssetPage{}, fmt.Errorf("list assets: %w", err)
	}
	page := store.AssetPage{Assets: as}
	if len(as) > limit {
		page.Assets, page.HasMore = as[:limit], true
	}
	return page, nil
}

// AssetGroups implements store.AssetQueries.
func (c Conn) AssetGroups(ctx context.Context, tenant string) ([]store.AssetGroupCount, error) {
	rows, err := c.Q.Query(ctx, `SELECT grp, COUNT(*) FROM assets WHERE tenant = $1 GROUP BY grp ORDER BY grp`, tenant)
	gs, err := collect(rows, err, func(r Row) (store.AssetGroupCount, error) {
		var g store.AssetGroupCount
		return g, r.Scan(&g.Group, &g.Assets)
	})
	if err != nil {
		return nil, fmt.Errorf("asset groups: %w", err)
	}
	return gs, nil
}

const mirrorColumns = `asset_id, account, channel, upstream_id, status, error, created_at, updated_at`

func scanMirror(r Row) (*store.AssetMirror, error) {
	var (
		m                store.AssetMirror
		created, updated int64
	)
	if err := r.Scan(&m.AssetID, &m.Account, &m.Channel, &m.UpstreamID, &m.Status, &m.Error, &created, &updated); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &m, nil
}

// ClaimAssetMirror implements store.AssetQueries. Each step is one atomic
// statement, so two claimers never both win.
func (c Conn) ClaimAssetMirror(ctx context.Context, m *store.AssetMirror, staleBefore time.Time) (bool, *store.AssetMirror, error) {
	now := toMillis(m.UpdatedAt)
	n, err := c.Q.Exec(ctx, `INSERT INTO asset_mirrors (`+mirrorColumns+`) VALUES ($1, $2, $3, '', $4, '', $5, $5)
		ON CONFLICT (asset_id, account) DO NOTHING`, m.AssetID, m.Account, m.Channel, store.MirrorCreating, now)
	if err != nil {
		return false, nil, fmt.Errorf("claim asset mirror: %w", err)
	}
	if n == 0 {
		// A claim whose holder stopped before the upstream answered is taken over.
		n, err = c.Q.Exec(ctx, `UPDATE asset_mirrors SET channel = $3, updated_at = $4
			WHERE asset_id = $1 AND account = $2 AND status = $5 AND upstream_id = '' AND updated_at < $6`,
			m.AssetID, m.Account, m.Channel, now, store.MirrorCreating, toMillis(staleBefore))
		if err != nil {
			return false, nil, fmt.Errorf("claim asset mirror: %w", err)
		}
	}
	cur, err := scanMirror(c.Q.QueryRow(ctx, `SELECT `+mirrorColumns+` FROM asset_mirrors WHERE asset_id = $1 AND account = $2`,
		m.AssetID, m.Account))
	if err != nil {
		return false, nil, fmt.Errorf("claim asset mirror: %w", err)
	}
	return n == 1, cur, nil
}

// UpdateAssetMirror implements store.AssetQueries.
func (c Conn) UpdateAssetMirror(ctx context.Context, m *store.AssetMirror) error {
	err := changed(c.Q.Exec(ctx, `UPDATE asset_mirrors SET upstream_id = $3, status = $4, error = $5, updated_at = $6
		WHERE asset_id = $1 AND account = $2`, m.AssetID, m.Account, m.UpstreamID, m.Status, m.Error, toMillis(m.UpdatedAt)))
	if err != nil {
		return fmt.Errorf("update asset mirror %s/%s: %w", m.AssetID, m.Account, err)
	}
	return nil
}

// ReleaseAssetMirror implements store.AssetQueries.
func (c Conn) ReleaseAssetMirror(ctx context.Context, assetID, account string) error {
	if _, err := c.Q.Exec(ctx, `DELETE FROM asset_mirrors WHERE asset_id = $1 AND account = $2`, assetID, account); err != nil {
		return fmt.Errorf("release asset mirror %s/%s: %w", assetID, account, err)
	}
	return nil
}

// AssetMirrors implements store.AssetQueries and store.Executor.
func (c Conn) AssetMirrors(ctx context.Context, assetID string) ([]*store.AssetMirror, error) {
	rows, err := c.Q.Query(ctx, `SELECT `+mirrorColumns+` FROM asset_mirrors WHERE asset_id = $1 ORDER BY account`, assetID)
	ms, err := collect(rows, err, scanMirror)
	if err != nil {
		return nil, fmt.Errorf("mirrors of asset %s: %w", assetID, err)
	}
	return ms, nil
}

// DeleteAssetRows implements store.Executor.
func (c Conn) DeleteAssetRows(ctx context.Context, id string) error {
	if err := changed(c.Q.Exec(ctx, `DELETE FROM assets WHERE id = $1`, id)); err != nil {
		return fmt.Errorf("delete asset %s: %w", id, err)
	}
	if _, err := c.Q.Exec(ctx, `DELETE FROM asset_mirrors WHERE asset_id = $1`, id); err != nil {
		return fmt.Errorf("delete mirrors of asset %s: %w", id, err)
	}
	return nil
}

// AssetGroupMirror implements store.AssetQueries.
func (c Conn) AssetGroupMirror(ctx context.Context, tenant, group, account string) (string, error) {
	var id string
	err := c.Q.QueryRow(ctx, `SELECT upstream_id FROM asset_group_mirrors WHERE tenant = $1 AND grp = $2 AND account = $3`,
		tenant, group, account).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("asset group mirror: %w", err)
	}
	return id, nil
}

// PutAssetGroupMirror implements store.AssetQueries: the first writer wins.
func (c Conn) PutAssetGroupMirror(ctx context.Context, tenant, group, account, upstreamID string, at time.Time) (string, error) {
	var id string
	err := c.getOrInit(ctx,
		func() error {
			return c.Q.QueryRow(ctx, `SELECT upstream_id FROM asset_group_mirrors WHERE tenant = $1 AND grp = $2 AND account = $3`,
				tenant, group, account).Scan(&id)
		},
		`INSERT INTO asset_group_mirrors (tenant, grp, account, upstream_id, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant, grp, account) DO NOTHING`, tenant, group, account, upstreamID, toMillis(at))
	if err != nil {
		return "", fmt.Errorf("put asset group mirror: %w", err)
	}
	return id, nil
}

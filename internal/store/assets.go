package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Asset is a tenant's entry in the gateway's asset library: a stored file
// (FileID, owned by the asset) that requests name as asset://<ID>, in a group
// like the upstream's asset groups.
type Asset struct {
	ID     string
	Tenant string
	// Group is the asset group ("" is the tenant's default group).
	Group string
	Name  string
	Kind  string // image | video | audio
	// FileID is the file holding the asset's content.
	FileID string
	// SourceURL is the URL the content was fetched from ("" for an upload).
	SourceURL string
	CreatedAt time.Time
}

// Upstream asset states, as Volcengine's asset library names them.
const (
	MirrorCreating   = "Creating" // claimed; the upstream create is under way
	MirrorProcessing = "Processing"
	MirrorActive     = "Active"
	MirrorFailed     = "Failed"
)

// AssetMirror is an asset's copy in one upstream account's asset library.
type AssetMirror struct {
	AssetID string
	// Account names the upstream account (its access key id).
	Account string
	// Channel is the channel the copy was made through (for display).
	Channel    string
	UpstreamID string // "" until the upstream's create answered
	Status     string // Mirror*
	Error      string // why it Failed
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AssetFilter selects assets for ListAssets.
type AssetFilter struct {
	Tenant string
	// Group, when not nil, selects that group only.
	Group *string
	// Limit (default 20) and After (keyset: assets older than this id).
	Limit int
	After string
}

// AssetPage is one page of ListAssets, newest first.
type AssetPage struct {
	Assets  []*Asset
	HasMore bool
}

// AssetGroupCount is one of a tenant's asset groups and its size.
type AssetGroupCount struct {
	Group  string
	Assets int
}

// AssetStore holds the asset library and its upstream copies.
type AssetStore interface {
	AssetQueries
	// DeleteAsset removes an asset with its file (whose blob goes to the
	// trash, see FileStore) and its mirrors' records, in one transaction,
	// and returns the mirrors it had. ErrNotFound if there is no asset.
	DeleteAsset(ctx context.Context, id string) ([]*AssetMirror, error)
}

// AssetQueries are the asset methods without a rule.
type AssetQueries interface {
	// CreateAsset inserts a. ErrConflict if the id exists.
	CreateAsset(ctx context.Context, a *Asset) error
	// GetAsset returns an asset or ErrNotFound.
	GetAsset(ctx context.Context, id string) (*Asset, error)
	// ListAssets returns a page of a tenant's assets, newest first.
	ListAssets(ctx context.Context, f AssetFilter) (AssetPage, error)
	// AssetGroups lists a tenant's groups with their sizes, by name.
	AssetGroups(ctx context.Context, tenant string) ([]AssetGroupCount, error)

	// ClaimAssetMirror records that m.AssetID is being copied to m.Account
	// (m.Status is written as MirrorCreating) unless a record exists. A
	// record still Creating whose UpdatedAt is before staleBefore (its
	// creator died) is taken over. claimed says the caller now owns the
	// upstream create; otherwise current is the record as it stands.
	ClaimAssetMirror(ctx context.Context, m *AssetMirror, staleBefore time.Time) (claimed bool, current *AssetMirror, err error)
	// UpdateAssetMirror writes m's upstream id, status, error and UpdatedAt. ErrNotFound if gone.
	UpdateAssetMirror(ctx context.Context, m *AssetMirror) error
	// ReleaseAssetMirror removes a mirror record (its create failed before
	// reaching the upstream), so that a later use tries again.
	ReleaseAssetMirror(ctx context.Context, assetID, account string) error
	// AssetMirrors lists an asset's upstream copies, by account.
	AssetMirrors(ctx context.Context, assetID string) ([]*AssetMirror, error)

	// AssetGroupMirror returns the upstream group id that holds a tenant's
	// group in account, or ErrNotFound.
	AssetGroupMirror(ctx context.Context, tenant, group, account string) (string, error)
	// PutAssetGroupMirror records upstreamID as the tenant's group in
	// account unless one is recorded already; it returns the recorded one.
	PutAssetGroupMirror(ctx context.Context, tenant, group, account, upstreamID string, at time.Time) (string, error)
}

// DeleteAsset implements AssetStore.
func (db *DB) DeleteAsset(ctx context.Context, id string) ([]*AssetMirror, error) {
	var mirrors []*AssetMirror
	err := db.InTx(ctx, func(ctx context.Context, x Executor) error {
		a, err := x.GetAsset(ctx, id)
		if err != nil {
			return err
		}
		if mirrors, err = x.AssetMirrors(ctx, id); err != nil {
			return err
		}
		if err := x.DeleteAssetRows(ctx, id); err != nil {
			return err
		}
		f, err := x.GetFile(ctx, a.FileID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := x.DeleteFile(ctx, f.ID); err != nil {
			return err
		}
		return x.TrashBlob(ctx, f.BlobKey, db.now())
	})
	if err != nil {
		return nil, fmt.Errorf("store: delete asset %s: %w", id, err)
	}
	return mirrors, nil
}

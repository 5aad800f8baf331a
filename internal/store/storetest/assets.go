package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
)

// assetTests cover the asset library and its upstream copies.
var assetTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"AssetRoundTripAndPaging", testAssetRoundTrip},
	{"DeleteAssetTakesItsFile", testDeleteAsset},
	{"AssetMirrorClaimedOnce", testAssetMirrorClaim},
	{"AssetGroupMirrorFirstWins", testAssetGroupMirror},
}

func newAsset(id, tenant, group string, at time.Time) *store.Asset {
	return &store.Asset{ID: id, Tenant: tenant, Group: group, Name: "name " + id, Kind: "image",
		FileID: "file-" + id, SourceURL: "https://example.com/" + id + ".png", CreatedAt: at.UTC().Truncate(time.Millisecond)}
}

func testAssetRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []*store.Asset
	for i := range 5 {
		group := "faces"
		if i%2 == 1 {
			group = ""
		}
		a := newAsset(fmt.Sprintf("asset-%d", i), "tenant-a", group, base.Add(time.Duration(i)*time.Second))
		require.NoError(t, s.CreateAsset(ctx, a))
		want = append([]*store.Asset{a}, want...) // newest first
	}
	require.NoError(t, s.CreateAsset(ctx, newAsset("asset-b", "tenant-b", "faces", base)))
	require.ErrorIs(t, s.CreateAsset(ctx, newAsset("asset-0", "tenant-a", "", base)), store.ErrConflict)

	got, err := s.GetAsset(ctx, "asset-3")
	require.NoError(t, err)
	require.Equal(t, want[1], got)
	_, err = s.GetAsset(ctx, "asset-missing")
	require.ErrorIs(t, err, store.ErrNotFound)

	// Keyset pages of two walk the tenant's assets, newest first, and no other tenant's.
	var seen []*store.Asset
	after := ""
	for range 10 {
		p, err := s.ListAssets(ctx, store.AssetFilter{Tenant: "tenant-a", Limit: 2, After: after})
		require.NoError(t, err)
		seen = append(seen, p.Assets...)
		if !p.HasMore {
			break
		}
		after = p.Assets[len(p.Assets)-1].ID
	}
	require.Equal(t, want, seen)

	faces := "faces"
	p, err := s.ListAssets(ctx, store.AssetFilter{Tenant: "tenant-a", Group: &faces})
	require.NoError(t, err)
	require.Len(t, p.Assets, 3)
	for _, a := range p.Assets {
		require.Equal(t, "faces", a.Group)
	}
	// A cursor of another tenant's asset leaks nothing: the page starts at the newest.
	p, err = s.ListAssets(ctx, store.AssetFilter{Tenant: "tenant-a", Limit: 1, After: "asset-b"})
	require.NoError(t, err)
	require.Equal(t, []*store.Asset{want[0]}, p.Assets)

	groups, err := s.AssetGroups(ctx, "tenant-a")
	require.NoError(t, err)
	require.Equal(t, []store.AssetGroupCount{{Group: "", Assets: 2}, {Group: "faces", Assets: 3}}, groups)
}

func testDeleteAsset(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAsset("asset-del", "tenant-a", "", base)
	putFiles(t, s, file(a.FileID, "tenant-a", "", 10, base))
	require.NoError(t, s.CreateAsset(ctx, a))
	m := &store.AssetMirror{AssetID: a.ID, Account: "AK1", Channel: "volc", UpdatedAt: base}
	claimed, _, err := s.ClaimAssetMirror(ctx, m, base.Add(-time.Minute))
	require.NoError(t, err)
	require.True(t, claimed)

	mirrors, err := s.DeleteAsset(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, mirrors, 1)
	require.Equal(t, "AK1", mirrors[0].Account)
	_, err = s.GetAsset(ctx, a.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.False(t, fileExists(t, s, a.FileID))
	require.Contains(t, trash(t, s), "blobs/"+a.FileID)
	left, err := s.AssetMirrors(ctx, a.ID)
	require.NoError(t, err)
	require.Empty(t, left)
	_, err = s.DeleteAsset(ctx, a.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testAssetMirrorClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	require.NoError(t, s.CreateAsset(ctx, newAsset("asset-m", "tenant-a", "", base)))
	now := base.Add(time.Hour)
	stale := now.Add(-2 * time.Minute)

	// Many claimers at once: exactly one owns the upstream create.
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			claimed, cur, err := s.ClaimAssetMirror(ctx, &store.AssetMirror{AssetID: "asset-m", Account: "AK1", Channel: "volc", UpdatedAt: now}, stale)
			if err != nil {
				t.Error(err)
				return
			}
			if cur.Status != store.MirrorCreating {
				t.Errorf("status %q, want %q", cur.Status, store.MirrorCreating)
			}
			mu.Lock()
			if claimed {
				won++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	require.Equal(t, 1, won)

	// Another account is its own copy.
	claimed, _, err := s.ClaimAssetMirror(ctx, &store.AssetMirror{AssetID: "asset-m", Account: "AK2", Channel: "other", UpdatedAt: now}, stale)
	require.NoError(t, err)
	require.True(t, claimed)

	// A claim whose holder went quiet is taken over once.
	later := now.Add(5 * time.Minute)
	claimed, _, err = s.ClaimAssetMirror(ctx, &store.AssetMirror{AssetID: "asset-m", Account: "AK1", Channel: "volc", UpdatedAt: later}, later.Add(-2*time.Minute))
	require.NoError(t, err)
	require.True(t, claimed)
	claimed, _, err = s.ClaimAssetMirror(ctx, &store.AssetMirror{AssetID: "asset-m", Account: "AK1", Channel: "volc", UpdatedAt: later}, later.Add(-2*time.Minute))
	require.NoError(t, err)
	require.False(t, claimed)

	// Once the upstream answered, the record is never claimed again however old.
	m := &store.AssetMirror{AssetID: "asset-m", Account: "AK1", UpstreamID: "asset-up-1", Status: store.MirrorActive, UpdatedAt: later}
	require.NoError(t, s.UpdateAssetMirror(ctx, m))
	claimed, cur, err := s.ClaimAssetMirror(ctx, &store.AssetMirror{AssetID: "asset-m", Account: "AK1", Channel: "volc", UpdatedAt: later.Add(time.Hour)}, later.Add(time.Hour))
	require.NoError(t, err)
	require.False(t, claimed)
	require.Equal(t, "asset-up-1", cur.UpstreamID)
	require.Equal(t, store.MirrorActive, cur.Status)
	require.Equal(t, "volc", cur.Channel)
	require.Equal(t, now.UTC().Truncate(time.Millisecond), cur.CreatedAt)

	ms, err := s.AssetMirrors(ctx, "asset-m")
	require.NoError(t, err)
	require.Len(t, ms, 2)
	require.Equal(t, []string{"AK1", "AK2"}, []string{ms[0].Account, ms[1].Account})

	// A released claim can be made again.
	require.NoError(t, s.ReleaseAssetMirror(ctx, "asset-m", "AK2"))
	claimed, _, err = s.ClaimAssetMirror(ctx, &store.AssetMirror{AssetID: "asset-m", Account: "AK2", Channel: "other", UpdatedAt: now}, stale)
	require.NoError(t, err)
	require.True(t, claimed)
	require.ErrorIs(t, s.UpdateAssetMirror(ctx, &store.AssetMirror{AssetID: "asset-x", Account: "AK1", UpdatedAt: now}), store.ErrNotFound)
}

func testAssetGroupMirror(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.AssetGroupMirror(ctx, "tenant-a", "faces", "AK1")
	require.ErrorIs(t, err, store.ErrNotFound)
	id, err := s.PutAssetGroupMirror(ctx, "tenant-a", "faces", "AK1", "group-1", base)
	require.NoError(t, err)
	require.Equal(t, "group-1", id)
	id, err = s.PutAssetGroupMirror(ctx, "tenant-a", "faces", "AK1", "group-2", base)
	require.NoError(t, err)
	require.Equal(t, "group-1", id, "the first recorded group stays")
	id, err = s.AssetGroupMirror(ctx, "tenant-a", "faces", "AK1")
	require.NoError(t, err)
	require.Equal(t, "group-1", id)
	_, err = s.AssetGroupMirror(ctx, "tenant-b", "faces", "AK1")
	require.ErrorIs(t, err, store.ErrNotFound)
}

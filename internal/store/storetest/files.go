package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// fileTests cover the files of tasks: what a delete takes with it, result
// retention, the blob trash and storage use.
var fileTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"DeleteTaskTakesItsFiles", testDeleteTaskFiles},
	{"ExpireResults", testExpireResults},
	{"TenantStorageQuota", testTenantStorageQuota},
}

func file(id, tenant, taskID string, size int64, at time.Time) *task.File {
	return &task.File{ID: id, Tenant: tenant, Kind: "image", Purpose: "reference", ContentType: "image/png",
		Size: size, BlobKey: "blobs/" + id, TaskID: taskID, CreatedAt: at}
}

func putFiles(t *testing.T, s store.Store, fs ...*task.File) {
	t.Helper()
	for _, f := range fs {
		require.NoError(t, s.CreateFile(t.Context(), f))
	}
}

func fileExists(t *testing.T, s store.Store, id string) bool {
	t.Helper()
	_, err := s.GetFile(t.Context(), id)
	if err != nil {
		require.ErrorIs(t, err, store.ErrNotFound)
		return false
	}
	return true
}

func trash(t *testing.T, s store.Store) []string {
	t.Helper()
	keys, err := s.TrashedBlobs(t.Context(), 100)
	require.NoError(t, err)
	return keys
}

func testDeleteTaskFiles(t *testing.T, s store.Store) {
	ctx := t.Context()
	url := func(id string) string { return "https://gw.example/v1/files/" + id + "/content?sig=x" }
	drop := newTask("cgt-drop")
	drop.Status = task.StatusSucceeded
	drop.Request.FirstFrame = url("file-alone")
	drop.Request.ReferenceImages = []string{url("file-shared"), url("file-other-tenant")}
	other := newTask("cgt-other")
	other.Request.ReferenceImages = []string{url("file-shared")}
	create(t, s, drop, other)
	putFiles(t, s,
		file("file_cgt-drop_video", "tenant-a", "cgt-drop", 100, base),
		file("file_cgt-drop_thumbnail", "tenant-a", "cgt-drop", 10, base),
		file("file_cgt-other_video", "tenant-a", "cgt-other", 100, base),
		file("file-alone", "tenant-a", "", 1, base),
		file("file-shared", "tenant-a", "", 1, base),
		file("file-other-tenant", "tenant-b", "", 1, base),
	)

	require.NoError(t, s.DeleteTask(ctx, "cgt-drop",
		"file-alone", "file-shared", "file-other-tenant", "file_cgt-other_video", "file-missing"))
	for id, want := range map[string]bool{
		"file_cgt-drop_video": false, "file_cgt-drop_thumbnail": false, // its results
		"file-alone":           false, // an upload no other task names
		"file-shared":          true,  // named by cgt-other too
		"file-other-tenant":    true,  // not the tenant's to delete
		"file_cgt-other_video": true,  // another task's result
	} {
		require.Equal(t, want, fileExists(t, s, id), id)
	}
	require.ElementsMatch(t, []string{"blobs/file_cgt-drop_video", "blobs/file_cgt-drop_thumbnail", "blobs/file-alone"}, trash(t, s))
	used, err := s.StorageUsed(ctx, "tenant-a")
	require.NoError(t, err)
	require.EqualValues(t, 101, used)

	// Emptying the trash: forgetting a key twice is no error.
	require.NoError(t, s.ForgetTrashedBlob(ctx, "blobs/file-alone"))
	require.NoError(t, s.ForgetTrashedBlob(ctx, "blobs/file-alone"))
	require.Len(t, trash(t, s), 2)

	// A failed delete (no such task) touches no file.
	require.ErrorIs(t, s.DeleteTask(ctx, "cgt-drop", "file-shared"), store.ErrNotFound)
	require.True(t, fileExists(t, s, "file-shared"))
	// The last task naming the shared upload takes it.
	require.NoError(t, s.DeleteTask(ctx, "cgt-other", "file-shared"))
	require.False(t, fileExists(t, s, "file-shared"))
	require.False(t, fileExists(t, s, "file_cgt-other_video"))
}

func testExpireResults(t *testing.T, s store.Store) {
	ctx := t.Context()
	old, recent := base.Add(-48*time.Hour), base.Add(-time.Hour)
	putFiles(t, s,
		file("file_cgt-1_video", "tenant-a", "cgt-1", 1000, old),
		file("file_cgt-1_thumbnail", "tenant-a", "cgt-1", 10, old.Add(time.Second)),
		file("file_cgt-2_video", "tenant-a", "cgt-2", 500, recent),
		file("file-upload", "tenant-a", "", 7, old), // uploads are not results
	)
	cutoff := base.Add(-24 * time.Hour)
	got, err := s.ExpireResults(ctx, cutoff, base, 1)
	require.NoError(t, err)
	require.Len(t, got, 1, "at most limit at a time, oldest first")
	require.Equal(t, "file_cgt-1_video", got[0].ID)
	got, err = s.ExpireResults(ctx, cutoff, base, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "file_cgt-1_thumbnail", got[0].ID)
	got, err = s.ExpireResults(ctx, cutoff, base, 10)
	require.NoError(t, err)
	require.Empty(t, got, "an expired result is expired once")

	f, err := s.GetFile(ctx, "file_cgt-1_video")
	require.NoError(t, err, "the record stays")
	require.NotNil(t, f.ExpiredAt)
	require.True(t, f.ExpiredAt.Equal(msTime(base)))
	f, err = s.GetFile(ctx, "file_cgt-2_video")
	require.NoError(t, err)
	require.Nil(t, f.ExpiredAt)
	require.ElementsMatch(t, []string{"blobs/file_cgt-1_video", "blobs/file_cgt-1_thumbnail"}, trash(t, s))
	used, err := s.StorageUsed(ctx, "tenant-a")
	require.NoError(t, err)
	require.EqualValues(t, 507, used, "expired results hold no storage")
	used, err = s.StorageUsed(ctx, "nobody")
	require.NoError(t, err)
	require.Zero(t, used)

	// Deleting the task of an expired result removes the record, and trashes nothing again.
	create(t, s, newTask("cgt-1"))
	for _, k := range trash(t, s) {
		require.NoError(t, s.ForgetTrashedBlob(ctx, k))
	}
	require.NoError(t, s.DeleteTask(ctx, "cgt-1"))
	require.False(t, fileExists(t, s, "file_cgt-1_video"))
	require.Empty(t, trash(t, s))
}

func testTenantStorageQuota(t *testing.T, s store.Store) {
	ctx := t.Context()
	tn, err := s.SetTenantStorageQuota(ctx, "tenant-q", ptr(int64(5<<30)), base)
	require.NoError(t, err)
	require.Equal(t, int64(5<<30), *tn.StorageQuota)
	require.Nil(t, tn.Balance)
	_, err = s.SetTenantLimits(ctx, "tenant-q", store.Limits{RPM: ptr(10)}, base)
	require.NoError(t, err)
	tn, err = s.GetTenant(ctx, "tenant-q")
	require.NoError(t, err)
	require.Equal(t, int64(5<<30), *tn.StorageQuota, "limits leave the quota")
	require.Equal(t, 10, *tn.Limits.RPM)
	tn, err = s.SetTenantStorageQuota(ctx, "tenant-q", nil, base)
	require.NoError(t, err)
	require.Nil(t, tn.StorageQuota)
	require.Equal(t, 10, *tn.Limits.RPM, "the quota leaves the limits")
}

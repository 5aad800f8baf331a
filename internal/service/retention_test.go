package service

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/blob/disk"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/task"
)

// Results are removed once older than the retention period, by any number of
// sweepers at once; their records stay and say they expired.
func TestSweeperExpiresResultsAfterRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	blobs, err := disk.New(filepath.Join(dir, "files"))
	require.NoError(t, err)
	made := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clockwork.NewFakeClockAt(made)
	var keys []string
	for i, id := range []string{"file_cgt-a_video", "file_cgt-a_thumbnail", "file_cgt-b_video"} {
		f := &task.File{ID: id, Tenant: "t", Kind: "video", Purpose: "output", BlobKey: "results/" + id, TaskID: "cgt-x",
			Size: 3, CreatedAt: made.Add(time.Duration(i) * time.Minute)}
		_, err := blobs.Put(ctx, f.BlobKey, bytes.NewReader([]byte("abc")))
		require.NoError(t, err)
		require.NoError(t, st.CreateFile(ctx, f))
		keys = append(keys, f.BlobKey)
	}
	sweepers := make([]*Sweeper, 3)
	for i := range sweepers {
		sweepers[i] = NewSweeper(SweeperConfig{Archetype: baseservice.Archetype{Clock: clk}, Store: st, Blobs: blobs,
			Retention: 720 * time.Hour, Batch: 1})
	}

	clk.Advance(719 * time.Hour)
	expired, deleted, err := sweepers[0].Sweep(ctx)
	require.NoError(t, err)
	require.Zero(t, expired+deleted, "nothing is past the retention period yet")

	clk.Advance(time.Hour + 90*time.Second) // past it for the first two only
	var wg sync.WaitGroup
	counts, errs := make([]int, len(sweepers)), make([]error, len(sweepers))
	for i, w := range sweepers {
		wg.Go(func() { counts[i], _, errs[i] = w.Sweep(ctx) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.Equal(t, 2, counts[0]+counts[1]+counts[2], "each result is expired by one sweeper")
	for i, k := range keys {
		_, err := blobs.Open(ctx, k)
		if i < 2 {
			require.ErrorIs(t, err, blob.ErrNotFound, k)
		} else {
			require.NoError(t, err, k)
		}
	}
	left, err := st.TrashedBlobs(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, left)

	svc := New(Config{Store: st, Blobs: blobs, ResultRetention: 720 * time.Hour})
	_, _, err = svc.OpenFile(ctx, "file_cgt-a_video")
	te := task.AsError(err)
	require.Equal(t, task.CodeNotFound, te.Code)
	require.Contains(t, te.Message, "expired")
	require.Contains(t, te.Message, "720h")
	f, err := svc.File(ctx, "t", "file_cgt-a_video")
	require.NoError(t, err, "the record stays")
	require.NotNil(t, f.ExpiredAt)
}

// A started sweeper empties the trash when woken (a task was deleted).
func TestSweeperWakesForTheTrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	blobs, err := disk.New(filepath.Join(dir, "files"))
	require.NoError(t, err)
	w := NewSweeper(SweeperConfig{Store: st, Blobs: blobs, Interval: time.Hour})
	w.Start(ctx)
	t.Cleanup(func() { require.NoError(t, w.Stop(ctx)) })

	now := time.Now().UTC()
	tk := &task.Task{ID: "cgt-w", Tenant: "t", Dialect: "openai", Model: "seedance-1-0-pro", ModelAlias: "seedance-1-0-pro",
		Status: task.StatusSucceeded, Provider: "sandbox", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, st.CreateTask(ctx, tk))
	f := &task.File{ID: "file_cgt-w_video", Tenant: "t", Kind: "video", BlobKey: "results/cgt-w/video.mp4", TaskID: "cgt-w", CreatedAt: now}
	_, err = blobs.Put(ctx, f.BlobKey, bytes.NewReader([]byte("abc")))
	require.NoError(t, err)
	require.NoError(t, st.CreateFile(ctx, f))

	svc := New(Config{Store: st, Blobs: blobs, WakeSweeper: w.Wake})
	require.NoError(t, svc.Delete(ctx, "t", "cgt-w"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := blobs.Open(ctx, f.BlobKey)
		if errors.Is(err, blob.ErrNotFound) {
			break
		}
		require.True(t, time.Now().Before(deadline), "the blob of the deleted task's result is still stored")
		time.Sleep(5 * time.Millisecond)
	}
}

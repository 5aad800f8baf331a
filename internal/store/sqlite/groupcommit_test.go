package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
)

// Concurrent creates are committed together (far fewer commits than writes),
// and each is readable once acknowledged.
func TestGroupCommitBatchesConcurrentWrites(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	before := s.d.commits.Load()
	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			tk := sampleTask(fmt.Sprintf("batched-%03d", i))
			if err := s.CreateTask(ctx, tk); err != nil {
				errs <- err
				return
			}
			if _, err := s.GetTask(ctx, tk.ID); err != nil { // acknowledged = committed = visible
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	commits := s.d.commits.Load() - before
	require.Less(t, commits, int64(n), "writes waiting together share a commit")
	t.Logf("%d creates in %d commits", n, commits)

	var tempStore, sync int
	require.NoError(t, s.d.write.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&tempStore))
	require.Equal(t, 2, tempStore, "savepoint journals in memory")
	require.NoError(t, s.d.write.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync))
	require.Equal(t, 2, sync, "every commit still synced (FULL)")
}

// A write that fails in a batch is undone alone: the others commit.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	require.NoError(t, s.CreateTask(ctx, sampleTask("exists")))
	errBoom := errors.New("boom")
	var wg sync.WaitGroup
	results := make([]error, 60)
	for i := range results {
		wg.Go(func() {
			key := fmt.Sprintf("k%02d", i)
			switch i % 3 {
			case 0: // fails after writing: its row must not survive
				results[i] = s.d.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
					if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, 'x')`, key); err != nil {
						return err
					}
					return errBoom
				})
			case 1: // a constraint violation (a duplicate task) in the middle of a batch
				results[i] = s.CreateTask(ctx, sampleTask("exists"))
			default:
				results[i] = s.d.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, 'x')`, key)
					return err
				})
			}
		})
	}
	wg.Wait()
	for i, err := range results {
		key := fmt.Sprintf("k%02d", i)
		var n int
		require.NoError(t, s.d.read.QueryRowContext(ctx, `SELECT count(*) FROM settings WHERE key = ?`, key).Scan(&n))
		switch i % 3 {
		case 0:
			require.ErrorIs(t, err, errBoom)
			require.Zero(t, n, "%s was rolled back", key)
		case 1:
			require.ErrorIs(t, err, store.ErrConflict)
		default:
			require.NoError(t, err)
			require.Equal(t, 1, n, "%s committed", key)
		}
	}
}

// A caller that has given up before its write started gets its context's
// error and nothing is written; a panic in a write fails that write only.
func TestGroupCommitCancelAndPanic(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.d.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('cancelled', 'x')`)
		return err
	})
	require.ErrorIs(t, err, context.Canceled)

	err = s.d.inWriteTx(t.Context(), func(context.Context, *sql.Tx) error { panic("bug") })
	require.ErrorContains(t, err, "panicked")
	v, err := s.Setting(t.Context(), "after-panic", "still writing")
	require.NoError(t, err)
	require.Equal(t, "still writing", v)
	var n int
	require.NoError(t, s.d.read.QueryRowContext(t.Context(), `SELECT count(*) FROM settings WHERE key = 'cancelled'`).Scan(&n))
	require.Zero(t, n)
}

// Writes after Close fail instead of hanging.
func TestGroupCommitAfterClose(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), t.TempDir()+"/db.sqlite", nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.Error(t, s.CreateTask(t.Context(), sampleTask("late")))
}

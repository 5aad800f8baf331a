package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store/postgres/pgtest"
	"github.com/seedgate/seedgate/internal/task"
)

// One instance's writes are announced to another's listener: creates and
// visible changes, not lease or schedule bookkeeping, and only in its schema.
func TestListen(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	a, b := openAt(t, url), openAt(t, url)
	elsewhere := openTemp(t)

	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan struct{})
	ids := make(chan string, 100)
	done := make(chan error, 1)
	go func() {
		done <- a.Listen(ctx, func() { close(ready) }, func(id string) { ids <- id })
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("listener not ready")
	}
	next := func() string {
		t.Helper()
		select {
		case id := <-ids:
			return id
		case <-time.After(5 * time.Second):
			t.Fatal("no notification")
			return ""
		}
	}
	// none checks that the writes so far announced nothing: notifications
	// arrive in commit order, so anything they announced would come before the
	// create of marker.
	none := func(marker string) {
		t.Helper()
		require.NoError(t, b.CreateTask(ctx, sampleTask(marker)))
		require.Equal(t, marker, next(), "nothing announced before the marker")
	}

	require.NoError(t, elsewhere.CreateTask(ctx, sampleTask("other-schema")))
	tk := sampleTask("n1")
	require.NoError(t, b.CreateTask(ctx, tk))
	require.Equal(t, "n1", next(), "creates are announced")

	claimed, err := b.ClaimDue(ctx, "b", base, time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NoError(t, b.ExtendLease(ctx, "n1", "b", base.Add(time.Hour)))
	tk = claimed[0]
	later := base.Add(5 * time.Second)
	tk.NextCheckAt, tk.LeaseOwner, tk.LeaseUntil = &later, "", nil
	require.NoError(t, b.UpdateTask(ctx, tk))
	none("marker-1") // claims, lease renewals and rescheduling are not changes anyone waits for

	tk.Status = task.StatusRunning
	require.NoError(t, b.UpdateTask(ctx, tk))
	require.Equal(t, "n1", next(), "a status change is announced")
	tk.Progress = 40
	require.NoError(t, b.UpdateTask(ctx, tk))
	require.Equal(t, "n1", next(), "so is progress")

	stale := *tk
	stale.Version--
	stale.Status = task.StatusFailed
	require.Error(t, b.UpdateTask(ctx, &stale))
	none("marker-2") // a lost update announces nothing

	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

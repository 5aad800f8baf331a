package heartbeat_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/heartbeat"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/task"
)

// Two instances beat; one stops (a crash) while holding a task on a lease of
// an hour. The other frees that lease once the heartbeat is Stale old, not
// when the lease ends; a clean Stop frees the stopping instance's leases.
func TestDeadInstanceLeasesFreed(t *testing.T) {
	ctx := t.Context()
	clk := clockwork.NewFakeClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"), nil, store.Options{Now: clk.Now})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	for _, id := range []string{"t1", "t2"} {
		now := clk.Now()
		require.NoError(t, st.CreateTask(ctx, &task.Task{ID: id, Status: task.StatusQueued, Model: "m",
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour), NextCheckAt: &now}))
	}

	freed := make(chan struct{}, 10)
	base := baseservice.Archetype{Clock: clk}
	live := heartbeat.New(heartbeat.Config{Archetype: base, Store: st, ID: "live", Stale: 8 * time.Second,
		Freed: func() { freed <- struct{}{} }})
	dying := heartbeat.New(heartbeat.Config{Archetype: base, Store: st, ID: "dying", Stale: 8 * time.Second})
	require.Equal(t, 2*time.Second, live.Interval())
	live.Start(ctx)
	dying.Start(ctx)
	held, err := st.ClaimDue(ctx, "dying", clk.Now(), time.Hour, 1)
	require.NoError(t, err)
	require.Len(t, held, 1)
	mine, err := st.ClaimDue(ctx, "live", clk.Now(), time.Hour, 1)
	require.NoError(t, err)
	require.Len(t, mine, 1)
	require.NoError(t, clk.BlockUntilContext(ctx, 2), "both beat on their tickers")
	// The crash: dying's beats stop (its goroutine ends with its store writes).
	require.NoError(t, dying.StopBeating(ctx))

	for range 4 { // 8 s: dying's last beat is not older than Stale yet
		clk.Advance(live.Interval())
		require.NoError(t, clk.BlockUntilContext(ctx, 1))
	}
	claimed, err := st.ClaimDue(ctx, "other", clk.Now(), time.Minute, 10)
	require.NoError(t, err)
	require.Empty(t, claimed, "a fresh enough heartbeat keeps the lease")

	clk.Advance(live.Interval())
	select {
	case <-freed:
	case <-time.After(10 * time.Second):
		t.Fatal("the dead instance's leases were not freed")
	}
	claimed, err = st.ClaimDue(ctx, "other", clk.Now(), time.Minute, 10)
	require.NoError(t, err)
	require.Equal(t, []string{held[0].ID}, []string{claimed[0].ID}, "only the dead instance's task is free, 50 min before its lease ends")
	require.Len(t, claimed, 1)
	ins, err := st.ListInstances(ctx)
	require.NoError(t, err)
	require.Len(t, ins, 1)
	require.Equal(t, "live", ins[0].ID)

	// A clean stop frees the stopping instance's leases and forgets it.
	require.NoError(t, live.Stop(ctx))
	claimed, err = st.ClaimDue(ctx, "other", clk.Now(), time.Minute, 10)
	require.NoError(t, err)
	require.Equal(t, mine[0].ID, claimed[0].ID)
	ins, err = st.ListInstances(ctx)
	require.NoError(t, err)
	require.Empty(t, ins)
}

package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// instanceTests cover store.InstanceStore: heartbeats, and the leases of
// instances that stopped beating freed at once.
var instanceTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"InstanceHeartbeat", testInstanceHeartbeat},
	{"InstanceReapFreesLeases", testInstanceReap},
	{"InstanceReapConcurrent", testInstanceReapConcurrent},
	{"InstanceLeave", testInstanceLeave},
	{"InstanceTakeOver", testInstanceTakeOver},
}

func testInstanceHeartbeat(t *testing.T, s store.Store) {
	ctx := t.Context()
	known, err := s.Heartbeat(ctx, "a", base)
	require.NoError(t, err)
	require.False(t, known, "the first beat registers")
	known, err = s.Heartbeat(ctx, "b", base.Add(time.Second))
	require.NoError(t, err)
	require.False(t, known)
	known, err = s.Heartbeat(ctx, "a", base.Add(3*time.Second))
	require.NoError(t, err)
	require.True(t, known)

	ins, err := s.ListInstances(ctx)
	require.NoError(t, err)
	require.Equal(t, []store.Instance{
		{ID: "a", StartedAt: msTime(base), HeartbeatAt: msTime(base.Add(3 * time.Second))},
		{ID: "b", StartedAt: msTime(base.Add(time.Second)), HeartbeatAt: msTime(base.Add(time.Second))},
	}, ins)
}

// leaseFixture has instances dead (last beat at base) and alive (beating at
// base+20s), each holding a due task and a webhook message on long leases,
// and a task leased by a holder that never beat. It returns what each claimed.
func leaseFixture(t *testing.T, s store.Store) map[string][]*task.Task {
	ctx := t.Context()
	names := []string{"dead-1", "dead-2", "alive-1", "alive-2", "nobody-1"}
	url := func(id string) string { return "https://" + id + ".example.com/hook" }
	for i, id := range names {
		tk := callbackTask(id, url(id))
		tk.NextCheckAt = ptr(base.Add(-time.Duration(5-i) * time.Second))
		create(t, s, tk)
	}
	claimed := map[string][]*task.Task{}
	for _, owner := range []string{"dead", "alive", "nobody"} {
		ts, err := s.ClaimDue(ctx, owner, base, time.Hour, 2)
		require.NoError(t, err)
		claimed[owner] = ts
		var others []string // each owner takes the messages of its tasks
		for _, id := range names {
			if !slices.ContainsFunc(ts, func(tk *task.Task) bool { return tk.ID == id }) {
				others = append(others, store.WebhookEndpoint(url(id)))
			}
		}
		ms, err := s.ClaimWebhooks(ctx, owner, base.Add(time.Second), time.Hour, 10, store.WebhookSkip{Endpoints: others})
		require.NoError(t, err)
		require.Len(t, ms, len(ts))
	}
	require.Equal(t, []string{"dead-1", "dead-2"}, ids(claimed["dead"]))
	require.Equal(t, []string{"alive-1", "alive-2"}, ids(claimed["alive"]))
	require.Equal(t, []string{"nobody-1"}, ids(claimed["nobody"]))
	_, err := s.Heartbeat(ctx, "dead", base)
	require.NoError(t, err)
	_, err = s.Heartbeat(ctx, "alive", base)
	require.NoError(t, err)
	_, err = s.Heartbeat(ctx, "alive", base.Add(20*time.Second))
	require.NoError(t, err)
	return claimed
}

// claimable lists what a new owner can claim at base+21s (every lease of
// the fixture runs an hour): tasks, then messages.
func claimable(t *testing.T, s store.Store) (tasks, messages []string) {
	now := base.Add(21 * time.Second)
	ts, err := s.ClaimDue(t.Context(), "newcomer", now, time.Minute, 100)
	require.NoError(t, err)
	ms, err := s.ClaimWebhooks(t.Context(), "newcomer", now, time.Minute, 100, store.WebhookSkip{})
	require.NoError(t, err)
	for _, m := range ms {
		messages = append(messages, m.TaskID)
	}
	slices.Sort(messages)
	return ids(ts), messages
}

func testInstanceReap(t *testing.T, s store.Store) {
	ctx := t.Context()
	claimed := leaseFixture(t, s)

	// Nothing is stale yet at base: nothing is freed.
	reaped, freed, err := s.ReapInstances(ctx, base)
	require.NoError(t, err)
	require.Empty(t, reaped)
	require.Zero(t, freed)

	reaped, freed, err = s.ReapInstances(ctx, base.Add(10*time.Second))
	require.NoError(t, err)
	require.Equal(t, []string{"dead"}, reaped)
	require.Equal(t, int64(4), freed, "two tasks and their messages")
	ins, err := s.ListInstances(ctx)
	require.NoError(t, err)
	require.Len(t, ins, 1)
	require.Equal(t, "alive", ins[0].ID)

	// The dead instance's work is free for anyone at once, an hour before its
	// leases would have ended; the live instance's and the unknown holder's are not.
	tasks, messages := claimable(t, s)
	require.Equal(t, []string{"dead-1", "dead-2"}, tasks)
	require.Equal(t, []string{"dead-1", "dead-2"}, messages)

	// The freed holder's writes lose, should it still be running.
	old := claimed["dead"][0]
	require.ErrorIs(t, s.ExtendLease(ctx, old.ID, "dead", base.Add(2*time.Hour)), store.ErrConflict)
	old.Status = task.StatusRunning
	require.ErrorIs(t, s.UpdateTask(ctx, old), store.ErrConflict)
	live := claimed["alive"][0]
	require.NoError(t, s.ExtendLease(ctx, live.ID, "alive", base.Add(2*time.Hour)))

	// A reaped instance that beats again is told it was unknown.
	known, err := s.Heartbeat(ctx, "dead", base.Add(30*time.Second))
	require.NoError(t, err)
	require.False(t, known)
}

func testInstanceReapConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const instances = 20
	for i := range instances {
		id := fmt.Sprintf("i%02d", i)
		_, err := s.Heartbeat(ctx, id, base)
		require.NoError(t, err)
		tk := newTask("task-" + id)
		tk.NextCheckAt = ptr(base)
		create(t, s, tk)
		ts, err := s.ClaimDue(ctx, id, base, time.Hour, 1)
		require.NoError(t, err)
		require.Len(t, ts, 1)
	}
	var (
		mu    sync.Mutex
		seen  = map[string]int{}
		total int64
		wg    sync.WaitGroup
		errs  = make(chan error, 4)
	)
	for range 4 {
		wg.Go(func() {
			ids, freed, err := s.ReapInstances(context.Background(), base.Add(time.Minute))
			errs <- err
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				seen[id]++
			}
			total += freed
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, seen, instances)
	for id, n := range seen {
		require.Equal(t, 1, n, "instance %s reaped once", id)
	}
	require.Equal(t, int64(instances), total, "each lease freed once")
}

func testInstanceLeave(t *testing.T, s store.Store) {
	ctx := t.Context()
	leaseFixture(t, s)
	freed, err := s.LeaveInstance(ctx, "alive")
	require.NoError(t, err)
	require.Equal(t, int64(4), freed)
	ins, err := s.ListInstances(ctx)
	require.NoError(t, err)
	require.Len(t, ins, 1)
	require.Equal(t, "dead", ins[0].ID, "only the leaving instance goes")
	tasks, messages := claimable(t, s)
	require.Equal(t, []string{"alive-1", "alive-2"}, tasks)
	require.Equal(t, []string{"alive-1", "alive-2"}, messages)
}

func testInstanceTakeOver(t *testing.T, s store.Store) {
	ctx := t.Context()
	leaseFixture(t, s)
	// A finished task keeps what it had.
	done := newTask("done")
	done.Status, done.LeaseOwner, done.LeaseUntil = task.StatusSucceeded, "dead", ptr(base.Add(time.Hour))
	create(t, s, done)
	done = get(t, s, "done")

	freed, err := s.TakeOver(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(10), freed, "five tasks and their messages")
	ins, err := s.ListInstances(ctx)
	require.NoError(t, err)
	require.Empty(t, ins)
	tasks, messages := claimable(t, s)
	require.Equal(t, []string{"dead-1", "dead-2", "alive-1", "alive-2", "nobody-1"}, tasks)
	require.Len(t, messages, 5)
	requireTask(t, done, get(t, s, "done"))
}

package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// upstreamTests run against stores implementing store.UpstreamStore.
var upstreamTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store, u store.Store)
}{
	{"ClaimDueChecks", testClaimDueChecks},
	{"KeyLoad", testKeyLoad},
	{"MakeDue", testMakeDue},
}

func testClaimDueChecks(t *testing.T, s store.Store, u store.Store) {
	now := claimNow
	mk := func(id, provider, upstreamID string, next time.Duration) *task.Task {
		tk := newTask(id)
		tk.Provider, tk.UpstreamID = provider, upstreamID
		tk.NextCheckAt = ptr(now.Add(next))
		return tk
	}
	done := mk("done", "ark", "up-done", -time.Hour)
	done.Status = task.StatusSucceeded
	create(t, s,
		mk("check-b", "ark", "up-b", -time.Minute),
		mk("check-a", "ark", "up-a", -2*time.Minute),
		mk("dispatch", "ark", "", -3*time.Minute), // no upstream id yet: a dispatch, not a check
		mk("other-provider", "sandbox", "sb-1", -time.Minute),
		mk("not-due", "ark", "up-later", time.Minute),
		done,
	)
	const lease = 30 * time.Second
	none, err := u.ClaimDueChecks(t.Context(), "me", now, lease, nil, 10)
	require.NoError(t, err)
	require.Empty(t, none, "no providers, nothing claimed")

	got, err := u.ClaimDueChecks(t.Context(), "me", now, lease, []string{"ark"}, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"check-a", "check-b"}, ids(got), "NextCheckAt order")
	for _, c := range got {
		require.Equal(t, "me", c.LeaseOwner)
		require.True(t, c.LeaseUntil.Equal(msTime(now.Add(lease))))
		require.Equal(t, int64(2), c.Version)
		requireTask(t, c, get(t, s, c.ID))
	}
	again, err := u.ClaimDueChecks(t.Context(), "you", now, lease, []string{"ark"}, 10)
	require.NoError(t, err)
	require.Empty(t, again, "leased checks are not claimed twice")
	// The general claim sees what is left, the batch claim did not take it.
	rest, err := s.ClaimDue(t.Context(), "you", now, lease, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"dispatch", "other-provider"}, ids(rest))

	later := now.Add(2 * time.Minute)
	both, err := u.ClaimDueChecks(t.Context(), "third", later, lease, []string{"sandbox", "ark"}, 2)
	require.NoError(t, err)
	require.Len(t, both, 2, "limit")
}

func testKeyLoad(t *testing.T, s store.Store, u store.Store) {
	const model = "seedance-1-0-pro"
	mk := func(id string, status task.Status, provider, channel, key, m string) *task.Task {
		tk := newTask(id)
		tk.Status, tk.Provider, tk.Channel, tk.UpstreamKey, tk.Model = status, provider, channel, key, m
		return tk
	}
	create(t, s,
		mk("q1", task.StatusQueued, "ark", "c1", "k1", model),
		mk("r1", task.StatusRunning, "ark", "c1", "k1", model),
		mk("r2", task.StatusRunning, "ark", "c2", "k9", model),
		mk("waiting", task.StatusQueued, "ark", "", "", model), // queued in the gateway, no key
		mk("done", task.StatusSucceeded, "ark", "c1", "k1", model),
		mk("other-model", task.StatusRunning, "ark", "c1", "k1", "seedance-2-0"),
		mk("other-provider", task.StatusRunning, "sandbox", "c1", "k1", model),
	)
	got, err := u.KeyLoad(t.Context(), "ark", model)
	require.NoError(t, err)
	slices.SortFunc(got, func(a, b store.KeySlot) int {
		if a.TaskID < b.TaskID {
			return -1
		}
		return 1
	})
	require.Equal(t, []store.KeySlot{
		{TaskID: "q1", Channel: "c1", UpstreamKey: "k1"},
		{TaskID: "r1", Channel: "c1", UpstreamKey: "k1"},
		{TaskID: "r2", Channel: "c2", UpstreamKey: "k9"},
	}, got)

	// Finishing a task frees its slot.
	r1 := get(t, s, "r1")
	r1.Status = task.StatusSucceeded
	require.NoError(t, s.UpdateTask(t.Context(), r1))
	got, err = u.KeyLoad(t.Context(), "ark", model)
	require.NoError(t, err)
	require.Len(t, got, 2)

	empty, err := u.KeyLoad(t.Context(), "ark", "seedance-1-0-lite-t2v")
	require.NoError(t, err)
	require.NotNil(t, empty)
	require.Empty(t, empty)
}

func testMakeDue(t *testing.T, s store.Store, u store.Store) {
	now := claimNow
	at := now.Add(500 * time.Millisecond)
	mk := func(id string, status task.Status, next *time.Time) *task.Task {
		tk := newTask(id)
		tk.Status, tk.NextCheckAt = status, next
		return tk
	}
	leased := mk("leased", task.StatusRunning, ptr(now.Add(time.Hour)))
	leased.LeaseOwner, leased.LeaseUntil = "other", ptr(now.Add(time.Minute))
	lapsed := mk("lapsed-lease", task.StatusRunning, ptr(now.Add(time.Hour)))
	lapsed.LeaseOwner, lapsed.LeaseUntil = "dead", ptr(now.Add(-time.Second))
	create(t, s,
		mk("later", task.StatusRunning, ptr(now.Add(time.Hour))),
		mk("unscheduled", task.StatusQueued, nil),
		mk("sooner", task.StatusRunning, ptr(now.Add(100*time.Millisecond))),
		mk("done", task.StatusSucceeded, ptr(now.Add(time.Hour))),
		leased, lapsed,
		mk("not-asked", task.StatusRunning, ptr(now.Add(time.Hour))),
	)
	n, err := u.MakeDue(t.Context(), []string{"later", "unscheduled", "sooner", "done", "leased", "lapsed-lease", "missing"}, at, now)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	for id, want := range map[string]time.Time{
		"later": at, "unscheduled": at, "lapsed-lease": at,
		"sooner": now.Add(100 * time.Millisecond), "done": now.Add(time.Hour), "leased": now.Add(time.Hour), "not-asked": now.Add(time.Hour),
	} {
		got := get(t, s, id)
		require.True(t, got.NextCheckAt.Equal(msTime(want)), "%s: next check %v, want %v", id, got.NextCheckAt, want)
		moved := id == "later" || id == "unscheduled" || id == "lapsed-lease"
		require.Equal(t, map[bool]int64{true: 2, false: 1}[moved], got.Version, "%s: version", id)
	}
	n, err = u.MakeDue(t.Context(), nil, at, now)
	require.NoError(t, err)
	require.Zero(t, n)
}

package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// statsTests are the counts operators watch (stats.go of package store).
var statsTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"LiveCounts", testLiveCounts},
}

func testLiveCounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	c, err := s.LiveCounts(ctx)
	require.NoError(t, err)
	require.Empty(t, c.Tasks, "an empty store")
	require.Zero(t, c.WebhooksPending)

	create(t, s, newTask("q1"), newTask("q2"), callbackTask("r1", "https://example.com/a"),
		callbackTask("done", "https://example.com/b"))
	r1 := get(t, s, "r1")
	r1.Status = task.StatusRunning
	require.NoError(t, s.UpdateTask(ctx, r1))
	done := get(t, s, "done")
	now := base.Add(time.Minute)
	done.Status, done.FinishedAt = task.StatusSucceeded, &now
	require.NoError(t, s.UpdateTask(ctx, done))

	c, err = s.LiveCounts(ctx)
	require.NoError(t, err)
	require.Equal(t, map[task.Status]int64{task.StatusQueued: 2, task.StatusRunning: 1}, c.Tasks,
		"finished tasks are not counted")
	// r1: queued and running events; done: queued and succeeded.
	require.EqualValues(t, 4, c.WebhooksPending)

	// A delivered message leaves the backlog.
	msgs, err := s.ClaimWebhooks(ctx, "me", base.Add(time.Hour), time.Minute, 1, store.WebhookSkip{})
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	m := msgs[0]
	m.State, m.Attempts, m.DeliveredAt, m.UpdatedAt = store.WebhookDelivered, 1, &now, now
	require.NoError(t, s.RecordWebhookAttempt(ctx, "me", m, store.WebhookAttempt{N: 1, StartedAt: now, StatusCode: 204}))
	c, err = s.LiveCounts(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 3, c.WebhooksPending)
}

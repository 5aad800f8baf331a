package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// testTraceParent: the trace context a task is created with comes back from
// every read (get, list, both claims), survives the scheduler's updates, and
// travels in the webhook snapshot (the delivery's span joins the trace).
func testTraceParent(t *testing.T, s store.Store) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tk := newTask("traced")
	tk.TraceParent = tp
	tk.Provider, tk.UpstreamID = "ark", "cgt-1"
	tk.NextCheckAt = ptr(claimNow.Add(-time.Second))
	tk.Request.CallbackURL = "https://example.com/hook"
	plain := newTask("untraced")
	plain.NextCheckAt = nil
	create(t, s, tk, plain)

	require.Equal(t, tp, get(t, s, "traced").TraceParent)
	require.Empty(t, get(t, s, "untraced").TraceParent)

	page, err := s.ListTasks(t.Context(), store.TaskFilter{})
	require.NoError(t, err)
	for _, got := range page.Tasks {
		if got.ID == "traced" {
			require.Equal(t, tp, got.TraceParent, "list")
		}
	}
	checks, err := s.ClaimDueChecks(t.Context(), "me", claimNow, time.Minute, []string{"ark"}, 10)
	require.NoError(t, err)
	require.Len(t, checks, 1)
	require.Equal(t, tp, checks[0].TraceParent, "claimed check")

	c := checks[0]
	c.Status, c.LeaseOwner, c.LeaseUntil = task.StatusRunning, "", nil
	c.NextCheckAt = ptr(claimNow.Add(-time.Millisecond))
	require.NoError(t, s.UpdateTask(t.Context(), c))
	claimed, err := s.ClaimDue(t.Context(), "me", claimNow, time.Minute, 10)
	require.NoError(t, err)
	require.Equal(t, []string{"traced"}, ids(claimed))
	require.Equal(t, tp, claimed[0].TraceParent, "claimed after an update")

	msgs, err := s.ListWebhookMessages(t.Context(), "traced")
	require.NoError(t, err)
	require.NotEmpty(t, msgs)
	for _, m := range msgs {
		var snap struct {
			TraceParent string `json:"trace_parent"`
		}
		require.NoError(t, json.Unmarshal(m.Snapshot, &snap))
		require.Equal(t, tp, snap.TraceParent, "webhook snapshot of %s", m.Status)
	}
}

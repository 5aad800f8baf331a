package events

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/task"
)

func TestSubscribersSeeNewestState(t *testing.T) {
	t.Parallel()
	h := NewHub()
	ch, stop := h.Subscribe("a")
	other, stopOther := h.Subscribe("b")
	defer stopOther()

	h.Publish(&task.Task{ID: "a", Status: task.StatusQueued})
	h.Publish(&task.Task{ID: "a", Status: task.StatusRunning}) // replaces the unread one
	got := <-ch
	require.Equal(t, task.StatusRunning, got.Status)
	select {
	case <-other:
		t.Fatal("subscriber of b got a's change")
	default:
	}

	stop()
	h.Publish(&task.Task{ID: "a", Status: task.StatusSucceeded}) // no subscriber: must not block
	require.NotContains(t, h.subs, "a")
}

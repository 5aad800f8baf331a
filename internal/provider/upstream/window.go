package upstream

import (
	"math"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// ExecutionWindow is the execution window, in seconds, of a create now: the
// client's window counted from the gateway's created time (as upstreams count
// from their own), but never below the upstream minimum.
func ExecutionWindow(t *task.Task, now time.Time) int {
	want := t.Request.ExpiresAfter()
	left := int(math.Ceil(t.ExpiresAt.Sub(now).Seconds()))
	if t.ExpiresAt.IsZero() {
		left = want
	}
	return min(max(min(left, want), task.MinExecutionExpiresAfter), task.MaxExecutionExpiresAfter)
}

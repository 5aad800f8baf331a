package store

import (
	"context"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// UpstreamStore holds the queries of upstream channels: batched status checks
// and per-key load.
type UpstreamStore interface {
	// ClaimDueChecks is ClaimDue restricted to tasks of the named providers that
	// have an UpstreamID (status checks), so one scheduler step can check many
	// of them with one upstream call.
	ClaimDueChecks(ctx context.Context, owner string, now time.Time, lease time.Duration, providers []string, limit int) ([]*task.Task, error)
	// KeyLoad lists the live (non-terminal) tasks of provider and model that
	// hold an upstream key (UpstreamKey set), for per-key concurrency limits.
	KeyLoad(ctx context.Context, provider, model string) ([]KeySlot, error)
	// MakeDue moves the next check of the listed live tasks forward to at
	// (a task due sooner keeps its time), bumping their versions, and says how
	// many it moved. Tasks leased at now are left alone: their step is running.
	// Unknown ids are ignored. One statement for many tasks: upstream callbacks
	// come in bursts.
	MakeDue(ctx context.Context, ids []string, at, now time.Time) (int, error)
}

// KeySlot is a live task holding a slot on an upstream key.
type KeySlot struct {
	TaskID      string
	Channel     string
	UpstreamKey string
}

package store

import (
	"context"

	"github.com/seedgate/seedgate/internal/task"
)

// StatsQueries are the counts operators watch (package metrics asks them at
// scrape time): cheap, answered from the indexes of live rows.
type StatsQueries interface {
	// LiveCounts counts the tasks not finished yet by status, and the webhook
	// messages waiting for delivery.
	LiveCounts(ctx context.Context) (LiveCounts, error)
}

// LiveCounts is the work in the queues now.
type LiveCounts struct {
	// Tasks counts the unfinished tasks by status (queued, running); a status
	// without tasks may be missing.
	Tasks map[task.Status]int64
	// WebhooksPending counts the webhook messages not delivered yet (due or
	// waiting for a retry).
	WebhooksPending int64
}

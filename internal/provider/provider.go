// Package provider defines what the scheduler drives: something that takes a task,
// creates it somewhere (the sandbox renderer, an Ark channel), and reports back.
package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// Provider runs tasks. Implementations must be safe for concurrent use.
type Provider interface {
	// Name is stored on each task it owns ("sandbox", "ark").
	Name() string
	// Submit creates the task at the provider and returns its id there.
	// When t.DispatchedAt is set a previous Submit may have succeeded without the
	// gateway learning the id: the provider must find that task (reconcile) rather
	// than create a second one.
	// A *task.Error return fails the task for good; a *TransientError is retried.
	Submit(ctx context.Context, t *task.Task) (upstreamID string, err error)
	// Check reads the task's state at the provider.
	Check(ctx context.Context, t *task.Task) (Update, error)
	// Cancel stops a task that is still queued at the provider. A *task.Error with
	// CodeConflict means the provider refuses (e.g. already running).
	Cancel(ctx context.Context, t *task.Task) error
}

// Update is what Check learned.
type Update struct {
	Status task.Status
	// Progress estimate in percent, when the provider knows better than elapsed time.
	Progress int
	Result   *task.Result // set for StatusSucceeded
	Usage    *task.Usage  // set for StatusSucceeded
	Error    *task.Error  // set for StatusFailed
	// Video and LastFrame are result files the provider already stored in blob
	// storage (the sandbox); the scheduler records them and builds their URLs.
	// Nil for providers whose results are mirrored from an upstream URL.
	Video     *task.File
	LastFrame *task.File
	// NextCheck hints when to look again (0: the scheduler decides).
	NextCheck time.Duration
}

// TransientError marks a failure worth retrying: rate limits, 5xx, timeouts,
// a renderer that crashed. RetryAfter is a hint (0: use backoff).
type TransientError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *TransientError) Error() string { return fmt.Sprintf("transient: %v", e.Err) }
func (e *TransientError) Unwrap() error { return e.Err }

// Transient wraps err as a TransientError.
func Transient(err error, retryAfter time.Duration) error {
	return &TransientError{Err: err, RetryAfter: retryAfter}
}

// IsTransient reports whether err is worth retrying, and the hinted delay.
func IsTransient(err error) (time.Duration, bool) {
	var te *TransientError
	if errors.As(err, &te) {
		return te.RetryAfter, true
	}
	return 0, false
}

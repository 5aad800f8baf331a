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
	// Error is set for StatusFailed; on a queued or running update it is a
	// problem being retried (e.g. copying the result), shown on the task.
	Error *task.Error
	// Video and LastFrame are result files already stored in blob storage
	// (by the sandbox, or by the scheduler's mirror step); the scheduler
	// records them and builds their URLs. A provider whose results stay at
	// the upstream reports success with Result.UpstreamVideoURL set and no
	// files: the scheduler then mirrors them (package mirror) before the task
	// succeeds.
	Video     *task.File
	LastFrame *task.File
	// Thumbnail is a still of the video, stored like Video (nil: none).
	Thumbnail *task.File
	// RunTime is how long the upstream took from create to result, when it
	// says: it refines the expected finish times checks are paced by.
	RunTime time.Duration
	// NextCheck hints when to look again (0: the scheduler decides).
	NextCheck time.Duration
	// CheckAt, when set, is when to look again, and wins over NextCheck: an
	// absolute time lets a provider line tasks up on the same instants, so
	// that their checks are claimed, and answered, in one batch.
	CheckAt time.Time
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

// Optional interfaces the scheduler uses when a provider implements them
// (upstream channels: provider/ark).

// Reconciler is a provider whose creates can end without an answer (a timeout,
// a dropped connection). Before dispatching a task whose earlier create may
// have gone through (t.DispatchedAt set, no UpstreamID), the scheduler calls
// Reconcile instead of Submit. It returns the upstream id when it finds the
// task; "" with a nil error when it is certain none exists (the scheduler then
// dispatches afresh); or an error (a *TransientError: look again later).
// For a Reconciler, Submit is only ever called right after a fresh dispatch
// intent was recorded, so Submit itself never needs to reconcile.
type Reconciler interface {
	Reconcile(ctx context.Context, t *task.Task) (upstreamID string, err error)
}

// BatchChecker reads the state of many tasks with few upstream calls. The
// scheduler claims due status checks of such providers in batches. Tasks
// missing from the returned map are checked one by one with Check when err
// is nil, and retried later with err otherwise.
type BatchChecker interface {
	CheckBatch(ctx context.Context, ts []*task.Task) (map[string]Update, error)
}

// WaitError is Submit's answer when the provider has no room for the task now
// (every channel at its limits or cooling down) and created nothing upstream:
// the task stays queued in the gateway and is dispatched afresh after After.
// It is not a failure: no attempt is counted.
type WaitError struct {
	After  time.Duration
	Reason string
}

func (e *WaitError) Error() string { return "waiting for upstream capacity: " + e.Reason }

// Wait returns a *WaitError.
func Wait(after time.Duration, reason string) error {
	return &WaitError{After: after, Reason: reason}
}

// IsWait reports whether err is a *WaitError, and its delay.
func IsWait(err error) (time.Duration, bool) {
	var we *WaitError
	if errors.As(err, &we) {
		return we.After, true
	}
	return 0, false
}

// Validator is a provider that can tell at create time that it could never
// run a task (an input it cannot send upstream, a field no channel carries):
// the create is refused with that *task.Error instead of storing a task that
// would fail. t is the task about to be stored.
type Validator interface {
	Validate(ctx context.Context, t *task.Task) error
}

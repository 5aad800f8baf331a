// Package scheduler moves tasks through their lifecycle. The task rows are the
// queue: due tasks are claimed under a lease, so a task is worked on by one
// instance at a time and picked up again if that instance dies.
//
// Per task a step is one of: dispatch (record the intent, then create at the
// provider, then record the provider's id), check (read the provider's state),
// mirror (copy a result the provider left at upstream URLs into blob storage,
// see package mirror), or expire. A crash between any two writes leaves a state the next step
// continues from; a create whose answer was lost is reconciled by the provider,
// never blindly re-sent.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/claimloop"
	"github.com/seedgate/seedgate/internal/events"
	"github.com/seedgate/seedgate/internal/mirror"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/startstop"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/tracing"
)

// Config wires a Scheduler.
type Config struct {
	// Archetype is the logger and clock (app's; defaults: discard, real time).
	baseservice.Archetype
	Store     store.Store
	Providers map[string]provider.Provider
	Hub       *events.Hub
	// Owner names this instance in leases (unique per process).
	Owner   string
	Workers int
	Lease   time.Duration
	// PollInterval bounds how long the loop sleeps without a wake-up (other
	// instances' work and expired leases are only seen by polling).
	PollInterval time.Duration
	// CheckInterval is the default delay between status checks.
	CheckInterval time.Duration
	// Mirror copies results that providers report at upstream URLs (package
	// mirror). Without it such results are recorded as they are.
	Mirror Mirror
	// CheckBatchSize is how many due status checks of a provider.BatchChecker
	// one step claims and hands over at once (default 500).
	CheckBatchSize int
}

// Mirror runs the mirror step of a task whose result waits at upstream URLs
// (mirror.Mirror).
type Mirror interface {
	// Step copies the result: success with the files, a retry (running, with
	// the reason and when), or failure.
	Step(ctx context.Context, t *task.Task) provider.Update
	// Thumbnail makes a still of the copied video, once the success is recorded.
	Thumbnail(ctx context.Context, t *task.Task) (*task.File, error)
}

// Scheduler runs the claim loop and a pool of workers. Start/Stop, like every
// background service here.
type Scheduler struct {
	c     Config
	log   *slog.Logger
	run   startstop.Base
	loop  *claimloop.Loop
	spans tracing.Steps
	// batchers are the providers that check tasks in batches (provider.BatchChecker).
	batchers []string

	thumbs chan *task.Task // successes waiting for their thumbnail (queueThumbnail)

	mu       sync.Mutex
	inflight map[string]bool      // tasks this instance is working on
	nudged   map[string]time.Time // tasks told to look again while leased (Nudge)
	toNudge  map[string]time.Time // nudges not yet written (flushNudges)
	nudgeCh  chan struct{}
}

// New returns a stopped Scheduler.
func New(c Config) *Scheduler {
	c.Archetype = c.Archetype.WithDefaults()
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.CheckInterval <= 0 {
		c.CheckInterval = 5 * time.Second
	}
	if c.Hub == nil {
		c.Hub = events.NewHub()
	}
	if c.CheckBatchSize <= 0 {
		c.CheckBatchSize = 500
	}
	s := &Scheduler{c: c, log: c.Logger.With("component", "scheduler"), inflight: map[string]bool{},
		nudged: map[string]time.Time{}, toNudge: map[string]time.Time{}, nudgeCh: make(chan struct{}, 1),
		thumbs: make(chan *task.Task, thumbnailQueue), spans: tracing.NewSteps(c.TracerProvider)}
	s.loop = claimloop.New(claimloop.Config{Workers: c.Workers, PollInterval: c.PollInterval, Clock: c.Clock,
		Claim: s.claim, Sleep: s.sleep})
	for name, p := range c.Providers {
		if _, ok := p.(provider.BatchChecker); ok {
			s.batchers = append(s.batchers, name)
		}
	}
	slices.Sort(s.batchers)
	return s
}

// Wake makes the loop look for due work now (e.g. after a create).
func (s *Scheduler) Wake() { s.loop.Wake() }

// Start runs the loop until Stop; starting a running scheduler does nothing.
func (s *Scheduler) Start(ctx context.Context) {
	run := []func(context.Context){s.loop.Run, s.flushNudges}
	if s.c.Mirror != nil {
		run = append(run, s.thumbnailer)
	}
	s.run.Go(ctx, run...)
}

// Stop stops claiming, and waits for steps in progress until ctx ends; steps
// still running then are abandoned (their leases are freed when the instance
// leaves, see package heartbeat, and the work resumes elsewhere or after
// restart). Stopping a stopped scheduler does nothing.
func (s *Scheduler) Stop(ctx context.Context) error {
	if err := s.run.Stop(ctx); err != nil {
		return fmt.Errorf("scheduler stop: %w", err)
	}
	return nil
}

// claim claims due work for free worker slots (claimloop.Config.Claim).
func (s *Scheduler) claim(ctx context.Context, now time.Time, free int) (claimed int, more bool) {
	if len(s.batchers) > 0 {
		claimed, more = s.claimBatch(ctx, now)
	}
	if free = s.loop.Free(); free <= 0 {
		return claimed, more
	}
	tasks, err := s.c.Store.ClaimDue(ctx, s.c.Owner, now, s.c.Lease, free)
	if err != nil && ctx.Err() == nil {
		s.log.Error("claim failed", "err", err)
	}
	var checks []*task.Task // checks that fell due after claimBatch: one batch too
	for _, t := range tasks {
		if t.UpstreamID != "" && slices.Contains(s.batchers, t.Provider) {
			checks = append(checks, t)
			continue
		}
		s.loop.Go(func() { s.work(ctx, t) })
	}
	if len(checks) > 0 {
		s.loop.Go(func() { s.workBatch(ctx, checks) })
	}
	return claimed + len(tasks), more || (len(tasks) > 0 && len(tasks) == free)
}

// claimBatch claims due status checks of the batching providers and checks
// them on one worker slot. It reports how many it claimed and whether that
// was a full batch.
func (s *Scheduler) claimBatch(ctx context.Context, now time.Time) (int, bool) {
	tasks, err := s.c.Store.ClaimDueChecks(ctx, s.c.Owner, now, s.c.Lease, s.batchers, s.c.CheckBatchSize)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("claim of status checks failed", "err", err)
		}
		return 0, false
	}
	if len(tasks) == 0 {
		return 0, false
	}
	s.loop.Go(func() { s.workBatch(ctx, tasks) })
	return len(tasks), len(tasks) == s.c.CheckBatchSize
}

// sleep is how long the loop may wait: until the next task is due, at most
// the poll interval.
func (s *Scheduler) sleep(ctx context.Context) time.Duration {
	next, err := s.c.Store.NextDue(ctx)
	if err != nil {
		next = time.Time{}
	}
	return s.loop.Until(next)
}

// work runs one step of t under its lease.
func (s *Scheduler) work(ctx context.Context, t *task.Task) {
	s.enter(t.ID)
	defer s.leave(ctx, t.ID)
	// held ends when the lease does: the task was deleted or taken over.
	held, lost := context.WithCancelCause(ctx)
	defer lost(nil)
	stopRenew := s.renewLease(ctx, t.ID, lost)
	defer stopRenew()
	s.guarded(ctx, t, func() { s.step(ctx, held, t) })
}

var (
	// errLeaseLost ends a step whose task was deleted or taken over.
	errLeaseLost = errors.New("the task is no longer held: deleted or taken over")
	// errExpired ends a status check when the task's execution window closes.
	errExpired = errors.New("the task's execution window closed")
)

// guarded runs fn, turning a panic into a retry of t's step.
func (s *Scheduler) guarded(ctx context.Context, t *task.Task, fn func()) {
	defer func() {
		if r := recover(); r != nil { // a provider bug must not take the gateway down
			s.log.ErrorContext(ctx, "step panicked", "task", t.ID, "status", t.Status, "panic", r)
			s.retryLater(ctx, t, fmt.Errorf("panic: %v", r), 0)
		}
	}()
	fn()
}

// step does what t needs next, in a span of t's trace. held is ctx while
// the lease is held.
func (s *Scheduler) step(ctx, held context.Context, t *task.Task) {
	now := s.c.Now().UTC()
	p := s.c.Providers[t.Provider]
	var run func(ctx context.Context)
	name := spanCheck
	switch {
	case s.mirrorDue(t):
		// The upstream finished: the copy has its own deadline, whatever the
		// provider or the execution window.
		name, run = spanMirror, func(ctx context.Context) { s.mirror(ctx, t) }
	case p == nil:
		name, run = spanFail, func(ctx context.Context) {
			s.finish(ctx, t, task.StatusFailed, &task.Error{Code: task.CodeUnavailable, Message: fmt.Sprintf("provider %q is not configured", t.Provider)})
		}
	case !now.Before(t.ExpiresAt):
		name, run = spanExpire, func(ctx context.Context) { s.expire(ctx, p, t) }
	case t.UpstreamID == "":
		name, run = spanDispatch, func(ctx context.Context) { s.dispatch(ctx, p, t) }
	default:
		run = func(ctx context.Context) { s.check(ctx, held, p, t) }
	}
	ctx, span := s.startStep(ctx, name, t)
	defer s.endStep(span, t)
	held = s.spans.With(held, span) // run reads held: the provider's calls are in the span too
	run(ctx)
}

func (s *Scheduler) dispatch(ctx context.Context, p provider.Provider, t *task.Task) {
	if r, ok := p.(provider.Reconciler); ok && t.DispatchedAt != nil {
		// An earlier create may have gone through: look for it first.
		id, err := r.Reconcile(ctx, t)
		switch {
		case err != nil:
			s.stepFailed(ctx, t, err)
			return
		case id != "":
			s.submitted(ctx, t, id)
			return
		}
		t.DispatchedAt = nil // certainly nothing upstream: dispatch afresh
	}
	if t.DispatchedAt == nil {
		// Record the intent before calling out: if we die during the call, the next
		// attempt knows a task may exist upstream and reconciles instead of re-creating.
		now := s.c.Now().UTC().Truncate(time.Millisecond)
		t.DispatchedAt = &now
		if !s.write(ctx, t) { // keeps the lease: no other worker may submit meanwhile
			return
		}
	}
	id, err := p.Submit(ctx, t)
	if after, ok := provider.IsWait(err); ok {
		// Nothing was created: the task waits in the gateway's queue, and is
		// dispatched afresh later (no attempt is counted).
		at := s.c.Now().UTC().Add(after).Truncate(time.Millisecond)
		t.DispatchedAt, t.NextCheckAt = nil, &at
		s.log.DebugContext(ctx, "no upstream capacity; task stays queued", "task", t.ID, "in", after, "reason", err)
		s.save(ctx, t)
		return
	}
	if err != nil {
		s.stepFailed(ctx, t, err)
		return
	}
	s.submitted(ctx, t, id)
}

// stepFailed retries a transient failure and fails the task for any other.
func (s *Scheduler) stepFailed(ctx context.Context, t *task.Task, err error) {
	if after, ok := provider.IsTransient(err); ok {
		s.retryLater(ctx, t, err, after)
		return
	}
	s.finish(ctx, t, task.StatusFailed, upstreamError(err))
}

// submitted records the provider's id for t.
func (s *Scheduler) submitted(ctx context.Context, t *task.Task, id string) {
	t.UpstreamID = id
	t.Attempts = 0
	now := s.c.Now().UTC().Truncate(time.Millisecond)
	if t.NextCheckAt == nil || !t.NextCheckAt.After(now) {
		t.NextCheckAt = &now // check right away, unless the provider planned the first check
	}
	if !s.save(ctx, t) {
		return
	}
	s.c.Hub.Publish(t)
}

// mirrorDue reports whether t's next step is the mirror step: its provider
// reported success at upstream URLs and the copy is not done.
func (s *Scheduler) mirrorDue(t *task.Task) bool {
	return s.c.Mirror != nil && !t.Status.Terminal() && mirror.Pending(t.Result)
}

// mirror runs the mirror step and records its outcome like a status check's.
// Once the success is recorded it makes the thumbnail: clients get the video
// without waiting for ffmpeg.
func (s *Scheduler) mirror(ctx context.Context, t *task.Task) {
	u := s.c.Mirror.Step(ctx, t)
	if u.Status.Terminal() && u.Status != task.StatusSucceeded {
		t.Result, t.Usage = nil, nil // no result reached the gateway
	}
	if s.record(ctx, t, u, nil) && t.Status == task.StatusSucceeded && t.Result.ThumbnailFileID == "" {
		s.queueThumbnail(t)
	}
}

// thumbnailQueue bounds the successes waiting for their thumbnail.
const thumbnailQueue = 10000

// queueThumbnail hands a recorded success to the thumbnailer: one ffmpeg at
// a time, off the worker slots, so that a burst of results neither waits
// for its stills nor lets them starve the copies and checks of other tasks.
func (s *Scheduler) queueThumbnail(t *task.Task) {
	select {
	case s.thumbs <- t:
	default:
		s.log.Warn("no thumbnail for the result: too many waiting", "task", t.ID)
	}
}

// thumbnailer makes the queued thumbnails until the scheduler stops; those
// still queued then get none.
func (s *Scheduler) thumbnailer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case t := <-s.thumbs:
			s.thumbnail(ctx, t)
		}
	}
}

// thumbnail records a still of t's mirrored video. Without one (ffmpeg
// failed, the process stopped) the task keeps its video and has no thumbnail.
func (s *Scheduler) thumbnail(ctx context.Context, t *task.Task) {
	ctx, span := s.startStep(ctx, spanThumbnail, t)
	defer span.End()
	f, err := s.c.Mirror.Thumbnail(ctx, t)
	if err == nil {
		f.Tenant = t.Tenant
		if err = s.c.Store.CreateFile(ctx, f); errors.Is(err, store.ErrConflict) {
			err = nil
		}
	}
	if err == nil {
		// t was published: change a copy.
		c, r := *t, *t.Result
		r.ThumbnailFileID, c.Result = f.ID, &r
		err = s.c.Store.UpdateTask(ctx, &c) // a conflict: the client deleted or changed it meanwhile
	}
	if err != nil {
		span.RecordError(err)
		s.log.WarnContext(ctx, "no thumbnail for the result", "task", t.ID, "err", err)
	}
}

// check reads t's state at the provider. The call is stopped (a sandbox
// render with it) when the task's execution window closes, and the task is
// then expired; or when the lease renewal finds the task deleted or taken
// over, and then nothing is written.
func (s *Scheduler) check(ctx, held context.Context, p provider.Provider, t *task.Task) {
	cctx, cancel := context.WithTimeoutCause(held, t.ExpiresAt.Sub(s.c.Now()), errExpired)
	defer cancel()
	u, err := p.Check(cctx, t)
	if err != nil && ctx.Err() == nil {
		switch cause := context.Cause(cctx); {
		case errors.Is(cause, errExpired):
			s.expire(ctx, p, t)
			return
		case errors.Is(cause, errLeaseLost):
			s.log.InfoContext(ctx, "status check stopped: the task was deleted or taken over", "task", t.ID)
			return
		}
	}
	s.record(ctx, t, u, err)
}

// record applies what a status check learned (or its failure) to t, and
// reports whether it was saved.
func (s *Scheduler) record(ctx context.Context, t *task.Task, u provider.Update, err error) bool {
	if err != nil {
		s.stepFailed(ctx, t, err)
		return false
	}
	now := s.c.Now().UTC().Truncate(time.Millisecond)
	t.Attempts = 0
	switch u.Status {
	case task.StatusSucceeded:
		if s.c.Mirror != nil && u.Video == nil && mirror.Pending(u.Result) {
			return s.awaitMirror(ctx, t, u, now)
		}
		if err := s.recordOutputs(ctx, t, u); err != nil {
			s.retryLater(ctx, t, err, 0)
			return false
		}
		t.Result, t.Usage, t.Progress = u.Result, u.Usage, 100
		return s.finish(ctx, t, task.StatusSucceeded, nil)
	case task.StatusFailed, task.StatusCancelled, task.StatusExpired:
		return s.finish(ctx, t, u.Status, u.Error)
	case task.StatusRunning:
		if t.StartedAt == nil {
			t.StartedAt = &now
		}
	}
	changed := t.Status != u.Status || t.Progress != u.Progress || !sameError(t.Error, u.Error)
	t.Status = u.Status
	t.Progress = min(max(u.Progress, t.Progress), 99)
	t.Error = u.Error // a problem being retried, or none
	next := u.NextCheck
	if next <= 0 {
		next = s.c.CheckInterval
	}
	at := now.Add(next)
	if !u.CheckAt.IsZero() {
		at = u.CheckAt.UTC().Truncate(time.Millisecond)
	}
	if when, ok := s.takeNudge(t.ID); ok && when.Before(at) {
		at = when // told to look again while this step ran: the read may predate the news
		if at.Before(now) {
			at = now
		}
	}
	t.NextCheckAt = &at
	if changed {
		t.UpdatedAt = now
	}
	saved := s.save(ctx, t)
	if saved && changed {
		s.c.Hub.Publish(t)
	}
	return saved
}

// awaitMirror records a success whose result is still at upstream URLs: the
// task stays running at 99% with the result noted (mirror.Pending), due now
// for its mirror step.
func (s *Scheduler) awaitMirror(ctx context.Context, t *task.Task, u provider.Update, now time.Time) bool {
	if t.StartedAt == nil {
		t.StartedAt = &now
	}
	t.Status, t.Progress, t.Error = task.StatusRunning, 99, nil
	t.Result, t.Usage = u.Result, u.Usage
	t.UpdatedAt, t.NextCheckAt = now, &now
	if !s.save(ctx, t) {
		return false
	}
	s.c.Hub.Publish(t)
	s.Wake()
	return true
}

// recordOutputs stores the file rows of outputs the provider already put in blob storage.
func (s *Scheduler) recordOutputs(ctx context.Context, t *task.Task, u provider.Update) error {
	if u.Result == nil {
		return errors.New("provider reported success without a result")
	}
	for _, f := range []*task.File{u.Video, u.LastFrame, u.Thumbnail} {
		if f == nil {
			continue
		}
		f.Tenant = t.Tenant
		if err := s.c.Store.CreateFile(ctx, f); err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("record output file: %w", err)
		}
	}
	if u.Video != nil {
		u.Result.VideoFileID = u.Video.ID
	}
	if u.LastFrame != nil {
		u.Result.LastFrameFileID = u.LastFrame.ID
	}
	if u.Thumbnail != nil {
		u.Result.ThumbnailFileID = u.Thumbnail.ID
	}
	return nil
}

func (s *Scheduler) expire(ctx context.Context, p provider.Provider, t *task.Task) {
	if t.UpstreamID != "" {
		// Best effort: the upstream expires it on its own schedule too.
		if err := p.Cancel(ctx, t); err != nil {
			s.log.DebugContext(ctx, "cancel of expired task failed", "task", t.ID, "err", err)
		}
	}
	s.finish(ctx, t, task.StatusExpired, &task.Error{Code: task.CodeUpstream, UpstreamCode: "Expired",
		Message: fmt.Sprintf("the task did not finish within execution_expires_after (%ds)", t.Request.ExpiresAfter())})
}

// finish moves t to a terminal status and releases it; it reports whether
// that was saved.
func (s *Scheduler) finish(ctx context.Context, t *task.Task, st task.Status, e *task.Error) bool {
	now := s.c.Now().UTC().Truncate(time.Millisecond)
	t.Status, t.Error = st, e
	t.UpdatedAt, t.FinishedAt, t.NextCheckAt = now, &now, nil
	if !s.save(ctx, t) {
		return false
	}
	s.log.InfoContext(ctx, "task finished", "task", t.ID, "status", st)
	s.c.Hub.Publish(t)
	return true
}

// retryLater schedules the same step again with exponential backoff and jitter.
func (s *Scheduler) retryLater(ctx context.Context, t *task.Task, err error, after time.Duration) {
	t.Attempts++
	trace.SpanFromContext(ctx).RecordError(err)
	if after <= 0 {
		after = backoff(t.Attempts)
	}
	s.log.WarnContext(ctx, "step failed, will retry", "task", t.ID, "attempt", t.Attempts, "in", after, "err", err)
	at := s.c.Now().UTC().Add(after).Truncate(time.Millisecond)
	t.NextCheckAt = &at
	s.save(ctx, t)
}

func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 8) // 1s … ~4m
	return d/2 + time.Duration(rand.Int64N(int64(d)))/2
}

// save writes t and releases its lease (the step is over).
func (s *Scheduler) save(ctx context.Context, t *task.Task) bool {
	t.LeaseOwner, t.LeaseUntil = "", nil
	return s.write(ctx, t)
}

// write stores t. It reports false when the write lost to another writer (a
// client's cancel, say): then the stored state wins, and if this step had just
// created the task upstream, that upstream task is cancelled.
func (s *Scheduler) write(ctx context.Context, t *task.Task) bool {
	err := s.c.Store.UpdateTask(ctx, t)
	if err == nil {
		return true
	}
	if !errors.Is(err, store.ErrConflict) {
		s.log.ErrorContext(ctx, "saving task failed; its lease will expire and the step repeat", "task", t.ID, "err", err)
		return false
	}
	cur, gerr := s.c.Store.GetTask(ctx, t.ID)
	if gerr != nil {
		return false
	}
	if cur.Status.Terminal() && cur.UpstreamID == "" && t.UpstreamID != "" {
		cur.UpstreamID, cur.Channel, cur.UpstreamKey = t.UpstreamID, t.Channel, t.UpstreamKey
		if p := s.c.Providers[cur.Provider]; p != nil {
			if err := p.Cancel(ctx, cur); err != nil {
				s.log.WarnContext(ctx, "cancelling upstream task of a cancelled task failed", "task", t.ID, "err", err)
			}
		}
		_ = s.c.Store.UpdateTask(ctx, cur)
	}
	return false
}

// renewLease keeps the lease alive while a long step (a render, a slow upstream)
// runs, so no other worker takes the task over meanwhile. When the task is
// gone or held by another instance it calls lost.
func (s *Scheduler) renewLease(ctx context.Context, id string, lost context.CancelCauseFunc) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		tick := s.c.Clock.NewTicker(s.c.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.Chan():
				err := s.c.Store.ExtendLease(ctx, id, s.c.Owner, s.c.Now().Add(s.c.Lease))
				switch {
				case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
					lost(errLeaseLost)
					return
				case err != nil && ctx.Err() == nil:
					s.log.Warn("lease renewal failed", "task", id, "err", err)
				}
			}
		}
	}()
	return cancel
}

// upstreamError turns a provider's permanent error into the task's error.
func upstreamError(err error) *task.Error {
	var te *task.Error
	if errors.As(err, &te) {
		return te
	}
	return &task.Error{Code: task.CodeUpstream, Message: err.Error()}
}

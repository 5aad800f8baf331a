package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// workBatch runs one step for each of a batch of claimed status checks: the
// batching providers read their tasks with as few upstream calls as they can
// (provider.BatchChecker), and each task is then recorded on its own. Tasks
// that need something else (expiry, a provider gone) take their usual step.
func (s *Scheduler) workBatch(ctx context.Context, tasks []*task.Task) {
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		ids[i] = t.ID
	}
	s.enter(ids...)
	defer s.leave(ctx, ids...)
	renew, stopRenew := s.renewLeases(ctx, ids)
	defer stopRenew()

	now := s.c.Now().UTC()
	groups := map[string][]*task.Task{}
	var order []string
	var own []*task.Task
	for _, t := range tasks {
		_, batching := s.c.Providers[t.Provider].(provider.BatchChecker)
		if !batching || t.UpstreamID == "" || !now.Before(t.ExpiresAt) || s.mirrorDue(t) {
			own = append(own, t)
			continue
		}
		if groups[t.Provider] == nil {
			order = append(order, t.Provider)
		}
		groups[t.Provider] = append(groups[t.Provider], t)
	}
	// Steps of their own (mirror steps above all: results finish together) in parallel.
	s.each(own, func(t *task.Task) {
		defer renew.done(t.ID)
		s.guarded(ctx, t, func() { s.step(ctx, ctx, t) }) // a batch's renewal does not report lost tasks
	})
	for _, name := range order {
		p := s.c.Providers[name]
		ts := groups[name]
		bctx, batch := s.startBatch(ctx, name, ts)
		ups, err := s.checkBatch(bctx, p.(provider.BatchChecker), ts)
		if err != nil {
			batch.RecordError(err)
		}
		batch.End()
		link := s.batchLink(batch)
		// Record in parallel: a task missing from the answer costs an upstream call.
		s.each(ts, func(t *task.Task) {
			defer renew.done(t.ID)
			ctx, span := s.startStep(ctx, spanCheck, t, link...)
			defer s.endStep(span, t)
			s.guarded(ctx, t, func() {
				switch u, ok := ups[t.ID]; {
				case ok:
					s.record(ctx, t, u, nil)
				case err != nil:
					s.record(ctx, t, provider.Update{}, err)
				default:
					s.check(ctx, ctx, p, t)
				}
			})
		})
	}
}

// each runs fn for every task, up to Workers at a time, and waits for all.
func (s *Scheduler) each(ts []*task.Task, fn func(*task.Task)) {
	sem := make(chan struct{}, s.c.Workers)
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(t)
		}()
	}
	wg.Wait()
}

// checkBatch calls the provider, turning a panic into an error for the batch.
func (s *Scheduler) checkBatch(ctx context.Context, bc provider.BatchChecker, ts []*task.Task) (ups map[string]provider.Update, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(ctx, "batch check panicked", "panic", r)
			ups, err = nil, provider.Transient(fmt.Errorf("panic: %v", r), 0)
		}
	}()
	return bc.CheckBatch(ctx, ts)
}

// leaseRenewal keeps a batch's leases alive until each task's step is done.
type leaseRenewal struct {
	mu   sync.Mutex
	left map[string]bool
}

func (l *leaseRenewal) done(id string) {
	l.mu.Lock()
	delete(l.left, id)
	l.mu.Unlock()
}

func (l *leaseRenewal) ids() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.left))
	for id := range l.left {
		out = append(out, id)
	}
	return out
}

// renewLeases is renewLease for a batch, with one ticker for all of it.
func (s *Scheduler) renewLeases(ctx context.Context, ids []string) (*leaseRenewal, func()) {
	l := &leaseRenewal{left: map[string]bool{}}
	for _, id := range ids {
		l.left[id] = true
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		tick := s.c.Clock.NewTicker(s.c.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.Chan():
				until := s.c.Now().Add(s.c.Lease)
				for _, id := range l.ids() {
					err := s.c.Store.ExtendLease(ctx, id, s.c.Owner, until)
					if err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrConflict) {
						s.log.Warn("lease renewal failed", "task", id, "err", err)
					}
				}
			}
		}
	}()
	return l, cancel
}

// enter and leave track the tasks this instance is working on, for Nudge.
func (s *Scheduler) enter(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.inflight[id] = true
		delete(s.nudged, id) // the step reads the provider after this: older news is in it
	}
}

// leave ends the steps of ids. A nudge the step did not take in (it ended
// some other way than a status check, a dispatch say) is applied now that
// the task is free.
func (s *Scheduler) leave(ctx context.Context, ids ...string) {
	pending := map[string]time.Time{}
	s.mu.Lock()
	for _, id := range ids {
		delete(s.inflight, id)
		if at, ok := s.nudged[id]; ok {
			pending[id] = at
			delete(s.nudged, id)
		}
	}
	s.mu.Unlock()
	for id, at := range pending {
		if err := s.NudgeAt(ctx, id, at); err != nil && ctx.Err() == nil {
			s.log.Warn("nudge after step failed", "task", id, "err", err)
		}
	}
}

// takeNudge returns (and forgets) when t was asked to be looked at, if it
// was nudged since its step began.
func (s *Scheduler) takeNudge(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.nudged[id]
	delete(s.nudged, id)
	return at, ok
}

// NudgeAt makes a task due at at, unless it is due sooner: something (an
// upstream callback) says it may have changed. It is only a hint: the task's
// next step reads the provider. A task this instance is working on is looked
// at again right after the step; one another instance holds is left to its
// checks. Nudging many tasks to the same instant lets their checks run as
// one batch. Nudges are written in bursts by flushNudges (one statement for
// many tasks) and NudgeAt returns at once; a nudge lost to a crash before
// its write leaves the task to its planned checks.
func (s *Scheduler) NudgeAt(ctx context.Context, id string, at time.Time) error {
	at = at.UTC().Truncate(time.Millisecond)
	s.mu.Lock()
	if s.inflight[id] {
		s.nudged[id] = at
	} else if cur, ok := s.toNudge[id]; !ok || at.Before(cur) {
		s.toNudge[id] = at
	}
	s.mu.Unlock()
	select {
	case s.nudgeCh <- struct{}{}:
	default:
	}
	return nil
}

// nudgeGather is how long flushNudges lets a burst of nudges gather.
const nudgeGather = 20 * time.Millisecond

// flushNudges writes pending nudges, one MakeDue per instant, until ctx ends.
// A task in a step of this instance is told through nudged instead.
func (s *Scheduler) flushNudges(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.nudgeCh:
		}
		select {
		case <-ctx.Done():
			return
		case <-s.c.Clock.After(nudgeGather):
		}
		byTime := map[time.Time][]string{}
		s.mu.Lock()
		for id, at := range s.toNudge {
			if s.inflight[id] {
				s.nudged[id] = at
			} else {
				byTime[at] = append(byTime[at], id)
			}
		}
		clear(s.toNudge)
		s.mu.Unlock()
		now := s.c.Now()
		for at, ids := range byTime {
			if _, err := s.c.Store.MakeDue(ctx, ids, at, now); err != nil && ctx.Err() == nil {
				s.log.Warn("nudging tasks failed; their planned checks remain", "tasks", len(ids), "err", err)
			}
		}
		if len(byTime) > 0 {
			s.Wake()
		}
	}
}

// sameError reports whether two task errors say the same.
func sameError(a, b *task.Error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

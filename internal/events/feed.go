package events

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/startstop"
	"github.com/seedgate/seedgate/internal/task"
)

// Feed brings changes made by other instances into this process's Hub: a
// database announces the ids of changed tasks (Listen), and for those someone
// here waits on, Feed reads the task and publishes it. Changes this instance
// made are announced too and published a second time, which subscribers
// tolerate (they see the newest state).
type Feed struct {
	// Archetype is the logger and the clock (app's).
	baseservice.Archetype
	Hub *Hub
	// Listen blocks announcing changed task ids until ctx ends or it fails;
	// ready is called once it is listening (store/postgres.Store.Listen).
	Listen func(ctx context.Context, ready func(), changed func(id string)) error
	// Get reads a task from the store.
	Get func(ctx context.Context, id string) (*task.Task, error)
	// Retry is the first delay before listening again after a failure (default
	// 1 s, doubling up to 30 s). Waiters re-read the store meanwhile.
	Retry time.Duration

	run     startstop.Base
	mu      sync.Mutex
	pending map[string]struct{}
	kick    chan struct{}
}

// Start listens until Stop; starting a running feed does nothing.
func (f *Feed) Start(ctx context.Context) {
	f.mu.Lock()
	if f.Logger == nil || f.Clock == nil { // written once: a second Start only reads
		f.Archetype = f.Archetype.WithDefaults()
	}
	if f.Retry <= 0 {
		f.Retry = time.Second
	}
	if f.pending == nil {
		f.pending = map[string]struct{}{}
		f.kick = make(chan struct{}, 1)
	}
	f.mu.Unlock()
	f.run.Go(ctx, f.fetch, f.listen)
}

// Stop stops listening and waits until ctx ends for the feed to wind down.
// Stopping a stopped feed does nothing.
func (f *Feed) Stop(ctx context.Context) error {
	if err := f.run.Stop(ctx); err != nil {
		return fmt.Errorf("events feed stop: %w", err)
	}
	return nil
}

func (f *Feed) listen(ctx context.Context) {
	log := f.Logger.With("component", "events-feed")
	delay := f.Retry
	for ctx.Err() == nil {
		start := f.Clock.Now()
		err := f.Listen(ctx, func() {
			// Whatever changed while we were not listening: catch up on what
			// is being waited for.
			for _, id := range f.Hub.SubscribedIDs() {
				f.changed(id)
			}
		}, f.changed)
		if ctx.Err() != nil {
			return
		}
		if f.Clock.Since(start) > time.Minute {
			delay = f.Retry // it ran fine for a while: start backing off afresh
		}
		log.Warn("listening for other instances' task changes failed; waiters poll meanwhile", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-f.Clock.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// changed queues id for fetching if someone here waits on it. The queue is a
// set: a burst of changes to one task costs one read.
func (f *Feed) changed(id string) {
	if f.Hub.Subscribers(id) == 0 {
		return
	}
	f.mu.Lock()
	f.pending[id] = struct{}{}
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

func (f *Feed) fetch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		}
		f.mu.Lock()
		ids := f.pending
		f.pending = map[string]struct{}{}
		f.mu.Unlock()
		for id := range ids {
			t, err := f.Get(ctx, id)
			if err != nil {
				if ctx.Err() == nil {
					f.Logger.Debug("reading a changed task failed", "task", id, "err", err)
				}
				continue
			}
			f.Hub.Publish(t)
		}
	}
}

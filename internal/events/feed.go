package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// Feed brings changes made by other instances into this process's Hub: a
// database announces the ids of changed tasks (Listen), and for those someone
// here waits on, Feed reads the task and publishes it. Changes this instance
// made are announced too and published a second time, which subscribers
// tolerate (they see the newest state).
type Feed struct {
	Hub *Hub
	// Listen blocks announcing changed task ids until ctx ends or it fails;
	// ready is called once it is listening (store/postgres.Store.Listen).
	Listen func(ctx context.Context, ready func(), changed func(id string)) error
	// Get reads a task from the store.
	Get    func(ctx context.Context, id string) (*task.Task, error)
	Logger *slog.Logger
	// Retry is the first delay before listening again after a failure (default
	// 1 s, doubling up to 30 s). Waiters re-read the store meanwhile.
	Retry time.Duration

	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	pending map[string]struct{}
	kick    chan struct{}
}

// Start listens until Stop.
func (f *Feed) Start(ctx context.Context) {
	if f.Logger == nil {
		f.Logger = slog.New(slog.DiscardHandler)
	}
	if f.Retry <= 0 {
		f.Retry = time.Second
	}
	f.pending = map[string]struct{}{}
	f.kick = make(chan struct{}, 1)
	ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	f.done = make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { f.fetch(ctx) })
	wg.Go(func() { f.listen(ctx) })
	go func() { wg.Wait(); close(f.done) }()
}

// Stop stops listening and waits until ctx ends for the feed to wind down.
func (f *Feed) Stop(ctx context.Context) error {
	if f.cancel == nil {
		return nil
	}
	f.cancel()
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("events feed stop: %w", ctx.Err())
	}
}

func (f *Feed) listen(ctx context.Context) {
	log := f.Logger.With("component", "events-feed")
	delay := f.Retry
	for ctx.Err() == nil {
		start := time.Now()
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
		if time.Since(start) > time.Minute {
			delay = f.Retry // it ran fine for a while: start backing off afresh
		}
		log.Warn("listening for other instances' task changes failed; waiters poll meanwhile", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// changed queues id for fetching if someone here waits on it. The queue is a
// set: a burst of changes to one task costs one read.
func (f *Feed) changed(id string) {
	if !f.Hub.HasSubscribers(id) {
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

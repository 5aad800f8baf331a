// Package startstop gives background services one Start/Stop lifecycle:
// starting a running service does nothing, stopping a stopped (or never
// started) one does nothing, and a stopped service can be started again.
package startstop

import (
	"context"
	"sync"
)

// Base runs a service's goroutines. Embed it (or hold it) and call Go from
// the service's Start; Stop and Stopped come with it.
type Base struct {
	mu      sync.Mutex
	cancel  context.CancelFunc
	stopped chan struct{} // closed once every goroutine of the current run has returned
}

// Go starts each of run in its own goroutine with a context that ends at
// Stop (and not before: ctx's cancellation is not inherited, its values are).
// It reports false, starting nothing, when the service is already running or
// still winding down from a Stop that timed out.
func (b *Base) Go(ctx context.Context, run ...func(ctx context.Context)) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped != nil {
		return false
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopped := make(chan struct{})
	b.cancel, b.stopped = cancel, stopped
	var wg sync.WaitGroup
	for _, fn := range run {
		wg.Go(func() { fn(ctx) })
	}
	go func() {
		wg.Wait()
		cancel()
		b.mu.Lock()
		b.cancel, b.stopped = nil, nil // stopped: may start again
		b.mu.Unlock()
		close(stopped)
	}()
	return true
}

// Stop ends the context of the running goroutines and waits until they have
// all returned, or until ctx ends (then it returns ctx's error and the
// goroutines wind down on their own; a later Stop waits for them again).
func (b *Base) Stop(ctx context.Context) error {
	b.mu.Lock()
	cancel, stopped := b.cancel, b.stopped
	b.mu.Unlock()
	if stopped == nil {
		return nil
	}
	cancel()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stopped returns a channel closed once the current run's goroutines have all
// returned; when nothing runs it is closed already.
func (b *Base) Stopped() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return b.stopped
}

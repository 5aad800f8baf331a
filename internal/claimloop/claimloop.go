// Package claimloop is the loop of a queue kept in the database, shared by the
// scheduler (due task steps) and the webhook dispatcher (due messages): claim
// due rows for the free worker slots, run each on a slot, and sleep until the
// next row falls due, a wake-up (new work, a slot freed) or the poll interval
// (work of other instances and expired leases are seen only by polling).
package claimloop

import (
	"context"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// MinSleep is the shortest sleep between claims: a due row leased by another
// instance must not make the loop spin.
const MinSleep = 10 * time.Millisecond

// Config wires a Loop.
type Config struct {
	Workers      int
	PollInterval time.Duration
	Clock        clockwork.Clock
	// Claim claims work due at now for up to free slots (free > 0) and starts
	// each piece with Loop.Go. It reports how many rows it claimed, and whether
	// more may be due right away (it filled the slots): then the loop claims
	// again without sleeping.
	Claim func(ctx context.Context, now time.Time, free int) (claimed int, more bool)
	// Sleep returns how long the loop may sleep before claiming again; nil
	// means PollInterval. Until is the usual answer.
	Sleep func(ctx context.Context) time.Duration
}

// Loop runs Config.Claim until its context ends.
type Loop struct {
	c       Config
	claimed func(now time.Time, n int)
	wake    chan struct{}
	slots   chan struct{}
	wg      sync.WaitGroup
}

// New returns a Loop; Run runs it.
func New(c Config) *Loop {
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	return &Loop{c: c, wake: make(chan struct{}, 1), slots: make(chan struct{}, c.Workers)}
}

// Wake makes the loop claim now (new work was added, or may be due).
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Free is the number of idle worker slots.
func (l *Loop) Free() int { return l.c.Workers - len(l.slots) }

// Go runs fn on a worker slot (the caller, Claim, saw one free); a finished
// piece of work wakes the loop, its slot being free again.
func (l *Loop) Go(fn func()) {
	l.slots <- struct{}{}
	l.wg.Add(1)
	go func() {
		defer func() { <-l.slots; l.wg.Done(); l.Wake() }()
		fn()
	}()
}

// Run claims and sleeps until ctx ends, then waits for the work in progress
// (which sees ctx end too).
func (l *Loop) Run(ctx context.Context) {
	defer l.wg.Wait()
	for ctx.Err() == nil {
		if free := l.Free(); free > 0 {
			now := l.c.Clock.Now()
			n, more := l.c.Claim(ctx, now, free)
			if l.claimed != nil {
				l.claimed(now, n)
			}
			if more {
				continue
			}
		}
		l.sleep(ctx)
	}
}

// OnClaimed has fn called after every claim with the time claimed for and
// the number of rows claimed: tests wait on it to know that work due by some
// time was looked for. Call it before Run.
func (l *Loop) OnClaimed(fn func(now time.Time, n int)) { l.claimed = fn }

func (l *Loop) sleep(ctx context.Context) {
	d := l.c.PollInterval
	if l.c.Sleep != nil {
		d = l.c.Sleep(ctx)
	}
	t := l.c.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-l.wake:
	case <-t.Chan():
	}
}

// Until is how long to sleep for a row due at next (zero: none known): until
// then, at least MinSleep, at most the poll interval.
func (l *Loop) Until(next time.Time) time.Duration {
	d := l.c.PollInterval
	if !next.IsZero() {
		if until := next.Sub(l.c.Clock.Now()); until < d {
			d = max(until, MinSleep)
		}
	}
	return d
}

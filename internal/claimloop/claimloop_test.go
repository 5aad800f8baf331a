package claimloop_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/claimloop"
)

// queue is a fake table of due rows.
type queue struct {
	mu  sync.Mutex
	due []time.Time
	ran chan time.Time
}

func (q *queue) claim(l **claimloop.Loop) func(ctx context.Context, now time.Time, free int) (int, bool) {
	return func(ctx context.Context, now time.Time, free int) (int, bool) {
		q.mu.Lock()
		var took []time.Time
		rest := q.due[:0]
		for _, at := range q.due {
			if !at.After(now) && len(took) < free {
				took = append(took, at)
				continue
			}
			rest = append(rest, at)
		}
		q.due = rest
		q.mu.Unlock()
		for _, at := range took {
			(*l).Go(func() { q.ran <- at })
		}
		return len(took), len(took) == free
	}
}

func (q *queue) next() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	var n time.Time
	for _, at := range q.due {
		if n.IsZero() || at.Before(n) {
			n = at
		}
	}
	return n
}

type claim struct {
	now time.Time
	n   int
}

func start(t *testing.T, q *queue, workers int) (*claimloop.Loop, *clockwork.FakeClock, chan claim) {
	clk := clockwork.NewFakeClock()
	var l *claimloop.Loop
	l = claimloop.New(claimloop.Config{Workers: workers, PollInterval: time.Minute, Clock: clk, Claim: q.claim(&l),
		Sleep: func(context.Context) time.Duration { return l.Until(q.next()) }})
	claims := make(chan claim, 100)
	l.OnClaimed(func(now time.Time, n int) { claims <- claim{now, n} })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return l, clk, claims
}

func TestSleepsUntilDueThenRuns(t *testing.T) {
	t.Parallel()
	q := &queue{ran: make(chan time.Time, 10)}
	l, clk, claims := start(t, q, 2)
	require.Equal(t, 0, (<-claims).n, "nothing due at first")
	ctx := t.Context()
	require.NoError(t, clk.BlockUntilContext(ctx, 1), "asleep on the poll timer")

	at := clk.Now().Add(30 * time.Second)
	q.mu.Lock()
	q.due = append(q.due, at)
	q.mu.Unlock()
	l.Wake()
	c := <-claims
	require.Equal(t, 0, c.n, "not due yet")
	require.NoError(t, clk.BlockUntilContext(ctx, 1))
	clk.Advance(29 * time.Second)
	clk.Advance(time.Second) // the sleep was cut to the due time, not the minute's poll
	c = <-claims
	require.Equal(t, at, c.now, "the next claim is for the due time: none woke earlier")
	require.Equal(t, 1, c.n)
	require.Equal(t, at, <-q.ran)
}

func TestFullClaimClaimsAgainAndFreedSlotWakes(t *testing.T) {
	t.Parallel()
	q := &queue{ran: make(chan time.Time)} // unbuffered: work holds its slot until read
	l, clk, claims := start(t, q, 2)
	require.Equal(t, 0, (<-claims).n)
	require.NoError(t, clk.BlockUntilContext(t.Context(), 1))
	now := clk.Now()
	q.mu.Lock()
	q.due = []time.Time{now, now, now}
	q.mu.Unlock()
	l.Wake()
	require.Equal(t, 2, (<-claims).n, "as many as free slots")
	require.Zero(t, l.Free())
	<-q.ran // one slot frees and wakes the loop: no timer needed
	require.Equal(t, 1, (<-claims).n)
	<-q.ran
	<-q.ran
}

package routing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/task"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func mustModel(t testing.TB, id string) *task.Model {
	t.Helper()
	m, _, ok := task.LookupModel(id)
	require.True(t, ok, id)
	return m
}

// newRouter parses a channels document; load may be nil (no live tasks stored).
func newRouter(t testing.TB, doc string, clk *clock, load LoadFunc) *Router {
	t.Helper()
	s, err := ParseSettings([]byte(doc))
	require.NoError(t, err)
	c := Config{Load: load}
	for i := range s.Channels {
		c.Channels = append(c.Channels, &s.Channels[i])
	}
	if clk != nil {
		c.Now = clk.Now
	}
	return New(c)
}

func pick(t testing.TB, r *Router, m *task.Model, id string) *Candidate {
	t.Helper()
	c, _, err := r.Pick(context.Background(), Request{TaskID: id, Model: m, RunTime: time.Minute}, map[Slot]bool{})
	require.NoError(t, err)
	return c
}

func pickN(t *testing.T, r *Router, m *task.Model, n int) (picked []string) {
	t.Helper()
	for i := range n {
		c := pick(t, r, m, fmt.Sprint("t", i))
		if c == nil {
			return picked
		}
		picked = append(picked, c.Channel.Name+"/"+c.Key.Secret)
	}
	return picked
}

// Creates per minute per key and model are held to the channel's rpm.
func TestPickHonoursRPM(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := newRouter(t, "channels: [{name: c, base_url: 'http://127.0.0.1:1/api/v3', keys: [sk-1], rpm: 2, concurrency: 100}]", clk, nil)
	m := mustModel(t, "seedance-1-0-pro")
	require.Len(t, pickN(t, r, m, 5), 2)
	c, wait, err := r.Pick(context.Background(), Request{TaskID: "x", Model: m}, map[Slot]bool{})
	require.NoError(t, err)
	require.Nil(t, c)
	require.GreaterOrEqual(t, wait, 30*time.Second, "room comes only when the minute is over (looked at again every 30 s at most)")
	clk.add(61 * time.Second)
	require.Len(t, pickN(t, r, m, 1), 1)
	require.Len(t, pickN(t, r, mustModel(t, "seedance-2-0"), 1), 1, "limits are per model")
}

// Higher priority first; equal priorities share by weight; least-loaded key within.
func TestPickOrder(t *testing.T) {
	t.Parallel()
	r := newRouter(t, `channels:
  - {name: low, base_url: 'http://127.0.0.1:1/api/v3', keys: [sk-low], concurrency: 100}
  - {name: high, base_url: 'http://127.0.0.1:1/api/v3', keys: [sk-h1, sk-h2], priority: 5, concurrency: 2}
`, nil, nil)
	m := mustModel(t, "seedance-1-0-pro")
	got := pickN(t, r, m, 6)
	require.ElementsMatch(t, []string{"high/sk-h1", "high/sk-h2", "high/sk-h1", "high/sk-h2", "low/sk-low", "low/sk-low"}, got)
	require.NotEqual(t, got[0], got[1], "the least loaded key takes the next task")
	require.Equal(t, "low/sk-low", got[4], "lower priority only when the higher is full")

	w := newRouter(t, `channels:
  - {name: heavy, base_url: 'http://127.0.0.1:1/api/v3', keys: [a], weight: 9, concurrency: 100000}
  - {name: light, base_url: 'http://127.0.0.1:1/api/v3', keys: [b], weight: 1, concurrency: 100000}
`, nil, nil)
	heavy := 0
	for i := range 400 {
		c := pick(t, w, m, fmt.Sprint("w", i))
		if c.Channel.Name == "heavy" {
			heavy++
		}
		w.Release(fmt.Sprint("w", i))
	}
	require.InDelta(t, 360, heavy, 40, "weight 9 of 10")
}

// Live tasks the store shows count against their key; a finished one's
// reservation is given back.
func TestPickCountsStoredLoad(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	var stored []Holder
	var mu sync.Mutex
	load := func(context.Context, string) ([]Holder, error) {
		mu.Lock()
		defer mu.Unlock()
		return append([]Holder(nil), stored...), nil
	}
	r := newRouter(t, "channels: [{name: c, base_url: 'http://127.0.0.1:1/api/v3', keys: [sk-1], concurrency: 2}]", clk, load)
	k := r.Channels()[0].APIKeys()[0].ID
	mu.Lock()
	stored = []Holder{{TaskID: "old", Channel: "c", Key: k}}
	mu.Unlock()
	m := mustModel(t, "seedance-1-0-pro")
	require.NotNil(t, pick(t, r, m, "a"))
	require.Nil(t, pick(t, r, m, "b"), "one stored, one reserved: the key is full")
	r.Release("a")
	require.NotNil(t, pick(t, r, m, "b"), "a released slot is free again")

	_, _, err := r.Pick(context.Background(), Request{TaskID: "x", Model: m},
		map[Slot]bool{{Channel: "c", Key: k, Model: m.ID}: true})
	require.NoError(t, err)
}

// Far from a key's limit one read of the store's count serves the creates of
// a second (a large fleet would otherwise read every live task per create);
// near it every create reads afresh, and the limit holds exactly.
func TestPickReadsLoadAfreshNearLimits(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	var reads atomic.Int64
	r := newRouter(t, "channels: [{name: c, base_url: 'http://127.0.0.1:1/api/v3', keys: [sk-1], concurrency: 20}]", clk,
		func(context.Context, string) ([]Holder, error) { reads.Add(1); return nil, nil })
	m := mustModel(t, "seedance-1-0-pro")
	n := 0
	try := func() bool {
		n++
		return pick(t, r, m, fmt.Sprint("task-", n)) != nil
	}
	for range 18 { // up to nearLimit(20) = 18
		require.True(t, try())
	}
	require.EqualValues(t, 1, reads.Load(), "one read for the creates far from the limit")
	require.True(t, try())
	require.True(t, try())
	require.False(t, try(), "the limit holds")
	require.EqualValues(t, 1+3, reads.Load(), "each pick near the limit reads afresh")

	clk.add(loadMaxAge + pendingTTL) // the store shows none of these tasks: they were never stored
	before := reads.Load()
	require.True(t, try())
	require.True(t, try())
	require.Equal(t, before+1, reads.Load(), "an old snapshot is read again, then reused")
}

// Failover: a refused key is set aside, the next is tried; when every key
// refused the account the create fails; a rate limit only makes it wait.
func TestFailover(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := newRouter(t, "channels: [{name: c, base_url: 'http://127.0.0.1:1/api/v3', keys: [sk-1, sk-2], concurrency: 5}]", clk, nil)
	m := mustModel(t, "seedance-1-0-pro")
	ctx := context.Background()

	f := r.Failover(Request{TaskID: "t1", Model: m})
	refused := errors.New("403 account suspended")
	for range 2 {
		c, err := f.Next(ctx)
		require.NoError(t, err)
		o, cool := ClassifyStatus(http.StatusForbidden, true, 0)
		require.Equal(t, KeyRefused, o)
		f.Failed(c, o, cool, refused)
	}
	_, err := f.Next(ctx)
	last, ok := IsExhausted(err)
	require.True(t, ok, "every key refused: %v", err)
	require.Equal(t, refused, last)

	// Both keys are cooling down now: a new create waits, it does not fail.
	_, err = r.Failover(Request{TaskID: "t2", Model: m}).Next(ctx)
	after, ok := provider.IsWait(err)
	require.True(t, ok, "%v", err)
	require.GreaterOrEqual(t, after, 30*time.Second)
	clk.add(KeyRefusedCoolDown)

	f = r.Failover(Request{TaskID: "t3", Model: m})
	c, err := f.Next(ctx)
	require.NoError(t, err)
	o, cool := ClassifyStatus(http.StatusTooManyRequests, true, 10*time.Second)
	require.Equal(t, Retry, o)
	require.Equal(t, 10*time.Second, cool, "Retry-After wins when longer")
	f.Failed(c, o, cool, errors.New("429"))
	c2, err := f.Next(ctx)
	require.NoError(t, err)
	require.NotEqual(t, c.Key.ID, c2.Key.ID, "the other key")
	f.Failed(c2, o, cool, errors.New("429"))
	_, err = f.Next(ctx)
	_, ok = provider.IsWait(err)
	require.True(t, ok, "rate limits wait, they do not fail the task: %v", err)
}

func TestClassifyStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status   int
		envelope bool
		want     Outcome
	}{
		{400, true, Rejected}, {401, true, KeyRefused}, {403, true, KeyRefused}, {404, true, KeyRefused},
		{429, false, Retry}, {500, true, Retry}, {502, false, Unknown}, {503, true, Retry},
	} {
		got, _ := ClassifyStatus(tc.status, tc.envelope, 0)
		require.Equal(t, tc.want, got, "%d envelope=%v", tc.status, tc.envelope)
	}
}

// BenchmarkPick is one create's choice among 4 channels of 8 keys with room,
// 100 creates a second (a clock that moves 10 ms a create).
func BenchmarkPick(b *testing.B) {
	clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := newRouter(b, `channels:
  - {name: a, base_url: 'http://127.0.0.1:1/api/v3', keys: [a1, a2, a3, a4, a5, a6, a7, a8], priority: 1, concurrency: 100000, rpm: 100000}
  - {name: b, base_url: 'http://127.0.0.1:1/api/v3', keys: [b1, b2, b3, b4, b5, b6, b7, b8], priority: 1, concurrency: 100000, rpm: 100000}
  - {name: c, base_url: 'http://127.0.0.1:1/api/v3', keys: [c1, c2, c3, c4, c5, c6, c7, c8], concurrency: 100000, rpm: 100000}
  - {name: d, base_url: 'http://127.0.0.1:1/api/v3', keys: [d1, d2, d3, d4, d5, d6, d7, d8], concurrency: 100000, rpm: 100000}
`, clk, nil)
	m := mustModel(b, "seedance-1-0-pro-fast")
	ctx := context.Background()
	for b.Loop() {
		c, _, err := r.Pick(ctx, Request{TaskID: "t", Model: m}, nil)
		if err != nil || c == nil {
			b.Fatal("no key", err)
		}
		r.Release("t")
		clk.add(10 * time.Millisecond)
	}
}

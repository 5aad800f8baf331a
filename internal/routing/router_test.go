package ark

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
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

func withChannels(t *testing.T, doc string, clk *clock) func(*Config) {
	return func(c *Config) {
		s, err := ParseSettings([]byte(doc))
		require.NoError(t, err)
		c.Settings = s
		if clk != nil {
			c.Now = clk.Now
		}
	}
}

func pickN(t *testing.T, p *Provider, m *task.Model, n int) (picked []string) {
	t.Helper()
	for i := range n {
		c, _, err := p.pick(context.Background(), m, &task.Task{ID: fmt.Sprint("t", i), Model: m.ID}, nil, map[slot]bool{})
		require.NoError(t, err)
		if c == nil {
			return picked
		}
		picked = append(picked, c.ch.Name+"/"+c.key.Secret)
	}
	return picked
}

// Creates per minute per key and model are held to the channel's rpm.
func TestPickHonoursRPM(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	u := newUnit(t, "http://localhost:8000", withChannels(t,
		"channels: [{name: c, base_url: 'http://127.0.0.1:1/api/v3', keys: [sk-1], rpm: 2, concurrency: 100}]", clk))
	m := mustModel(t, "seedance-1-0-pro")
	require.Len(t, pickN(t, u.p, m, 5), 2)
	c, wait, err := u.p.pick(context.Background(), m, &task.Task{ID: "x", Model: m.ID}, nil, map[slot]bool{})
	require.NoError(t, err)
	require.Nil(t, c)
	require.GreaterOrEqual(t, wait, 30*time.Second, "room comes only when the minute is over (looked at again every 30 s at most)")
	clk.add(61 * time.Second)
	require.Len(t, pickN(t, u.p, m, 1), 1)
	require.Len(t, pickN(t, u.p, mustModel(t, "seedance-2-0"), 1), 1, "limits are per model")
}

// Higher priority first; equal priorities share by weight; least-loaded key within.
func TestPickOrder(t *testing.T) {
	t.Parallel()
	u := newUnit(t, "http://localhost:8000", withChannels(t, `channels:
  - {name: low, base_url: 'http://127.0.0.1:1/api/v3', keys: [sk-low], concurrency: 100}
  - {name: high, base_url: 'http://127.0.0.1:1/api/v3', keys: [sk-h1, sk-h2], priority: 5, concurrency: 2}
`, nil))
	m := mustModel(t, "seedance-1-0-pro")
	got := pickN(t, u.p, m, 6)
	require.ElementsMatch(t, []string{"high/sk-h1", "high/sk-h2", "high/sk-h1", "high/sk-h2", "low/sk-low", "low/sk-low"}, got)
	require.NotEqual(t, got[0], got[1], "the least loaded key takes the next task")
	require.Equal(t, "low/sk-low", got[4], "lower priority only when the higher is full")

	w := newUnit(t, "http://localhost:8000", withChannels(t, `channels:
  - {name: heavy, base_url: 'http://127.0.0.1:1/api/v3', keys: [a], weight: 9, concurrency: 100000}
  - {name: light, base_url: 'http://127.0.0.1:1/api/v3', keys: [b], weight: 1, concurrency: 100000}
`, nil))
	heavy := 0
	for i := range 400 {
		c, _, err := w.p.pick(context.Background(), m, &task.Task{ID: fmt.Sprint("w", i), Model: m.ID}, nil, map[slot]bool{})
		require.NoError(t, err)
		if c.ch.Name == "heavy" {
			heavy++
		}
		w.p.release(fmt.Sprint("w", i))
	}
	require.InDelta(t, 360, heavy, 40, "weight 9 of 10")
}

// keyLoadCounter counts the store reads of key load.
type keyLoadCounter struct {
	store.Store
	reads atomic.Int64
}

func (c *keyLoadCounter) KeyLoad(ctx context.Context, provider, model string) ([]store.KeySlot, error) {
	c.reads.Add(1)
	return c.Store.KeyLoad(ctx, provider, model)
}

// Far from a key's limit one read of the store's count serves the creates of
// a second (a large fleet would otherwise read every live task per create);
// near it every create reads afresh, and the limit holds exactly.
func TestPickReadsLoadAfreshNearLimits(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	var counter *keyLoadCounter
	u := newUnit(t, "http://localhost:8000", func(c *Config) {
		withChannels(t, "channels: [{name: c, base_url: 'http://127.0.0.1:1/api/v3', keys: [sk-1], concurrency: 20}]", clk)(c)
		counter = &keyLoadCounter{Store: c.Store}
		c.Store = counter
	})
	m := mustModel(t, "seedance-1-0-pro")
	n := 0
	pick := func() bool {
		n++
		c, _, err := u.p.pick(context.Background(), m, &task.Task{ID: fmt.Sprint("task-", n), Model: m.ID}, nil, map[slot]bool{})
		require.NoError(t, err)
		return c != nil
	}
	for range 18 { // up to nearLimit(20) = 18
		require.True(t, pick())
	}
	require.EqualValues(t, 1, counter.reads.Load(), "one read for the creates far from the limit")
	require.True(t, pick())
	require.True(t, pick())
	require.False(t, pick(), "the limit holds")
	require.EqualValues(t, 1+3, counter.reads.Load(), "each pick near the limit reads afresh")

	clk.add(loadMaxAge + pendingTTL) // the store shows none of these tasks: they were never stored
	reads := counter.reads.Load()
	require.True(t, pick())
	require.True(t, pick())
	require.Equal(t, reads+1, counter.reads.Load(), "an old snapshot is read again, then reused")
}

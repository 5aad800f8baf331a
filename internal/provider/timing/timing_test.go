package timing

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/task"
)

func TestTimingNext(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tk := &task.Task{Model: "seedance-1-0-pro", Request: task.Request{Resolution: "720p", Ratio: "16:9", Duration: task.Int(5)}}
	tm := New(Settings{ExpectedTime: 60 * time.Second})
	require.Equal(t, 60*time.Second, tm.Expected(tk))

	d := tm.Next(tk, 0, now).Sub(now)
	require.InDelta(t, float64(60*time.Second), float64(d), float64(8*time.Second), "first look near the expected finish")
	d = tm.Next(tk, 50*time.Second, now).Sub(now)
	require.InDelta(t, float64(10*time.Second), float64(d), float64(2*time.Second))
	d = tm.Next(tk, 61*time.Second, now).Sub(now)
	require.Less(t, d, 10*time.Second, "overdue: look often at first")
	d2 := tm.Next(tk, 10*time.Minute, now).Sub(now)
	require.Greater(t, d2, d, "then less")
	require.LessOrEqual(t, tm.Next(tk, 10*time.Hour, now).Sub(now), DefaultMaxInterval+15*time.Second)
	// Tasks of similar age fall due at the same instant (one list call).
	a := tm.Next(tk, 25*time.Second, now)
	b := now.Add(300 * time.Millisecond)
	b = tm.Next(tk, 25*time.Second+300*time.Millisecond, b)
	require.Equal(t, a, b)

	cb := New(Settings{ExpectedTime: 60 * time.Second, Callbacks: true})
	require.Greater(t, cb.Next(tk, 0, now).Sub(now), 2*time.Minute, "with callbacks, checks are a late safety net")

	// Observed times replace the estimate.
	tm.Observe(tk, 20*time.Second)
	require.Equal(t, 20*time.Second, tm.Expected(tk))
	tm.Observe(tk, 40*time.Second)
	require.Equal(t, 25*time.Second, tm.Expected(tk))

	def := New(Settings{})
	small := &task.Task{Model: "seedance-1-0-pro-fast", Request: task.Request{Resolution: "480p", Ratio: "16:9", Duration: task.Int(2)}}
	big := &task.Task{Model: "seedance-2-0", Request: task.Request{Resolution: "4k", Ratio: "16:9", Duration: task.Int(15)}}
	require.Less(t, def.Expected(small), def.Expected(big), "bigger videos take longer")
	flex := *small
	flex.Request.ServiceTier = task.TierFlex
	require.Greater(t, def.Expected(&flex), def.Expected(small))
}

package startstop_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/startstop"
)

func TestStartTwiceRunsOnce(t *testing.T) {
	t.Parallel()
	var b startstop.Base
	var runs atomic.Int32
	run := func(ctx context.Context) { runs.Add(1); <-ctx.Done() }
	require.True(t, b.Go(context.Background(), run))
	require.False(t, b.Go(context.Background(), run), "already running")
	require.NoError(t, b.Stop(context.Background()))
	require.NoError(t, b.Stop(context.Background()), "a second Stop does nothing")
	require.EqualValues(t, 1, runs.Load())
	select {
	case <-b.Stopped():
	default:
		t.Fatal("Stopped is not closed after Stop")
	}
}

func TestStopWithoutStart(t *testing.T) {
	t.Parallel()
	var b startstop.Base
	require.NoError(t, b.Stop(context.Background()))
	<-b.Stopped() // closed: nothing runs
}

func TestRestartAfterStop(t *testing.T) {
	t.Parallel()
	var b startstop.Base
	var runs atomic.Int32
	run := func(ctx context.Context) { runs.Add(1); <-ctx.Done() }
	for range 3 {
		require.True(t, b.Go(context.Background(), run))
		require.NoError(t, b.Stop(context.Background()))
	}
	require.EqualValues(t, 3, runs.Load())
}

func TestStopTimesOutThenWaitsAgain(t *testing.T) {
	t.Parallel()
	var b startstop.Base
	release := make(chan struct{})
	require.True(t, b.Go(context.Background(), func(ctx context.Context) { <-ctx.Done(); <-release }))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, b.Stop(ctx), context.Canceled, "the goroutine has not returned")
	require.False(t, b.Go(context.Background(), func(context.Context) {}), "still winding down")
	stopped := b.Stopped()
	close(release)
	require.NoError(t, b.Stop(context.Background()))
	<-stopped
	require.True(t, b.Go(context.Background(), func(context.Context) {}))
	require.NoError(t, b.Stop(context.Background()))
}

func TestContextValuesKeptCancellationNot(t *testing.T) {
	t.Parallel()
	type key struct{}
	var b startstop.Base
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	probe := make(chan struct{})
	type seen struct {
		value any
		err   error
	}
	got := make(chan seen, 1)
	require.True(t, b.Go(parent, func(ctx context.Context) {
		<-probe
		got <- seen{ctx.Value(key{}), ctx.Err()}
		<-ctx.Done()
	}))
	cancel() // cancellation reaches derived contexts before cancel returns
	close(probe)
	require.Equal(t, seen{value: "v"}, <-got, "the service's context keeps the values and outlives the start context")
	require.NoError(t, b.Stop(context.Background()))
}

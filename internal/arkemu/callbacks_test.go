package arkemu_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
)

// fastCallbacks are real-clock timings short enough for tests.
func fastCallbacks() arkemu.Options {
	return arkemu.Options{
		QueueTime:          5 * time.Millisecond,
		RunTime:            10 * time.Millisecond,
		TickInterval:       2 * time.Millisecond,
		CallbackTimeout:    200 * time.Millisecond,
		CallbackRetryDelay: time.Millisecond,
	}
}

func TestCallbacksDelivered(t *testing.T) {
	t.Parallel()
	sink := newCallbackSink(t, nil)
	b := setup(t, fastCallbacks(), false)
	id := b.create(testKey, textBody(pro10, "x", map[string]any{"callback_url": sink.srv.URL}))
	b.waitStatus(id, "succeeded")
	require.Eventually(t, func() bool { return len(sink.statuses()) == 3 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, []string{"queued", "running", "succeeded"}, sink.statuses(), "one callback per status, in order")

	sink.mu.Lock()
	last := sink.bodies[2]
	sink.mu.Unlock()
	require.Equal(t, id, last["id"])
	require.Contains(t, last["content"], "video_url")
	require.Contains(t, last, "usage")
	require.Equal(t, 3, b.srv.CallsByKey(testKey, arkemu.OpCallback))
}

func TestCallbacksRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prompt string
		answer func(n int, status string) int
		want   []string
	}{
		{
			name:   "succeeded retried until acknowledged",
			prompt: "x",
			answer: func(n int, status string) int {
				if status == "succeeded" && n < 5 {
					return http.StatusInternalServerError
				}
				return http.StatusOK
			},
			want: []string{"queued", "running", "succeeded", "succeeded", "succeeded"},
		},
		{
			name:   "failed retried at most three times",
			prompt: "x [ark:fail=OutputVideoSensitiveContentDetected]",
			answer: func(int, string) int { return http.StatusServiceUnavailable },
			want:   []string{"queued", "running", "failed", "failed", "failed", "failed"},
		},
		{
			name:   "queued and running are not retried",
			prompt: "x",
			answer: func(_ int, status string) int {
				if status == "succeeded" {
					return http.StatusOK
				}
				return http.StatusBadGateway
			},
			want: []string{"queued", "running", "succeeded"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sink := newCallbackSink(t, tc.answer)
			opts := fastCallbacks()
			final := tc.want[len(tc.want)-1]
			over := make(chan struct{})
			opts.CallbackDone = func(_, status string) { // callbacks go out one at a time, in order
				if status == final {
					close(over)
				}
			}
			b := setup(t, opts, false)
			b.create(testKey, textBody(pro10, tc.prompt, map[string]any{"callback_url": sink.srv.URL}))
			select {
			case <-over: // no attempt comes after this
			case <-time.After(30 * time.Second):
				t.Fatalf("the %s callback never ended; got %v", final, sink.statuses())
			}
			require.Equal(t, tc.want, sink.statuses())
		})
	}
}

func TestCallbackTimeoutRetried(t *testing.T) {
	t.Parallel()
	slow := make(chan struct{})
	sink := newCallbackSink(t, func(n int, status string) int {
		if status == "succeeded" && n == 3 {
			<-slow // never acknowledged in time
		}
		return http.StatusOK
	})
	t.Cleanup(func() { close(slow) }) // runs before the sink closes (cleanups are LIFO)
	opts := fastCallbacks()
	opts.CallbackTimeout = 50 * time.Millisecond
	b := setup(t, opts, false)
	b.create(testKey, textBody(pro10, "x", map[string]any{"callback_url": sink.srv.URL}))
	require.Eventually(t, func() bool { return len(sink.statuses()) == 4 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, []string{"queued", "running", "succeeded", "succeeded"}, sink.statuses())
}

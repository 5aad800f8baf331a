package upstream

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/task"
)

func TestExecutionWindow(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tk := func(eea int, left time.Duration) *task.Task {
		return &task.Task{Request: task.Request{ExecutionExpiresAfter: task.Int(eea)}, ExpiresAt: now.Add(left)}
	}
	require.Equal(t, 172800, ExecutionWindow(tk(172800, 172800*time.Second), now))
	require.Equal(t, 100000, ExecutionWindow(tk(172800, 100000*time.Second), now), "time spent queued in the gateway counts")
	require.Equal(t, 3600, ExecutionWindow(tk(172800, time.Minute), now), "never below the upstream minimum")
	require.Equal(t, 3600, ExecutionWindow(tk(3600, 3600*time.Second), now))
}

func TestPublicReachable(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]bool{
		"https://gw.example.com":        true,
		"https://gw.example.com:8443/x": true,
		"http://203.0.114.7":            true,
		"http://localhost:8000":         false,
		"http://127.0.0.1:8000":         false,
		"http://[::1]:8000":             false,
		"http://10.1.2.3":               false,
		"http://192.168.1.10":           false,
		"http://100.64.1.1":             false,
		"http://gateway:8000":           false,
		"http://gw.internal":            false,
		"http://box.local":              false,
		"http://app.localhost":          false,
		"":                              false,
	} {
		require.Equal(t, want, PublicReachable(u), u)
	}
}

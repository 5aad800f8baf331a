// Package kindtest is what the channel kinds' tests share: an upstream
// gateway (seedgate serving its dialects, sandbox behind), tasks validated by
// the catalog, driving a kind until its task finishes, and checking the
// result video with ffprobe.
package kindtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/media/mediatest"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

// Patience bounds every wait for a render: generous, since tests share a
// small machine (a deadline, not a sleep).
const Patience = 5 * time.Minute

// Wait polls g's native API until task id is finished and returns it.
func Wait(t testing.TB, g *dialecttest.Gateway, id string) dialecttest.Job {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for {
		resp, body := g.Do("GET", "/v1/jobs/"+id, nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		var j dialecttest.Job
		require.NoError(t, json.Unmarshal(body, &j))
		if j.Status != "processing" {
			return j
		}
		require.True(t, time.Now().Before(deadline), "task %s still %s after %s", id, j.Output.Status, Patience)
		time.Sleep(50 * time.Millisecond)
	}
}

// Upstream starts seedgate B, the upstream the kind talks to, with the
// sandbox behind it. It may fetch loopback URLs (the test's inputs and
// callback receivers).
func Upstream(t testing.TB, env ...string) *dialecttest.Gateway {
	return dialecttest.Start(t, append([]string{"SEEDGATE_ALLOW_PRIVATE_URLS=127.0.0.0/8,::1/128"}, env...)...)
}

// Call is a call to b as channel "b" with b's test key.
func Call(b *dialecttest.Gateway, kind, model string) upstream.Call {
	return upstream.Call{
		Channel: &routing.Channel{Name: "b", Kind: kind, BaseURL: b.URL},
		Key:     &routing.Key{ID: "b-key", Secret: dialecttest.Key},
		Model:   model,
		Input:   func(_ context.Context, u string) (string, error) { return u, nil },
	}
}

// Task returns a task of model for r as the gateway stores it: validated and
// completed with the model's defaults.
func Task(t testing.TB, id, model string, r task.Request) *task.Task {
	t.Helper()
	m, _, ok := task.LookupModel(model)
	require.True(t, ok, "model %s", model)
	require.NoError(t, m.Normalize(&r))
	now := time.Now().UTC()
	return &task.Task{ID: id, Model: m.ID, ModelAlias: model, Status: task.StatusQueued, Request: r,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(48 * time.Hour)}
}

// Finish checks the task through k until it is terminal and returns the last update.
func Finish(t testing.TB, k upstream.Kind, c upstream.Call, tk *task.Task) provider.Update {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for {
		u, err := k.Check(context.Background(), c, tk)
		require.NoError(t, err)
		if u.Status.Terminal() {
			return u
		}
		require.True(t, time.Now().Before(deadline), "task %s still %s after %s", tk.UpstreamID, u.Status, Patience)
		time.Sleep(50 * time.Millisecond)
	}
}

// Video downloads url (no key: result URLs are signed) and probes it.
func Video(t testing.TB, url string) mediatest.VideoInfo {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", url)
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Greater(t, len(data), 1000, "the video is %d bytes", len(data))
	path := filepath.Join(t.TempDir(), "result.mp4")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	info, err := mediatest.ProbeVideo(context.Background(), path)
	require.NoError(t, err)
	return info
}

// CallError asserts err is an *upstream.CallError and returns it.
func CallError(t testing.TB, err error) *upstream.CallError {
	t.Helper()
	require.Error(t, err)
	ce, ok := err.(*upstream.CallError)
	require.True(t, ok, "want *upstream.CallError, got %T: %v", err, err)
	return ce
}

// Gateway starts seedgate A with one channel of kind at b (every model, b's
// test key). With callbacks, A listens on a port chosen first and names it as
// its SEEDGATE_PUBLIC_URL, so upstreams can call it back.
func Gateway(t testing.TB, b *dialecttest.Gateway, kind string, callbacks bool, env ...string) *dialecttest.Gateway {
	t.Helper()
	return GatewayAt(t, b.URL, kind, callbacks, env...)
}

// GatewayAt is Gateway with the channel's base URL given (a proxy to B).
func GatewayAt(t testing.TB, base, kind string, callbacks bool, env ...string) *dialecttest.Gateway {
	t.Helper()
	file := filepath.Join(t.TempDir(), "channels.yaml")
	yaml := fmt.Sprintf("checks:\n  expected_time: 2s\n  min_interval: 200ms\n  max_interval: 5s\n  reconcile_after: 300ms\n"+
		"channels:\n  - name: b-%s\n    kind: %s\n    base_url: %s\n    keys: [%s]\n", kind, kind, base, dialecttest.Key)
	require.NoError(t, os.WriteFile(file, []byte(yaml), 0o600))
	vars := []string{"SEEDGATE_CHANNELS_FILE=" + file, "SEEDGATE_ALLOW_PRIVATE_URLS=127.0.0.0/8,::1/128"}
	if callbacks {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		vars = append(vars, "SEEDGATE_LISTEN="+addr, "SEEDGATE_PUBLIC_URL=http://"+addr)
	}
	return dialecttest.Start(t, append(vars, env...)...)
}

// LossyProxy forwards to target, but the answers of the first two creates
// (POST createPath) never come back: the upstream makes the task, the caller
// sees its connection close. It returns the proxy's URL and the count of
// creates it saw.
func LossyProxy(t testing.TB, target, createPath string) (string, *atomic.Int32) {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	var lost atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == createPath && lost.Add(1) <= 2 {
			rp.ServeHTTP(httptest.NewRecorder(), r)
			panic(http.ErrAbortHandler) // close the connection without an answer
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s.URL, &lost
}

// Tasks is how many tasks g holds (the native list sees every dialect's).
func Tasks(t testing.TB, g *dialecttest.Gateway) int {
	t.Helper()
	code, out, body := g.JSON("GET", "/v1/jobs?limit=100", "")
	require.Equal(t, http.StatusOK, code, "%s", body)
	return len(out["data"].([]any))
}

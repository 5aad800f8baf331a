package seedance_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/provider/kindhttp"
	"github.com/seedgate/seedgate/internal/provider/kindtest"
	"github.com/seedgate/seedgate/internal/provider/seedance"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

// receiver serves the kind's callbacks as the gateway would and reports the
// task ids they make due.
func receiver(t *testing.T) (*seedance.Kind, *kindtest.CallbackServer) {
	cs := kindtest.NewCallbackServer(t, seedance.Name)
	k := seedance.New(seedance.Options{Callbacks: cs.Callbacks})
	cs.Serve(k)
	return k, cs
}

func imageServer(t *testing.T) string {
	png := dialecttest.PNG(64, 48)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(png)
	}))
	t.Cleanup(s.Close)
	return s.URL
}

func TestRoundTrip(t *testing.T) {
	b := kindtest.Upstream(t)
	k, woken := receiver(t)
	caps := k.Capabilities()
	require.True(t, caps.Callbacks)
	require.True(t, caps.BatchCheck)
	require.False(t, caps.Cancel)
	c := kindtest.Call(b, seedance.Name, "doubao-seedance-1-5-pro-251215")
	ctx := context.Background()
	tk := kindtest.Task(t, "task-s-1", "seedance-1-5-pro", task.Request{Prompt: "a lighthouse at dusk",
		FirstFrame: imageServer(t) + "/f.png", Resolution: "480p", Duration: task.Int(4), ReturnLastFrame: task.Bool(true)})
	require.Empty(t, caps.Missing(&tk.Request))

	start := time.Now()
	id, err := k.Create(ctx, c, tk)
	require.NoError(t, err)
	require.Less(t, time.Since(start), 10*time.Second, "with a callback_url the create answers at once")
	require.Equal(t, kindhttp.Marker(tk.ID), id, "the upstream files the task under the create's request id")
	tk.UpstreamID = id

	// A create whose answer was lost is found by its marker; B holds one task.
	found, ok, err := k.Lookup(ctx, c, tk, tk.CreatedAt)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, id, found)
	code, list, _ := b.JSON("GET", "/v1/jobs?limit=100", "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, list["data"], 1)

	// One that never reached B is certainly not there.
	_, ok, err = k.Lookup(ctx, c, kindtest.Task(t, "task-s-never", "seedance-1-5-pro", task.Request{Prompt: "x"}), time.Now())
	require.NoError(t, err)
	require.False(t, ok)

	// B calls back when the task ends: that makes it due, and the check reads it.
	require.Equal(t, tk.ID, woken.Wait(t))
	u, err := k.Check(ctx, c, tk)
	require.NoError(t, err)
	require.Equal(t, task.StatusSucceeded, u.Status, "%+v", u.Error)
	info := kindtest.Video(t, u.Result.UpstreamVideoURL)
	require.InDelta(t, 4, info.Duration, 0.5)
	require.Positive(t, info.Width)
	require.True(t, info.HasAudio)
	require.NotEmpty(t, u.Result.UpstreamFrameURL)
	resp, err := http.Get(u.Result.UpstreamFrameURL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// Many tasks in one call; ids B does not know are left to single checks.
	second := kindtest.Task(t, "task-s-2", "seedance-1-0-pro", task.Request{Prompt: "waves", Resolution: "480p", Duration: task.Int(2)})
	second.UpstreamID, err = k.Create(ctx, kindtest.Call(b, seedance.Name, "doubao-seedance-1-0-pro-250528"), second)
	require.NoError(t, err)
	ghost := &task.Task{ID: "task-s-ghost", UpstreamID: "sg-nobody"}
	got, err := k.CheckBatch(ctx, c, []*task.Task{tk, second, ghost})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, task.StatusSucceeded, got[tk.ID].Status)
	require.Equal(t, u.Result.UpstreamVideoURL, got[tk.ID].Result.UpstreamVideoURL)
	require.Contains(t, []task.Status{task.StatusQueued, task.StatusRunning, task.StatusSucceeded}, got[second.ID].Status)
	require.Equal(t, task.StatusSucceeded, kindtest.Finish(t, k, c, second).Status)
}

func TestErrors(t *testing.T) {
	b := kindtest.Upstream(t)
	k, _ := receiver(t)
	c := kindtest.Call(b, seedance.Name, "doubao-seedance-1-0-pro-250528")
	ctx := context.Background()

	bad := kindtest.Task(t, "task-s-3", "seedance-1-0-pro", task.Request{Prompt: "x"})
	bad.Request.Ratio = "7:3"
	_, err := k.Create(ctx, c, bad)
	ce := kindtest.CallError(t, err)
	require.Equal(t, http.StatusBadRequest, ce.Status)
	require.True(t, ce.FromUpstream)
	require.Equal(t, "ratio", ce.Param)
	require.Equal(t, "token_mismatched", ce.Code)

	wrong := c
	wrong.Key = &routing.Key{ID: "x", Secret: "sk-wrong"}
	_, err = k.Create(ctx, wrong, kindtest.Task(t, "task-s-4", "seedance-1-0-pro", task.Request{Prompt: "x"}))
	ce = kindtest.CallError(t, err)
	require.Equal(t, http.StatusUnauthorized, ce.Status)
	require.Equal(t, "invalid_token", ce.Code)

	_, err = k.Check(ctx, c, &task.Task{ID: "t", UpstreamID: "sg-nobody"})
	ce = kindtest.CallError(t, err)
	require.Equal(t, http.StatusNotFound, ce.Status)
	require.True(t, ce.FromUpstream)

	// A proxy's 404 page is no "the upstream has no such task".
	s := httptest.NewServer(http.NotFoundHandler())
	defer s.Close()
	proxied := c
	proxied.Channel = &routing.Channel{Name: "p", Kind: seedance.Name, BaseURL: s.URL}
	_, _, err = k.Lookup(ctx, proxied, bad, time.Now())
	ce = kindtest.CallError(t, err)
	require.False(t, ce.FromUpstream)
}

// A callback whose token the gateway did not make wakes nothing.
func TestForgedCallback(t *testing.T) {
	k, _ := receiver(t)
	woke := false
	mux := http.NewServeMux()
	mux.Handle("POST /cb/{id}/{token}", k.CallbackHandler(func(context.Context, string, time.Time) error { woke = true; return nil }))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/cb/task-1/forged", strings.NewReader(`{"success":true,"task_id":"x","data":{"task_id":"x","status":"succeeded","video_url":"u"}}`)))
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.False(t, woke)
	require.False(t, seedance.New(seedance.Options{}).Capabilities().Callbacks, "no callbacks without a callback URL")
}

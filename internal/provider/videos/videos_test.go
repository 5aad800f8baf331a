package videos_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/provider/kindtest"
	"github.com/seedgate/seedgate/internal/provider/videos"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

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
	k := videos.New(videos.Options{})
	callbacks := kindtest.NewCallbackServer(t, videos.Name)
	k = videos.New(videos.Options{Callbacks: callbacks.Callbacks})
	callbacks.Serve(k)
	require.True(t, k.Capabilities().Callbacks)
	c := kindtest.Call(b, videos.Name, "doubao-seedance-1-5-pro")
	img := imageServer(t)
	tk := kindtest.Task(t, "task-v-1", "seedance-1-5-pro", task.Request{Prompt: "a paper boat drifts",
		FirstFrame: img + "/first.png", LastFrame: img + "/last.png", Resolution: "480p", Duration: task.Int(4), Seed: task.Int64(21)})
	require.Empty(t, k.Capabilities().Missing(&tk.Request))

	id, err := k.Create(context.Background(), c, tk)
	require.NoError(t, err)
	tk.UpstreamID = id

	again, found, err := k.Lookup(context.Background(), c, tk, tk.CreatedAt)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, id, again, "the same create under the same key is the same task")
	code, list, _ := b.JSON("GET", "/v1/jobs?limit=100", "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, list["data"], 1, "B holds one task")

	// B calls back on each change; a finished task is made due.
	require.Equal(t, tk.ID, callbacks.Wait(t))
	u := kindtest.Finish(t, k, c, tk)
	require.Equal(t, task.StatusSucceeded, u.Status, "%+v", u.Error)
	require.NotNil(t, u.Usage)
	require.Equal(t, int64(21), u.Result.Seed)
	info := kindtest.Video(t, u.Result.UpstreamVideoURL)
	require.Equal(t, u.Result.Width, info.Width)
	require.Equal(t, u.Result.Height, info.Height)
	require.InDelta(t, 4, info.Duration, 0.5)
	require.True(t, info.HasAudio, "1.5 pro's audio default is sent explicitly")

	// Silence asked for is silence delivered.
	quiet := kindtest.Task(t, "task-v-2", "seedance-1-5-pro", task.Request{Prompt: "snow", Resolution: "480p",
		Duration: task.Int(4), GenerateAudio: task.Bool(false)})
	quiet.UpstreamID, err = k.Create(context.Background(), c, quiet)
	require.NoError(t, err)
	u = kindtest.Finish(t, k, c, quiet)
	require.Equal(t, task.StatusSucceeded, u.Status, "%+v", u.Error)
	require.False(t, kindtest.Video(t, u.Result.UpstreamVideoURL).HasAudio)
}

func TestCapabilities(t *testing.T) {
	caps := videos.New(videos.Options{}).Capabilities()
	require.False(t, caps.Cancel, "the dialect has no cancel call")
	require.False(t, caps.LastFrame)
	tk := kindtest.Task(t, "task-v-3", "seedance-1-0-pro", task.Request{Prompt: "x", ReturnLastFrame: task.Bool(true)})
	require.Equal(t, "return_last_frame", caps.Missing(&tk.Request))
	tk = kindtest.Task(t, "task-v-4", "seedance-1-0-lite-i2v", task.Request{Prompt: "x", ReferenceImages: []string{"https://example.com/a.png"}})
	require.Equal(t, "mode reference", caps.Missing(&tk.Request))
	tk = kindtest.Task(t, "task-v-5", "seedance-1-0-pro", task.Request{Prompt: "x", Frames: task.Int(29)})
	require.Equal(t, "frames", caps.Missing(&tk.Request))
}

func TestErrors(t *testing.T) {
	b := kindtest.Upstream(t)
	k := videos.New(videos.Options{})
	c := kindtest.Call(b, videos.Name, "doubao-seedance-1-0-pro-250528")
	ctx := context.Background()

	bad := kindtest.Task(t, "task-v-6", "seedance-1-0-pro", task.Request{Prompt: "x"})
	bad.Request.Ratio = "7:3"
	_, err := k.Create(ctx, c, bad)
	ce := kindtest.CallError(t, err)
	require.Equal(t, http.StatusBadRequest, ce.Status)
	require.True(t, ce.FromUpstream)
	require.Equal(t, "ratio", ce.Param, "the dialect's aspect_ratio, named as the task names it")
	require.Equal(t, "invalid_request_error", ce.Code)

	wrong := c
	wrong.Key = &routing.Key{ID: "x", Secret: "sk-wrong"}
	_, err = k.Create(ctx, wrong, kindtest.Task(t, "task-v-7", "seedance-1-0-pro", task.Request{Prompt: "x"}))
	ce = kindtest.CallError(t, err)
	require.Equal(t, http.StatusUnauthorized, ce.Status)
	require.Equal(t, "authentication_error", ce.Code)

	_, err = k.Check(ctx, c, &task.Task{ID: "t", UpstreamID: "cgt-none"})
	ce = kindtest.CallError(t, err)
	require.Equal(t, http.StatusNotFound, ce.Status)
	require.True(t, ce.FromUpstream)

	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"code":200,"data":[]}`))
	}))
	defer s.Close()
	odd := c
	odd.Channel = &routing.Channel{Name: "odd", Kind: videos.Name, BaseURL: s.URL}
	_, err = k.Create(ctx, odd, kindtest.Task(t, "task-v-8", "seedance-1-0-pro", task.Request{Prompt: "x"}))
	ce = kindtest.CallError(t, err)
	require.True(t, ce.Sent, "a 200 without a task id: the outcome is unknown")
	require.False(t, ce.FromUpstream)
}

package openrouter_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/openrouteremu"
	"github.com/seedgate/seedgate/internal/provider/openrouter"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

const secret = "sk-or-kind"

func setup(t *testing.T) (*openrouteremu.Server, upstream.Call, *openrouter.Kind) {
	t.Helper()
	mp4, err := openrouteremu.TestVideo(context.Background(), "")
	require.NoError(t, err)
	emu := openrouteremu.New(openrouteremu.Options{APIKeys: []string{secret}, Video: mp4, QueueTime: 10 * time.Millisecond, RunTime: 50 * time.Millisecond})
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	c := upstream.Call{Channel: &routing.Channel{Name: "or", Kind: openrouter.Name, BaseURL: ts.URL + openrouteremu.BasePath},
		Key: &routing.Key{ID: "k1", Secret: secret}, Model: "seedance-2-0"}
	return emu, c, openrouter.New(openrouter.Config{})
}

func newTask(prompt string) *task.Task {
	return &task.Task{ID: "cgt-1", Model: "seedance-2-0", Request: task.Request{Prompt: prompt, Resolution: "480p", Ratio: "16:9",
		Duration: task.Int(4), Seed: task.Int64(9), GenerateAudio: task.Bool(true)}}
}

// A create goes to OpenRouter with the catalog model's OpenRouter id and the
// request's fields; checks follow it to completion; the result URL is the
// content endpoint, which answers only with the header the kind gives.
func TestCreateCheckDownload(t *testing.T) {
	emu, c, k := setup(t)
	ctx := context.Background()
	tk := newTask("a kite")
	id, err := k.Create(ctx, c, tk)
	require.NoError(t, err)
	tk.UpstreamID = id
	jobs := emu.Jobs()
	require.Len(t, jobs, 1)
	require.Equal(t, "bytedance/seedance-2.0", jobs[0].Model)
	require.Equal(t, "16:9", jobs[0].Request.AspectRatio)
	require.Equal(t, int64(9), *jobs[0].Request.Seed)

	deadline := time.Now().Add(10 * time.Second)
	for {
		up, err := k.Check(ctx, c, tk)
		require.NoError(t, err)
		if up.Status == task.StatusSucceeded {
			require.Equal(t, 864, up.Result.Width, "the catalog's 480p 16:9 for 2.0")
			require.NotNil(t, up.Result.UpstreamDoneAt)
			get := func(h http.Header) *http.Response {
				req, _ := http.NewRequest("GET", up.Result.UpstreamVideoURL, nil)
				req.Header = h
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				return resp
			}
			resp := get(nil)
			resp.Body.Close()
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			resp = get(k.ResultHeader(c))
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "ftyp", string(b[4:8]), "an MP4")
			break
		}
		require.Contains(t, []task.Status{task.StatusQueued, task.StatusRunning}, up.Status)
		require.True(t, time.Now().Before(deadline), "still %s", up.Status)
		time.Sleep(10 * time.Millisecond)
	}

	// A failed job carries OpenRouter's reason.
	tk2 := newTask("no " + openrouteremu.FailMarker)
	tk2.UpstreamID, err = k.Create(ctx, c, tk2)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		up, err := k.Check(ctx, c, tk2)
		return err == nil && up.Status == task.StatusFailed && up.Error.Message != ""
	}, 10*time.Second, 10*time.Millisecond)

	// An unknown job is a failed task, not an endless retry.
	tk3 := newTask("x")
	tk3.UpstreamID = "gen-vid-1-none"
	up, err := k.Check(ctx, c, tk3)
	require.NoError(t, err)
	require.Equal(t, task.StatusFailed, up.Status)
}

// Errors are CallErrors failover can classify: OpenRouter's refusals name
// the field; a drop after the create is sent with no answer (an unknown
// outcome); a refused connection was never sent.
func TestCallErrors(t *testing.T) {
	emu, c, k := setup(t)
	ctx := context.Background()
	tk := newTask("a kite")
	tk.Request.Duration = task.Int(99)
	_, err := k.Create(ctx, c, tk)
	var ce *upstream.CallError
	require.True(t, errors.As(err, &ce), "%v", err)
	require.Equal(t, http.StatusBadRequest, ce.Status)
	require.True(t, ce.FromUpstream)
	require.Equal(t, "duration", ce.Param)

	emu.InjectFault(openrouteremu.Fault{Op: openrouteremu.OpCreate, Kind: openrouteremu.FaultHTTPError, Status: 503})
	_, err = k.Create(ctx, c, newTask("a kite"))
	require.True(t, errors.As(err, &ce))
	require.Equal(t, 503, ce.Status)

	emu.InjectFault(openrouteremu.Fault{Op: openrouteremu.OpCreate, Kind: openrouteremu.FaultDropAfter})
	_, err = k.Create(ctx, c, newTask("a kite"))
	require.True(t, errors.As(err, &ce))
	require.Zero(t, ce.Status)
	require.True(t, ce.Sent, "the create may have happened: %v", err)

	bad := c
	bad.Key = &routing.Key{ID: "k2", Secret: "wrong"}
	_, err = k.Create(ctx, bad, newTask("a kite"))
	require.True(t, errors.As(err, &ce))
	require.Equal(t, http.StatusUnauthorized, ce.Status)

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	gone := c
	gone.Channel = &routing.Channel{Name: "gone", Kind: openrouter.Name, BaseURL: closed.URL + "/api/v1"}
	_, err = k.Create(ctx, gone, newTask("a kite"))
	require.True(t, errors.As(err, &ce))
	require.False(t, ce.Sent, "a refused connection never reached OpenRouter: %v", err)
}

// The kind declares only what OpenRouter carries: no cancel, no lookup, no
// callbacks, no last frame, none of Ark's extra switches.
func TestCapabilities(t *testing.T) {
	caps := openrouter.New(openrouter.Config{}).Capabilities()
	require.False(t, caps.Cancel)
	require.False(t, caps.Lookup)
	require.False(t, caps.Callbacks)
	require.False(t, caps.LastFrame)
	ok := newTask("p").Request
	require.Empty(t, caps.Missing(&ok))
	for field, r := range map[string]task.Request{
		"watermark":         {Prompt: "p", Watermark: task.Bool(true)},
		"camera_fixed":      {Prompt: "p", CameraFixed: task.Bool(true)},
		"service_tier":      {Prompt: "p", ServiceTier: task.TierFlex},
		"return_last_frame": {Prompt: "p", ReturnLastFrame: task.Bool(true)},
		"mode draft_task":   {DraftTaskID: "cgt-x"},
		"frames":            {Prompt: "p", Frames: task.Int(29)},
	} {
		require.Equal(t, field, caps.Missing(&r), field)
	}
	require.Equal(t, "bytedance/seedance-1-5-pro", openrouter.UpstreamModel("seedance-1-5-pro"))
	require.Equal(t, "bytedance/seedance-2.0-fast", openrouter.UpstreamModel("doubao-seedance-2-0-fast-260128"))
	require.Equal(t, "vendor/model", openrouter.UpstreamModel("vendor/model"))
}

package jobs_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/provider/jobs"
	"github.com/seedgate/seedgate/internal/provider/kindtest"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

// pngServer serves a 64×48 PNG at /img.png, an input URL the upstream fetches.
func pngServer(t *testing.T) string {
	png := dialecttest.PNG(64, 48)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(png)
	}))
	t.Cleanup(s.Close)
	return s.URL + "/img.png"
}

// jobCount is how many jobs B holds.
func jobCount(t *testing.T, b *dialecttest.Gateway) int {
	code, out, body := b.JSON("GET", "/v1/jobs?limit=100", "")
	require.Equal(t, http.StatusOK, code, "%s", body)
	return len(out["data"].([]any))
}

func TestRoundTrip(t *testing.T) {
	b := kindtest.Upstream(t)
	k := jobs.New(jobs.Options{})
	callbacks := kindtest.NewCallbackServer(t, jobs.Name)
	k = jobs.New(jobs.Options{Callbacks: callbacks.Callbacks})
	callbacks.Serve(k)
	require.True(t, k.Capabilities().Callbacks)
	c := kindtest.Call(b, jobs.Name, "seedance-1-5-pro")
	tk := kindtest.Task(t, "task-rt-1", "seedance-1-5-pro", task.Request{Prompt: "a kitten yawns", FirstFrame: pngServer(t),
		Resolution: "480p", Duration: task.Int(4), ReturnLastFrame: task.Bool(true), Seed: task.Int64(7)})
	require.Empty(t, k.Capabilities().Missing(&tk.Request), "the kind carries the request")

	id, err := k.Create(context.Background(), c, tk)
	require.NoError(t, err)
	require.NotEmpty(t, id)
	tk.UpstreamID = id

	// A create whose answer was lost is found again, and B holds one job.
	again, found, err := k.Lookup(context.Background(), c, tk, tk.CreatedAt)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, id, again)
	require.Equal(t, 1, jobCount(t, b))

	// B calls back on each change; a finished task is made due.
	require.Equal(t, tk.ID, callbacks.Wait(t))
	u := kindtest.Finish(t, k, c, tk)
	require.Equal(t, task.StatusSucceeded, u.Status, "%+v", u.Error)
	res := u.Result
	require.NotEmpty(t, res.UpstreamVideoURL)
	require.NotEmpty(t, res.UpstreamFrameURL, "return_last_frame was asked")
	require.NotNil(t, u.Usage)
	require.Positive(t, u.Usage.TotalTokens)
	require.Equal(t, int64(7), res.Seed)
	require.Equal(t, "480p", res.Resolution)

	info := kindtest.Video(t, res.UpstreamVideoURL)
	require.Equal(t, res.Width, info.Width)
	require.Equal(t, res.Height, info.Height)
	require.InDelta(t, 4, info.Duration, 0.5)
	require.True(t, info.HasAudio, "1.5 pro generates audio by default")
	require.True(t, res.HasAudio)

	resp, err := http.Get(res.UpstreamFrameURL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestCancel(t *testing.T) {
	b := kindtest.Upstream(t, "SEEDGATE_SANDBOX_QUEUE_DELAY=1m")
	k := jobs.New(jobs.Options{})
	require.True(t, k.Capabilities().Cancel)
	c := kindtest.Call(b, jobs.Name, "seedance-1-0-pro")
	tk := kindtest.Task(t, "task-cancel-1", "seedance-1-0-pro", task.Request{Prompt: "rain on a window"})
	id, err := k.Create(context.Background(), c, tk)
	require.NoError(t, err)
	tk.UpstreamID = id

	require.NoError(t, k.Cancel(context.Background(), c, tk))
	u, err := k.Check(context.Background(), c, tk)
	require.NoError(t, err)
	require.Equal(t, task.StatusCancelled, u.Status)

	// A second cancel: the upstream refuses, which the provider reads as a conflict.
	err = k.Cancel(context.Background(), c, tk)
	require.Equal(t, task.CodeConflict, task.ErrorCode(err), "%v", err)
}

func TestErrors(t *testing.T) {
	b := kindtest.Upstream(t)
	k := jobs.New(jobs.Options{})
	c := kindtest.Call(b, jobs.Name, "seedance-1-0-pro")
	ctx := context.Background()

	// A value the upstream refuses: the error names the field as the task does.
	bad := kindtest.Task(t, "task-bad-1", "seedance-1-0-pro", task.Request{Prompt: "x"})
	bad.Request.Ratio = "7:3"
	_, err := k.Create(ctx, c, bad)
	ce := kindtest.CallError(t, err)
	require.Equal(t, http.StatusBadRequest, ce.Status)
	require.True(t, ce.Sent)
	require.True(t, ce.FromUpstream)
	require.Equal(t, "ratio", ce.Param)
	require.Equal(t, string(task.CodeInvalidParameter), ce.Code)
	require.Contains(t, ce.Message, "7:3")

	// A wrong key.
	wrong := c
	wrong.Key = &routing.Key{ID: "x", Secret: "sk-wrong"}
	_, err = k.Create(ctx, wrong, kindtest.Task(t, "task-bad-2", "seedance-1-0-pro", task.Request{Prompt: "x"}))
	ce = kindtest.CallError(t, err)
	require.Equal(t, http.StatusUnauthorized, ce.Status)
	require.True(t, ce.FromUpstream)

	// Nothing listens: never sent.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	gone := c
	gone.Channel = &routing.Channel{Name: "gone", Kind: jobs.Name, BaseURL: "http://" + addr}
	_, err = k.Create(ctx, gone, kindtest.Task(t, "task-bad-3", "seedance-1-0-pro", task.Request{Prompt: "x"}))
	ce = kindtest.CallError(t, err)
	require.Zero(t, ce.Status)
	require.False(t, ce.Sent)

	// A 200 that is no job, and a proxy's 502 page: sent, not the upstream's word.
	for _, answer := range []struct {
		status int
		body   string
	}{{200, `{"id":`}, {200, `{"object":"job","status":"processing"}`}, {502, `<html>bad gateway</html>`}} {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(answer.status)
			_, _ = w.Write([]byte(answer.body))
		}))
		odd := c
		odd.Channel = &routing.Channel{Name: "odd", Kind: jobs.Name, BaseURL: s.URL}
		_, err = k.Create(ctx, odd, kindtest.Task(t, "task-bad-4", "seedance-1-0-pro", task.Request{Prompt: "x"}))
		s.Close()
		ce = kindtest.CallError(t, err)
		require.True(t, ce.Sent, answer.body)
		require.False(t, ce.FromUpstream, answer.body)
	}

	// Reading a task B does not have.
	_, err = k.Check(ctx, c, &task.Task{ID: "t", UpstreamID: "cgt-none"})
	ce = kindtest.CallError(t, err)
	require.Equal(t, http.StatusNotFound, ce.Status)
	require.True(t, ce.FromUpstream)
}

// A draft made on the channel is turned into its video there: the create
// names the draft by its upstream id.
func TestDraft(t *testing.T) {
	b := kindtest.Upstream(t)
	k := jobs.New(jobs.Options{})
	c := kindtest.Call(b, jobs.Name, "seedance-1-5-pro")
	ctx := context.Background()
	draft := kindtest.Task(t, "task-draft-1", "seedance-1-5-pro", task.Request{Prompt: "a lantern festival", Draft: task.Bool(true), Duration: task.Int(4)})
	id, err := k.Create(ctx, c, draft)
	require.NoError(t, err)
	draft.UpstreamID = id
	require.Equal(t, task.StatusSucceeded, kindtest.Finish(t, k, c, draft).Status)

	final := kindtest.Task(t, "task-draft-2", "seedance-1-5-pro", task.Request{DraftTaskID: draft.ID, Resolution: "480p"})
	require.Empty(t, k.Capabilities().Missing(&final.Request))
	c.Draft = id
	final.UpstreamID, err = k.Create(ctx, c, final)
	require.NoError(t, err)
	u := kindtest.Finish(t, k, c, final)
	require.Equal(t, task.StatusSucceeded, u.Status, "%+v", u.Error)
	require.Positive(t, kindtest.Video(t, u.Result.UpstreamVideoURL).Width)
}

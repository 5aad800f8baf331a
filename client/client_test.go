package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/client"
	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/config"
	"github.com/seedgate/seedgate/internal/media/mediatest"
)

const testKey = "client-test-key"

// startGateway runs a real gateway in this process (SQLite in a temp dir, the
// sandbox renderer with short delays) and returns its base URL.
func startGateway(t *testing.T, env map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	vars := map[string]string{
		"SEEDGATE_LISTEN":              addr,
		"SEEDGATE_DATA_DIR":            t.TempDir(),
		"SEEDGATE_API_KEYS":            testKey,
		"SEEDGATE_SANDBOX_QUEUE_DELAY": "200ms",
		"SEEDGATE_SANDBOX_RUN_TIME":    "600ms",
	}
	for k, v := range env {
		vars[k] = v
	}
	c, err := config.Load("serve", nil, func(k string) string { return vars[k] }, io.Discard)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.Start(context.Background(), c, log)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Shutdown(10 * time.Second) })
	return "http://" + a.Addr
}

func pngOf(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), 90, uint8(y * 255 / h), 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// The whole life of a job through the client, against a real gateway.
func TestJobLifecycle(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := startGateway(t, nil)
	rec := &recorder{}
	c := client.New(client.WithBaseURL(base), client.WithAPIKey(testKey), client.WithHTTPClient(&http.Client{Transport: rec}))

	models, err := c.Models(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, models)
	var pro15 *client.Model
	for i := range models {
		if models[i].ID == "seedance-1-5-pro" {
			pro15 = &models[i]
		}
	}
	require.NotNil(t, pro15)
	require.Equal(t, []string{"480p", "720p", "1080p"}, pro15.Resolutions)
	require.True(t, pro15.Features.Audio)
	require.Equal(t, 4, pro15.Durations.Min)

	dir := t.TempDir()
	first := filepath.Join(dir, "first.png")
	require.NoError(t, os.WriteFile(first, pngOf(t, 640, 480), 0o644))
	f, err := c.UploadPath(ctx, first, "first_frame")
	require.NoError(t, err)
	require.Equal(t, "image", f.Kind)
	require.Equal(t, 640, f.Width)
	require.True(t, strings.HasPrefix(f.URL, base+"/v1/files/"), f.URL)
	got, err := c.GetFile(ctx, f.ID)
	require.NoError(t, err)
	require.Equal(t, f.SHA256, got.SHA256)

	job, err := c.CreateJob(ctx, client.CreateJobRequest{
		Model: "seedance-1-5-pro",
		Input: client.Input{Prompt: "a slow zoom", FirstFrameURL: f.URL, Resolution: "480p", Duration: client.Int(4),
			Seed: client.Int64(7), GenerateAudio: client.Bool(true), ReturnLastFrame: client.Bool(true)},
	})
	require.NoError(t, err)
	require.Equal(t, client.StatusProcessing, job.Status)

	var mu sync.Mutex
	var seen []client.Job
	final, err := c.Wait(ctx, job.ID, client.WaitOptions{PollInterval: 50 * time.Millisecond, Progress: func(j *client.Job) {
		mu.Lock()
		seen = append(seen, *j)
		mu.Unlock()
	}})
	require.NoError(t, err)
	require.Equal(t, client.StatusSucceeded, final.Status, "%+v", final.Error)
	require.NoError(t, final.Err())
	require.Equal(t, 100, final.Progress)
	require.GreaterOrEqual(t, len(seen), 2, "progress is reported while waiting")
	require.Equal(t, client.StatusSucceeded, seen[len(seen)-1].Status)
	for i := 1; i < len(seen); i++ {
		require.GreaterOrEqual(t, seen[i].Progress, seen[i-1].Progress, "progress never goes back")
	}
	require.NotNil(t, final.Usage)
	require.NotEmpty(t, final.Output.LastFrameURL)
	// With the gateway's event stream, Wait follows it instead of polling.
	if rec.status("GET /v1/jobs/"+job.ID+"/events") == http.StatusOK {
		require.LessOrEqual(t, rec.count("GET /v1/jobs/"+job.ID), 2, "Wait polled although the stream was there")
		t.Log("Wait followed the SSE stream")
	} else {
		t.Log("no SSE stream on this gateway: Wait polled")
	}

	out := filepath.Join(dir, "out.mp4")
	n, err := c.DownloadFile(ctx, final.VideoURL(), out)
	require.NoError(t, err)
	require.Positive(t, n)
	info, err := mediatest.ProbeVideo(ctx, out)
	require.NoError(t, err)
	require.True(t, info.HasAudio)
	require.InDelta(t, 4.0, info.Duration, 0.1)

	// Listing with filters.
	l, err := c.ListJobs(ctx, client.ListOptions{Status: "succeeded", Model: "seedance-1.5-pro", Query: "slow ZOOM"})
	require.NoError(t, err)
	require.Len(t, l.Data, 1)
	require.Equal(t, job.ID, l.Data[0].ID)
	l, err = c.ListJobs(ctx, client.ListOptions{Status: "failed"})
	require.NoError(t, err)
	require.Empty(t, l.Data)

	// Typed errors.
	_, err = c.GetJob(ctx, "cgt-nope")
	require.ErrorIs(t, err, client.ErrNotFound)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 404, ae.Status)
	require.Equal(t, "not_found", ae.Code)
	require.NotEmpty(t, ae.RequestID)

	// A value the model cannot take: relaxed with a warning, or rejected when strict.
	relaxed, err := c.CreateJob(ctx, client.CreateJobRequest{Model: "seedance-1-5-pro", Input: client.Input{Prompt: "x", Duration: client.Int(30)}})
	require.NoError(t, err)
	require.Contains(t, strings.Join(relaxed.Warnings, "\n"), "duration 30")
	_, err = c.CreateJob(ctx, client.CreateJobRequest{Model: "seedance-1-5-pro", Strict: true, Input: client.Input{Prompt: "x", Duration: client.Int(30)}})
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 400, ae.Status)
	require.Equal(t, "input.duration", ae.Field)
	require.Contains(t, ae.Error(), "input.duration")

	_, err = c.CancelJob(ctx, job.ID)
	require.ErrorIs(t, err, client.ErrConflict)

	bad := client.New(client.WithBaseURL(base), client.WithAPIKey("wrong"))
	_, err = bad.ListJobs(ctx, client.ListOptions{})
	require.ErrorIs(t, err, client.ErrUnauthorized)
	require.NotErrorIs(t, err, client.ErrNotFound)

	// A signed URL downloads with any client, even one without a key.
	var buf bytes.Buffer
	_, err = client.New(client.WithBaseURL(base)).Download(ctx, final.Output.LastFrameURL, &buf)
	require.NoError(t, err)
	_, err = png.DecodeConfig(&buf)
	require.NoError(t, err)
}

func TestCancelQueuedJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := startGateway(t, map[string]string{"SEEDGATE_SANDBOX_QUEUE_DELAY": "30s"})
	c := client.New(client.WithBaseURL(base), client.WithAPIKey(testKey))
	job, err := c.CreateJob(ctx, client.CreateJobRequest{Model: "seedance-1-0-pro-fast", Input: client.Input{Prompt: "never", Resolution: "480p", Duration: client.Int(2)}})
	require.NoError(t, err)
	job, err = c.CancelJob(ctx, job.ID)
	require.NoError(t, err)
	require.Equal(t, client.StatusCancelled, job.Status)
	final, err := c.Wait(ctx, job.ID, client.WaitOptions{})
	require.NoError(t, err)
	require.Error(t, final.Err())

	// A wait that outlives its context ends with the context's error.
	job, err = c.CreateJob(ctx, client.CreateJobRequest{Model: "seedance-1-0-pro-fast", Input: client.Input{Prompt: "slow", Resolution: "480p", Duration: client.Int(2)}})
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = c.Wait(short, job.ID, client.WaitOptions{PollInterval: 50 * time.Millisecond})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestFailedJobIsReported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := startGateway(t, nil)
	c := client.New(client.WithBaseURL(base), client.WithAPIKey(testKey))
	job, err := c.CreateJob(ctx, client.CreateJobRequest{Model: "seedance-1-0-lite-t2v",
		Input: client.Input{Prompt: "x [sandbox:fail=OutputVideoSensitiveContentDetected]", Resolution: "480p", Duration: client.Int(2)}})
	require.NoError(t, err)
	final, err := c.Wait(ctx, job.ID, client.WaitOptions{PollInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, client.StatusFailed, final.Status)
	var je *client.JobError
	require.ErrorAs(t, final.Err(), &je)
	require.Equal(t, "OutputVideoSensitiveContentDetected", je.UpstreamCode)
}

// recorder counts requests by "METHOD path" and remembers the last status.
type recorder struct {
	mu       sync.Mutex
	counts   map[string]int
	statuses map[string]int
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts, r.statuses = map[string]int{}, map[string]int{}
	}
	k := req.Method + " " + req.URL.Path
	r.counts[k]++
	if err == nil {
		r.statuses[k] = resp.StatusCode
	}
	return resp, err
}

func (r *recorder) count(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[k]
}

func (r *recorder) status(k string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statuses[k]
}

// fakeJobs serves GET /v1/jobs/{id} from a script of states, and optionally an
// event stream that sends them as they come.
type fakeJobs struct {
	mu     sync.Mutex
	states []string // status/progress pairs "processing:40"
	step   int
	gets   atomic.Int32
	events bool
	wrap   bool // send {"job":{…}} instead of the bare job
}

func (f *fakeJobs) job() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.states[min(f.step, len(f.states)-1)]
	status, progress, _ := strings.Cut(st, ":")
	return fmt.Sprintf(`{"id":"cgt-1","object":"job","status":%q,"progress":%s,"output":{"status":"running","videos":[]},"error":null}`, status, progress)
}

func (f *fakeJobs) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/jobs/cgt-1":
		f.gets.Add(1)
		body := f.job()
		f.mu.Lock()
		f.step++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	case "/v1/jobs/cgt-1/events":
		if !f.events {
			w.WriteHeader(404)
			io.WriteString(w, `{"error":{"code":"not_found","message":"no route"}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		io.WriteString(w, ": hello\n\n")
		fl.Flush()
		for {
			body := f.job()
			f.mu.Lock()
			f.step++
			done := f.step >= len(f.states)
			f.mu.Unlock()
			if f.wrap {
				body = `{"type":"job.updated","job":` + body + `}`
			}
			fmt.Fprintf(w, "event: job\ndata: %s\n\n", body)
			fl.Flush()
			if done {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	default:
		http.NotFound(w, r)
	}
}

func TestWaitFollowsEventStream(t *testing.T) {
	t.Parallel()
	for _, wrap := range []bool{false, true} {
		f := &fakeJobs{states: []string{"processing:0", "processing:30", "processing:60", "processing:90", "succeeded:100"}, events: true, wrap: wrap}
		srv := httptest.NewServer(f)
		defer srv.Close()
		c := client.New(client.WithBaseURL(srv.URL))
		var progress []int
		j, err := c.Wait(context.Background(), "cgt-1", client.WaitOptions{PollInterval: time.Hour, Progress: func(j *client.Job) { progress = append(progress, j.Progress) }})
		require.NoError(t, err)
		require.Equal(t, client.StatusSucceeded, j.Status)
		require.Equal(t, []int{0, 30, 60, 90, 100}, progress)
		require.EqualValues(t, 1, f.gets.Load(), "the stream carried every state: one GET only (wrap=%v)", wrap)
	}
}

func TestWaitPollsWithoutEventStream(t *testing.T) {
	t.Parallel()
	f := &fakeJobs{states: []string{"processing:0", "processing:10", "processing:10", "processing:10", "processing:50", "succeeded:100"}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := client.New(client.WithBaseURL(srv.URL))
	var progress []int
	j, err := c.Wait(context.Background(), "cgt-1", client.WaitOptions{PollInterval: 5 * time.Millisecond,
		Progress: func(j *client.Job) { progress = append(progress, j.Progress) }})
	require.NoError(t, err)
	require.Equal(t, client.StatusSucceeded, j.Status)
	require.Equal(t, []int{0, 10, 50, 100}, progress, "unchanged polls are not reported")
	require.EqualValues(t, 6, f.gets.Load())
}

func TestWaitBacksOffOnRateLimit(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case r.URL.Path != "/v1/jobs/cgt-1":
			http.NotFound(w, r)
		case n == 2:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"code":"rate_limited","message":"slow down"}}`)
		case n < 3:
			io.WriteString(w, `{"id":"cgt-1","status":"processing","progress":5}`)
		default:
			io.WriteString(w, `{"id":"cgt-1","status":"succeeded","progress":100}`)
		}
	}))
	defer srv.Close()
	c := client.New(client.WithBaseURL(srv.URL))
	start := time.Now()
	j, err := c.Wait(context.Background(), "cgt-1", client.WaitOptions{NoEvents: true, PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, client.StatusSucceeded, j.Status)
	require.GreaterOrEqual(t, time.Since(start), time.Second, "Retry-After is honoured")

	// The sentinel and the parsed Retry-After, on a direct call.
	calls.Store(1)
	_, err = c.GetJob(context.Background(), "cgt-1")
	require.ErrorIs(t, err, client.ErrRateLimited)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, time.Second, ae.RetryAfter)
	require.True(t, ae.Temporary())
}

// A download whose connection breaks part way resumes with a Range request.
func TestDownloadResumes(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	var ranges []string
	var mu sync.Mutex
	var keys atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			keys.Add(1)
		}
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		first := len(ranges) == 1
		mu.Unlock()
		w.Header().Set("ETag", `"abc"`)
		if first { // send a third, then drop the connection
			w.Header().Set("Accept-Ranges", "bytes")
			w.Header().Set("Content-Length", fmt.Sprint(len(content)))
			w.WriteHeader(200)
			w.Write(content[:len(content)/3])
			w.(http.Flusher).Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
	}))
	defer srv.Close()
	c := client.New(client.WithBaseURL(srv.URL), client.WithAPIKey("k"))
	var buf bytes.Buffer
	n, err := c.Download(context.Background(), "/v1/files/file-1/content?sig=x", &buf)
	require.NoError(t, err)
	require.EqualValues(t, len(content), n)
	require.True(t, bytes.Equal(content, buf.Bytes()))
	require.Len(t, ranges, 2)
	require.Equal(t, fmt.Sprintf("bytes=%d-", len(content)/3), ranges[1])
	require.EqualValues(t, 2, keys.Load(), "the key goes to the gateway's own origin")

	// A URL on another origin never receives the key.
	other := client.New(client.WithBaseURL("http://gateway.invalid"), client.WithAPIKey("k"))
	keys.Store(0)
	mu.Lock()
	ranges = []string{"x"} // not the first request: serve it whole
	mu.Unlock()
	buf.Reset()
	_, err = other.Download(context.Background(), srv.URL+"/f", &buf)
	require.NoError(t, err)
	require.Zero(t, keys.Load())
}

func TestBadBaseURL(t *testing.T) {
	t.Parallel()
	c := client.New(client.WithBaseURL("localhost:8000"))
	_, err := c.GetJob(context.Background(), "x")
	require.Error(t, err)
	require.Contains(t, err.Error(), "base URL")
	require.False(t, errors.Is(err, client.ErrNotFound))
}

package ark_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
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
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/arkemu"
	"github.com/seedgate/seedgate/internal/config"
	"github.com/seedgate/seedgate/internal/media/mediatest"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/task"
)

// These tests run the whole gateway (app.Start: SQLite, disk blobs, the
// scheduler, the HTTP server) against the Ark emulator as its upstream.

// fastChecks: the emulator's tasks take about 250 ms.
const fastChecks = "checks: {min_interval: 20ms, max_interval: 1s, expected_time: 250ms, reconcile_after: 100ms}\n"

type gateway struct {
	t       testing.TB
	emu     *arkemu.Server
	emuURL  string // the emulator's server URL
	app     *app.App
	url     string
	logs    *syncBuffer
	dataDir string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type setup struct {
	emu       arkemu.Options
	channels  string // YAML; {{base}} is the emulator's API base URL
	callbacks bool   // set SEEDGATE_PUBLIC_URL, so the upstream calls back
	env       map[string]string
	quiet     bool // log warnings only (benchmarks)
}

func start(t testing.TB, s setup) *gateway {
	t.Helper()
	emu := arkemu.New(s.emu)
	ts := httptest.NewServer(emu)
	t.Cleanup(func() { ts.Close(); emu.Close() })

	dir := t.TempDir()
	path := filepath.Join(dir, "channels.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.ReplaceAll(s.channels, "{{base}}", ts.URL+arkemu.BasePath)), 0o600))
	// Listen first: the public URL the upstream calls back to is the bound address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	env := map[string]string{
		"SEEDGATE_DATA_DIR":           filepath.Join(dir, "data"),
		"SEEDGATE_CHANNELS_FILE":      path,
		"SEEDGATE_ALLOW_PRIVATE_URLS": "127.0.0.0/8", // the emulator serves results on loopback
		"SEEDGATE_LEASE":              "5s",
		"SEEDGATE_WORKERS":            "8",
	}
	if s.callbacks {
		env["SEEDGATE_PUBLIC_URL"] = "http://" + addr
	}
	for k, v := range s.env {
		env[k] = v
	}
	c, err := config.Load("serve", nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	logs := &syncBuffer{}
	level := slog.LevelDebug
	if s.quiet {
		level = slog.LevelWarn
	}
	a, err := app.Start(context.Background(), c, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level})), app.WithListener(ln))
	require.NoError(t, err)
	g := &gateway{t: t, emu: emu, emuURL: ts.URL, app: a, url: "http://" + addr, logs: logs, dataDir: env["SEEDGATE_DATA_DIR"]}
	t.Cleanup(func() {
		_ = a.Shutdown(5 * time.Second)
		if t.Failed() {
			t.Logf("gateway logs:\n%s", logs.String())
		}
	})
	return g
}

func oneChannel(extra string) string {
	return fastChecks + "channels:\n  - name: main\n    base_url: {{base}}\n    keys: [sk-main]\n" + extra
}

func (g *gateway) create(model string, r task.Request) *task.Task {
	g.t.Helper()
	tk, err := g.app.Service.Create(context.Background(), service.CreateInput{Dialect: "jobs", Model: model, Request: r})
	require.NoError(g.t, err)
	return tk
}

func (g *gateway) get(id string) *task.Task {
	g.t.Helper()
	tk, err := g.app.Store.GetTask(context.Background(), id)
	require.NoError(g.t, err)
	return tk
}

func (g *gateway) wait(id string, want task.Status) *task.Task {
	g.t.Helper()
	var tk *task.Task
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		tk = g.get(id)
		if tk.Status == want {
			return tk
		}
		if tk.Status.Terminal() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	g.t.Fatalf("task %s is %s, want %s (error %+v)", id, tk.Status, want, tk.Error)
	return nil
}

func (g *gateway) waitFor(what string, cond func() bool) {
	g.t.Helper()
	require.Eventually(g.t, cond, 20*time.Second, 5*time.Millisecond, what)
}

func (g *gateway) upstream(tk *task.Task) arkemu.TaskInfo {
	g.t.Helper()
	info, ok := g.emu.TaskByID(tk.UpstreamID)
	require.True(g.t, ok, "upstream task %s", tk.UpstreamID)
	return info
}

func (g *gateway) download(url string) []byte {
	g.t.Helper()
	resp, err := http.Get(url)
	require.NoError(g.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(g.t, err)
	require.Equal(g.t, http.StatusOK, resp.StatusCode, "GET %s: %s", url, body)
	return body
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// create → queued → running → succeeded, the result mirrored into the
// gateway: its URLs still work after the upstream's have expired.
func TestSucceedsWithMirroredResults(t *testing.T) {
	t.Parallel()
	// The URLs must outlive the mirror's copy even on a loaded machine, and
	// expire within waitFor's deadline.
	g := start(t, setup{emu: arkemu.Options{URLTTL: 8 * time.Second, StrictImages: true}, channels: oneChannel("")})

	// A first frame uploaded to the gateway: the gateway's URL is not public,
	// so the image goes upstream inline.
	f, err := g.app.Service.Upload(context.Background(), service.UploadInput{Kind: "image", Body: bytes.NewReader(pngImage(t, 640, 480))})
	require.NoError(t, err)
	tk := g.create("seedance-1-0-pro", task.Request{Prompt: "a lighthouse at dusk", FirstFrame: g.app.Service.FileURL(f.ID),
		Resolution: "480p", Duration: task.Int(2), ReturnLastFrame: task.Bool(true), GenerateAudio: nil})
	require.Equal(t, "ark", tk.Provider)

	seen := map[task.Status]bool{}
	g.waitFor("success", func() bool {
		cur := g.get(tk.ID)
		seen[cur.Status] = true
		return cur.Status == task.StatusSucceeded
	})
	got := g.get(tk.ID)
	require.True(t, seen[task.StatusRunning] || seen[task.StatusQueued], "went through live statuses: %v", seen)
	require.Equal(t, "main", got.Channel)
	require.True(t, strings.HasPrefix(got.UpstreamKey, "k-"))
	require.NotEmpty(t, got.UpstreamID)
	require.Nil(t, got.Error)
	require.Equal(t, 100, got.Progress)

	up := g.upstream(got)
	require.Equal(t, "sk-main", up.APIKey)
	require.Equal(t, "doubao-seedance-1-0-pro-250528", up.Model)
	require.True(t, strings.HasPrefix(up.Request.FirstFrame, "data:image/png;base64,"), "inline first frame")
	require.Equal(t, "sg-"+tk.ID, up.SafetyIdentifier, "the reconcile marker")
	require.Equal(t, "4:3", up.Ratio, "adaptive resolved from the image the emulator saw")

	res := got.Result
	require.NotEmpty(t, res.VideoFileID)
	require.NotEmpty(t, res.LastFrameFileID)
	require.Equal(t, up.Content.VideoURL, res.UpstreamVideoURL)
	require.Equal(t, []int{736, 544}, []int{res.Width, res.Height}, "1.0 480p 4:3")
	require.Equal(t, 24, res.FPS)
	require.Equal(t, *up.Seed, res.Seed)
	require.Equal(t, up.Usage.TotalTokens, got.Usage.TotalTokens)
	require.EqualValues(t, task.Tokens(736, 544, 49), got.Usage.TotalTokens)

	// The upstream's URLs expire…
	g.waitFor("upstream URL expiry", func() bool {
		resp, err := http.Get(res.UpstreamVideoURL)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusForbidden
	})
	// … the gateway's do not. Clients see the gateway's URL in every dialect.
	shown, err := g.app.Service.Get(context.Background(), "", tk.ID)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(shown.Result.VideoURL, g.url+"/v1/files/"), shown.Result.VideoURL)
	video := g.download(shown.Result.VideoURL)
	path := filepath.Join(t.TempDir(), "v.mp4")
	require.NoError(t, os.WriteFile(path, video, 0o600))
	info, err := mediatest.ProbeVideo(context.Background(), path)
	require.NoError(t, err)
	require.Equal(t, []int{736, 544}, []int{info.Width, info.Height})
	require.InDelta(t, 2.0, info.Duration, 0.1)
	frame, err := png.DecodeConfig(bytes.NewReader(g.download(shown.Result.LastFrameURL)))
	require.NoError(t, err)
	require.Equal(t, []int{736, 544}, []int{frame.Width, frame.Height})
	// The mirror step made the thumbnail, a still of the copied video, right
	// after it recorded the success.
	g.waitFor("thumbnail", func() bool { return g.get(tk.ID).Result.ThumbnailFileID != "" })
	thumbID := g.get(tk.ID).Result.ThumbnailFileID
	thumb, err := jpeg.DecodeConfig(bytes.NewReader(g.download(g.app.Service.FileURL(thumbID))))
	require.NoError(t, err)
	require.Equal(t, []int{736, 544}, []int{thumb.Width, thumb.Height})
	require.Contains(t, g.logs.String(), `providers="ark(1 channel, 1 key)"`, "the startup log names the real provider")

	var job struct {
		Output struct {
			Videos []struct{ URL string } `json:"videos"`
		} `json:"output"`
	}
	req, _ := http.NewRequest(http.MethodGet, g.url+"/v1/jobs/"+tk.ID, nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, decodeJSON(resp.Body, &job))
	require.Equal(t, shown.Result.VideoURL, job.Output.Videos[0].URL)
}

// Upstream failures reach the task with Ark's code; a 400 at create fails
// the task at once and is never tried on another channel.
func TestUpstreamFailuresSurface(t *testing.T) {
	t.Parallel()
	g := start(t, setup{channels: fastChecks + `channels:
  - {name: first, base_url: "{{base}}", keys: [sk-first], priority: 10}
  - {name: second, base_url: "{{base}}", keys: [sk-second]}
`})
	flagged := g.create("seedance-1-0-pro", quick("x [ark:fail=OutputVideoSensitiveContentDetected]"))
	rejected := g.create("seedance-1-0-pro", quick("y [ark:reject=InputTextSensitiveContentDetected]"))

	got := g.wait(flagged.ID, task.StatusFailed)
	require.Equal(t, task.CodeUpstream, got.Error.Code)
	require.Equal(t, "OutputVideoSensitiveContentDetected", got.Error.UpstreamCode)
	require.Contains(t, got.Error.Message, "sensitive")
	require.Nil(t, got.Result)

	got = g.wait(rejected.ID, task.StatusFailed)
	require.Equal(t, task.CodeUpstream, got.Error.Code)
	require.Equal(t, "InputTextSensitiveContentDetected", got.Error.UpstreamCode)
	require.Empty(t, got.UpstreamID)
	require.Equal(t, 2, g.emu.CallsByKey("sk-first", arkemu.OpCreate), "one create each")
	require.Zero(t, g.emu.CallsByKey("sk-second", arkemu.OpCreate), "a 400 never fails over")
	require.Len(t, g.emu.CreatedIDs(), 1)
}

// A create refused with 429 or 500 moves to the next channel.
func TestFailoverBetweenChannels(t *testing.T) {
	t.Parallel()
	for _, fault := range []arkemu.Fault{
		{Kind: arkemu.FaultHTTPError, Status: http.StatusTooManyRequests, Code: "ModelAccountRpmRateLimitExceeded"},
		{Kind: arkemu.FaultHTTPError, Status: http.StatusTooManyRequests, Code: "ServerOverloaded", RetryAfter: 2 * time.Second},
		{Kind: arkemu.FaultHTTPError, Status: http.StatusInternalServerError},
		{Kind: arkemu.FaultHTTPError, Status: http.StatusUnauthorized, Code: "AuthenticationError"},
	} {
		t.Run(fmt.Sprint(fault.Status, fault.Code), func(t *testing.T) {
			t.Parallel()
			g := start(t, setup{channels: fastChecks + `channels:
  - {name: primary, base_url: "{{base}}", keys: [sk-a], priority: 10}
  - {name: backup, base_url: "{{base}}", keys: [sk-b]}
`})
			fault.Op, fault.APIKey, fault.Count = arkemu.OpCreate, "sk-a", 100
			g.emu.InjectFault(fault)
			tk := g.create("seedance-1-0-pro-fast", quick("a storm"))
			got := g.wait(tk.ID, task.StatusSucceeded)
			require.Equal(t, "backup", got.Channel)
			require.Equal(t, "sk-b", g.upstream(got).APIKey)
			require.Equal(t, 1, g.emu.CallsByKey("sk-a", arkemu.OpCreate))
			require.Equal(t, 1, g.emu.CallsByKey("sk-b", arkemu.OpCreate))
			require.Len(t, g.emu.CreatedIDs(), 1)
			// Checks use the key that owns the task, never the other.
			require.Zero(t, g.emu.CallsByKey("sk-a", arkemu.OpList)+g.emu.CallsByKey("sk-a", arkemu.OpGet))
		})
	}
}

// When every key is busy the task waits, queued in the gateway; and a
// refusal by every key for the account's sake fails it.
func TestAllKeysRefusing(t *testing.T) {
	t.Parallel()
	g := start(t, setup{channels: oneChannel("")})
	g.emu.InjectFault(arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultHTTPError, Status: 429})
	busy := g.create("seedance-1-0-pro", quick("patience"))
	got := g.wait(busy.ID, task.StatusSucceeded)
	require.Zero(t, got.Attempts)
	require.Equal(t, 2, g.emu.Calls(arkemu.OpCreate), "retried after the cool-down, never failed")

	g.emu.InjectFault(arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultHTTPError, Status: 403, Code: "AccountOverdueError"})
	overdue := g.create("seedance-1-0-pro", quick("unpaid"))
	got = g.wait(overdue.ID, task.StatusFailed)
	require.Equal(t, "AccountOverdueError", got.Error.UpstreamCode)
}

// A channel's per-key concurrency holds: excess tasks wait in the gateway.
func TestPerKeyConcurrency(t *testing.T) {
	t.Parallel()
	g := start(t, setup{emu: arkemu.Options{QueueTime: 10 * time.Millisecond, RunTime: 300 * time.Millisecond},
		channels: oneChannel("    concurrency: 2\n")})
	var ids []string
	for i := range 6 {
		ids = append(ids, g.create("seedance-1-0-pro", task.Request{Prompt: fmt.Sprint("clip ", i), Resolution: "480p", Duration: task.Int(2)}).ID)
	}
	peak, waited := 0, false
	done := func() bool {
		active := 0
		for _, info := range g.emu.Tasks() {
			if info.Status == "queued" || info.Status == "running" {
				active++
			}
		}
		peak = max(peak, active)
		finished := 0
		for _, id := range ids {
			tk := g.get(id)
			if tk.Status.Terminal() {
				finished++
			}
			if tk.Status == task.StatusQueued && tk.UpstreamID == "" && tk.DispatchedAt == nil && tk.Attempts == 0 {
				waited = true
			}
		}
		return finished == len(ids)
	}
	g.waitFor("all tasks", done)
	require.LessOrEqual(t, peak, 2, "never more than 2 tasks upstream on the key")
	require.Equal(t, 2, peak)
	require.True(t, waited, "excess tasks waited in the gateway, undispatched")
	for _, id := range ids {
		require.Equal(t, task.StatusSucceeded, g.get(id).Status)
	}
	require.Len(t, g.emu.CreatedIDs(), 6)
}

// A task still queued upstream is cancelled there; a running one is refused.
func TestCancel(t *testing.T) {
	t.Parallel()
	t.Run("queued", func(t *testing.T) {
		t.Parallel()
		g := start(t, setup{emu: arkemu.Options{QueueTime: time.Minute}, channels: oneChannel("")})
		tk := g.create("seedance-1-0-pro", quick("never mind"))
		g.waitFor("dispatch", func() bool { return g.get(tk.ID).UpstreamID != "" })
		got, err := g.app.Service.Cancel(context.Background(), "", tk.ID)
		require.NoError(t, err)
		require.Equal(t, task.StatusCancelled, got.Status)
		require.Equal(t, "cancelled", g.upstream(g.get(tk.ID)).Status)
		require.Equal(t, 1, g.emu.Calls(arkemu.OpDelete))
	})
	t.Run("running", func(t *testing.T) {
		t.Parallel()
		g := start(t, setup{emu: arkemu.Options{QueueTime: 10 * time.Millisecond, RunTime: time.Minute}, channels: oneChannel("")})
		tk := g.create("seedance-1-0-pro", quick("too late"))
		g.wait(tk.ID, task.StatusRunning)
		_, err := g.app.Service.Cancel(context.Background(), "", tk.ID)
		require.Equal(t, task.CodeConflict, task.ErrorCode(err), "%v", err)
		require.Contains(t, err.Error(), "running")
		require.Equal(t, task.StatusRunning, g.get(tk.ID).Status)
		require.Equal(t, "running", g.upstream(g.get(tk.ID)).Status)
		require.Zero(t, g.emu.Calls(arkemu.OpDelete), "a running task is not deleted upstream")
	})
	t.Run("running upstream, queued in the gateway", func(t *testing.T) {
		t.Parallel()
		g := start(t, setup{emu: arkemu.Options{QueueTime: 10 * time.Millisecond, RunTime: time.Minute},
			channels: "checks: {min_interval: 1m, expected_time: 1h}\nchannels:\n  - {name: main, base_url: \"{{base}}\", keys: [sk-main]}\n"})
		tk := g.create("seedance-1-0-pro", quick("stale view"))
		g.waitFor("dispatch", func() bool { return g.get(tk.ID).UpstreamID != "" })
		g.waitFor("upstream running", func() bool { return g.upstream(g.get(tk.ID)).Status == "running" })
		_, err := g.app.Service.Cancel(context.Background(), "", tk.ID)
		require.Equal(t, task.CodeConflict, task.ErrorCode(err), "%v", err)
		require.Zero(t, g.emu.Calls(arkemu.OpDelete))
	})
}

// Upstream expiry is terminal: execution_expires_after passed upstream.
func TestUpstreamExpiry(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	offset := time.Duration(0)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(offset)
	}
	g := start(t, setup{emu: arkemu.Options{Now: clock, QueueTime: 3 * time.Hour}, channels: oneChannel("")})
	tk := g.create("seedance-1-0-pro", task.Request{Prompt: "slow queue", Resolution: "480p", Duration: task.Int(2), ExecutionExpiresAfter: task.Int(3600)})
	g.waitFor("dispatch", func() bool { return g.get(tk.ID).UpstreamID != "" })
	mu.Lock()
	offset = 2 * time.Hour
	mu.Unlock()
	got := g.wait(tk.ID, task.StatusExpired)
	require.Equal(t, "Expired", got.Error.UpstreamCode)
	require.NotNil(t, got.FinishedAt)
	require.Equal(t, "expired", g.upstream(got).Status)
}

// A create whose answer is lost is found upstream, never sent twice.
func TestUnknownCreateOutcomeIsReconciled(t *testing.T) {
	t.Parallel()
	for _, kind := range []arkemu.FaultKind{arkemu.FaultDropAfter, arkemu.FaultMalformedJSON, arkemu.FaultTruncatedJSON, arkemu.FaultDrop} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			g := start(t, setup{channels: oneChannel("")})
			g.emu.InjectFault(arkemu.Fault{Op: arkemu.OpCreate, Kind: kind})
			tk := g.create("seedance-1-0-pro", quick("only once"))
			got := g.wait(tk.ID, task.StatusSucceeded)
			created := g.emu.CreatedIDs()
			require.Len(t, created, 1, "exactly one upstream task")
			require.Equal(t, created[0], got.UpstreamID)
			require.GreaterOrEqual(t, g.emu.Calls(arkemu.OpList), 1, "reconciled by listing")
			if kind == arkemu.FaultDrop { // nothing was created: created again after the quiet time
				require.Equal(t, 2, g.emu.Calls(arkemu.OpCreate))
			} else {
				require.Equal(t, 1, g.emu.Calls(arkemu.OpCreate))
			}
		})
	}
	t.Run("client safety_identifier, random seed", func(t *testing.T) {
		t.Parallel()
		g := start(t, setup{channels: oneChannel("")})
		g.emu.InjectFault(arkemu.Fault{Op: arkemu.OpCreate, Kind: arkemu.FaultDropAfter})
		tk := g.create("seedance-1-0-pro", task.Request{Prompt: "marked by seed", Resolution: "480p", Duration: task.Int(2), SafetyIdentifier: "user-9"})
		got := g.wait(tk.ID, task.StatusSucceeded)
		require.Len(t, g.emu.CreatedIDs(), 1)
		require.Equal(t, "user-9", g.upstream(got).SafetyIdentifier, "the client's identifier is kept")
	})
}

// Malformed answers to status checks are retried, not believed.
func TestMalformedCheckAnswersAreRetried(t *testing.T) {
	t.Parallel()
	g := start(t, setup{channels: oneChannel("")})
	g.emu.InjectFault(arkemu.Fault{Op: arkemu.OpList, Kind: arkemu.FaultTruncatedJSON})
	g.emu.InjectFault(arkemu.Fault{Op: arkemu.OpList, Kind: arkemu.FaultHTTPError, Status: 500})
	tk := g.create("seedance-1-0-pro", quick("noise"))
	got := g.wait(tk.ID, task.StatusSucceeded)
	require.NotNil(t, got.Result)
}

// With a public URL the upstream's callbacks bring the news: status checks
// are a rare safety net, and a lying callback is not believed.
func TestCallbacks(t *testing.T) {
	t.Parallel()
	g := start(t, setup{
		emu:       arkemu.Options{CallbackRetryDelay: 20 * time.Millisecond},
		callbacks: true,
		// Checks alone would come an hour late: only callbacks can finish these quickly.
		channels: "checks: {min_interval: 20ms, expected_time: 1h}\nchannels:\n  - {name: main, base_url: \"{{base}}\", keys: [sk-main]}\n",
	})
	// The first callback claims failure (it was queued): the gateway reads the task and keeps it going.
	g.emu.InjectFault(arkemu.Fault{Op: arkemu.OpCallback, Kind: arkemu.FaultLieStatus, CallbackStatus: task.StatusFailed})
	var ids []string
	for i := range 5 {
		ids = append(ids, g.create("seedance-1-0-pro", quick(fmt.Sprint("called back ", i))).ID)
	}
	for _, id := range ids {
		got := g.wait(id, task.StatusSucceeded)
		require.NotEmpty(t, got.Result.VideoFileID)
	}
	reads := g.emu.Calls(arkemu.OpList) + g.emu.Calls(arkemu.OpGet)
	require.LessOrEqual(t, reads, 7, "a few batched reads for 5 tasks, no polling")
	require.GreaterOrEqual(t, g.emu.Calls(arkemu.OpCallback), 15)

	// Only the upstream the URL was given to can knock.
	resp, err := http.Post(g.url+"/upstream/ark/callbacks/"+ids[0]+"/forged", "application/json", strings.NewReader(`{"id":"x","status":"succeeded"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func decodeJSON(r io.Reader, v any) error {
	return json.NewDecoder(r).Decode(v)
}

// quick is a request the emulator renders fast (480p, 2 s).
func quick(prompt string) task.Request {
	return task.Request{Prompt: prompt, Resolution: "480p", Duration: task.Int(2)}
}

// What no channel can run is refused at create, with the field named.
func TestRefusedAtCreate(t *testing.T) {
	t.Parallel()
	g := start(t, setup{channels: fastChecks + "channels:\n  - {name: main, base_url: \"{{base}}\", keys: [sk-main], models: [seedance-2-0]}\n"})
	ctx := context.Background()
	_, err := g.app.Service.Create(ctx, service.CreateInput{Dialect: "jobs", Model: "seedance-1-0-pro", Request: quick("x")})
	te := task.AsError(err)
	require.Equal(t, task.CodeUnavailable, te.Code, "%v", err)
	require.Equal(t, "model", te.Field)

	video := append([]byte("\x00\x00\x00\x18ftypmp42"), make([]byte, 64)...)
	f, err := g.app.Service.Upload(ctx, service.UploadInput{Kind: "video", Body: bytes.NewReader(video)})
	require.NoError(t, err)
	_, err = g.app.Service.Create(ctx, service.CreateInput{Dialect: "jobs", Model: "seedance-2-0", Request: task.Request{
		Prompt: "dance like this", ReferenceVideos: []string{g.app.Service.FileURL(f.ID)}}})
	te = task.AsError(err)
	require.Equal(t, task.CodeInvalidParameter, te.Code, "%v", err)
	require.Equal(t, "reference_videos[0]", te.Field)
	require.Contains(t, te.Message, "SEEDGATE_PUBLIC_URL")
	require.Zero(t, g.emu.Calls(arkemu.OpCreate))
}

// A draft's re-render goes to the account (key) that owns the draft, with
// the draft's upstream id.
func TestDraftRerenderUsesTheDraftsKey(t *testing.T) {
	t.Parallel()
	g := start(t, setup{channels: fastChecks + "channels:\n  - {name: main, base_url: \"{{base}}\", keys: [sk-1, sk-2, sk-3]}\n"})
	draft := g.create("seedance-1-5-pro", task.Request{Prompt: "storyboard", Draft: task.Bool(true), Duration: task.Int(4)})
	d := g.wait(draft.ID, task.StatusSucceeded)
	owner := g.upstream(d).APIKey
	for i := range 3 {
		final := g.create("seedance-1-5-pro", task.Request{DraftTaskID: draft.ID, Prompt: fmt.Sprint("final ", i)})
		got := g.wait(final.ID, task.StatusSucceeded)
		up := g.upstream(got)
		require.Equal(t, owner, up.APIKey, "same account as the draft")
		require.Equal(t, d.UpstreamID, up.Request.DraftTaskID, "the draft's upstream id, not the gateway's")
		require.Equal(t, d.UpstreamKey, got.UpstreamKey)
	}
}

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // to read the leases a killed process left

	"github.com/seedgate/seedgate/internal/media/mediatest"
)

// These tests run the real binary, as a user would after `make run`.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "seedgate-bin-*")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "seedgate")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building seedgate failed: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const apiKey = "test-key-123"

type gateway struct {
	t       *testing.T
	url     string
	dataDir string
	cmd     *exec.Cmd
	logs    *bytes.Buffer
	env     []string
	ln      *os.File // the listening socket every start of the process inherits
	dir     string   // the process's working directory ("": the test's)
}

// listener binds a free loopback port for a child process: the test holds the
// socket until it ends and hands it down as descriptor 3 (cmd.ExtraFiles), so
// the address is known before the child starts and stays its own across
// restarts. listenFD is the child's name for it.
func listener(t *testing.T) (*os.File, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f, err := ln.(*net.TCPListener).File()
	require.NoError(t, err)
	require.NoError(t, ln.Close()) // f is a duplicate: the socket stays bound
	t.Cleanup(func() { f.Close() })
	return f, ln.Addr().String()
}

const listenFD = "3"

// startGateway runs `seedgate serve` on a free port with dataDir and waits until ready.
func startGateway(t *testing.T, dataDir string, extraEnv ...string) *gateway {
	t.Helper()
	ln, addr := listener(t)
	g := &gateway{t: t, url: "http://" + addr, dataDir: dataDir, logs: &bytes.Buffer{}, ln: ln}
	g.env = append(os.Environ(),
		"SEEDGATE_LISTEN_FD="+listenFD,
		"SEEDGATE_DATA_DIR="+dataDir,
		"SEEDGATE_API_KEYS="+apiKey,
		"SEEDGATE_SANDBOX_QUEUE_DELAY=200ms",
		"SEEDGATE_SANDBOX_RUN_TIME=500ms",
		"SEEDGATE_LOG_LEVEL=info",
	)
	g.env = append(g.env, extraEnv...)
	g.start()
	t.Cleanup(g.stop)
	return g
}

func (g *gateway) start() {
	g.t.Helper()
	g.cmd = exec.Command(binary, "serve")
	g.cmd.Env, g.cmd.Dir = g.env, g.dir
	g.cmd.ExtraFiles = []*os.File{g.ln}
	g.cmd.Stdout, g.cmd.Stderr = g.logs, g.logs
	require.NoError(g.t, g.cmd.Start())
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(g.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.t.Fatalf("gateway did not become ready; logs:\n%s", g.logs.String())
}

func (g *gateway) stop() {
	if g.cmd == nil || g.cmd.ProcessState != nil {
		return
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- g.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil && g.t.Failed() {
			g.t.Logf("gateway exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		_ = g.cmd.Process.Kill()
		<-done
	}
	if g.t.Failed() {
		g.t.Logf("gateway logs:\n%s", g.logs.String())
	}
}

func (g *gateway) kill() {
	require.NoError(g.t, g.cmd.Process.Signal(syscall.SIGKILL))
	_ = g.cmd.Wait()
}

// do sends a request with the test key and decodes a JSON answer into out (if non-nil).
func (g *gateway) do(method, path string, body io.Reader, contentType string, out any) *http.Response {
	g.t.Helper()
	req, err := http.NewRequest(method, g.url+path, body)
	require.NoError(g.t, err)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(g.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(g.t, err)
	if out != nil {
		require.NoError(g.t, json.Unmarshal(b, out), "body: %s", b)
	}
	return resp
}

func (g *gateway) postJSON(path, body string, out any) *http.Response {
	return g.do("POST", path, strings.NewReader(body), "application/json", out)
}

func pngBytes(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func (g *gateway) upload(kind string, name string, data []byte) map[string]any {
	g.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(g.t, mw.WriteField("kind", kind))
	require.NoError(g.t, mw.WriteField("purpose", "reference"))
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(g.t, err)
	_, _ = fw.Write(data)
	require.NoError(g.t, mw.Close())
	var out map[string]any
	resp := g.do("POST", "/v1/files/upload", &body, mw.FormDataContentType(), &out)
	require.Equal(g.t, http.StatusOK, resp.StatusCode, "%v", out)
	return out
}

type jobAnswer struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	Status string `json:"status"`
	Model  string `json:"model"`
	Output struct {
		TaskID string `json:"task_id"`
		Status string `json:"status"`
		Videos []struct {
			URL      string  `json:"url"`
			Width    int     `json:"width"`
			Height   int     `json:"height"`
			Duration float64 `json:"duration"`
			FPS      int     `json:"fps"`
			HasAudio bool    `json:"has_audio"`
		} `json:"videos"`
		LastFrameURL string `json:"last_frame_url"`
	} `json:"output"`
	Usage *struct {
		TotalTokens int64 `json:"total_tokens"`
	} `json:"usage"`
	Error *struct {
		Code         string `json:"code"`
		Message      string `json:"message"`
		UpstreamCode string `json:"upstream_code"`
	} `json:"error"`
}

func (g *gateway) waitJob(id string, timeout time.Duration) jobAnswer {
	g.t.Helper()
	deadline := time.Now().Add(timeout)
	var j jobAnswer
	for time.Now().Before(deadline) {
		j = jobAnswer{}
		resp := g.do("GET", "/v1/jobs/"+id, nil, "", &j)
		require.Equal(g.t, http.StatusOK, resp.StatusCode)
		if j.Status != "processing" {
			return j
		}
		time.Sleep(100 * time.Millisecond)
	}
	g.t.Fatalf("job %s still %s/%s after %s", id, j.Status, j.Output.Status, timeout)
	return j
}

func download(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url) // signed URL: no key needed
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	f, err := os.CreateTemp(t.TempDir(), "video-*.mp4")
	require.NoError(t, err)
	_, err = io.Copy(f, resp.Body)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return f.Name()
}

// The README walk-through: upload an image, submit the jobs dialect's reference
// job with it as the first frame, poll, download, and check the MP4 with ffprobe.
func TestReadmeWalkthrough(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir())

	file := g.upload("image", "first.png", pngBytes(t, 1280, 720))
	require.Equal(t, "file", file["object"])
	require.EqualValues(t, 1280, file["width"])
	fileURL := file["url"].(string)
	require.True(t, strings.HasPrefix(fileURL, g.url+"/v1/files/"))

	body := fmt.Sprintf(`{
"model": "seedance-1.5-pro-1080p",
"input": {
"prompt": "电影感街头运镜,一辆跑车穿过雨夜霓虹街道",
"first_frame_url": %q,
"resolution": "720p",
"duration": 5,
"aspect_ratio": "16:9",
"seed": 12345,
"camera_fixed": false,
"watermark": true,
"return_last_frame": true,
"service_tier": "auto",
"generate_audio": true,
"draft": false
}
}`, fileURL)
	var created map[string]any
	resp := g.postJSON("/v1/jobs", body, &created)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", created)
	require.Equal(t, "job", created["object"])
	require.Equal(t, "processing", created["status"])
	require.Equal(t, "seedance-1.5-pro-1080p", created["model"])
	require.NotEmpty(t, created["request_id"])
	require.NotEmpty(t, created["created"])
	id := created["id"].(string)

	j := g.waitJob(id, 60*time.Second)
	require.Equal(t, "succeeded", j.Status, "%+v", j.Error)
	require.Equal(t, "succeeded", j.Output.Status)
	require.Len(t, j.Output.Videos, 1)
	v := j.Output.Videos[0]
	require.Equal(t, 1280, v.Width)
	require.Equal(t, 720, v.Height)
	require.Equal(t, 24, v.FPS)
	require.True(t, v.HasAudio)
	require.EqualValues(t, 108900, j.Usage.TotalTokens) // 1280×720, 5 s: the spec's published figure

	path := download(t, v.URL)
	info, err := mediatest.ProbeVideo(context.Background(), path)
	require.NoError(t, err)
	require.Equal(t, 1280, info.Width)
	require.Equal(t, 720, info.Height)
	require.InDelta(t, 24, info.FPS, 0.01)
	require.InDelta(t, 5.0, info.Duration, 0.1)
	require.True(t, info.HasAudio)

	frame := download(t, j.Output.LastFrameURL)
	fb, err := os.ReadFile(frame)
	require.NoError(t, err)
	cfg, err := png.DecodeConfig(bytes.NewReader(fb))
	require.NoError(t, err)
	require.Equal(t, 1280, cfg.Width)

	// HTTP Range on the stored result.
	req, _ := http.NewRequest("GET", v.URL, nil)
	req.Header.Set("Range", "bytes=0-99")
	rr, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(rr.Body)
	rr.Body.Close()
	require.Equal(t, http.StatusPartialContent, rr.StatusCode)
	require.Len(t, b, 100)

	// Without the signature the content needs the key.
	unsigned := v.URL[:strings.Index(v.URL, "?")]
	ur, err := http.Get(unsigned)
	require.NoError(t, err)
	ur.Body.Close()
	require.Equal(t, http.StatusUnauthorized, ur.StatusCode)
	ar := g.do("GET", strings.TrimPrefix(unsigned, g.url), nil, "", nil)
	require.Equal(t, http.StatusOK, ar.StatusCode)

	// The job is listed.
	var list struct {
		Object string      `json:"object"`
		Data   []jobAnswer `json:"data"`
	}
	g.do("GET", "/v1/jobs?status=succeeded&model=seedance-1-5-pro-251215", nil, "", &list)
	require.Equal(t, "list", list.Object)
	require.Len(t, list.Data, 1)
	require.Equal(t, id, list.Data[0].ID)
}

// A gateway killed with SIGKILL while tasks are in flight finishes every one
// of them after a restart, and the crash costs no wait: the restarted process
// holds the data dir's lock, so its predecessor is certainly dead and the
// leases it held (30 s) are void at once.
//
// Not parallel: its renders would starve the other end-to-end runs, and its
// timing is the point.
func TestTasksSurviveSIGKILL(t *testing.T) {
	dataDir := t.TempDir()
	g := startGateway(t, dataDir, "SEEDGATE_SANDBOX_QUEUE_DELAY=1s", "SEEDGATE_SANDBOX_RUN_TIME=3s", "SEEDGATE_LEASE=30s")
	const jobs = 30
	var ids []string
	for i := range jobs {
		var c map[string]any
		resp := g.postJSON("/v1/jobs", fmt.Sprintf(`{"model":"seedance-1-0-pro-fast-251015","input":{"prompt":"crash test %d","resolution":"480p","frames":29,"seed":%d}}`, i, i), &c)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%v", c)
		ids = append(ids, c["id"].(string))
	}
	// Kill without warning once results are being rendered: the workers hold
	// leases on the tasks they render.
	require.Eventually(t, func() bool {
		var list struct {
			Data []jobAnswer `json:"data"`
		}
		g.do("GET", "/v1/jobs?status=succeeded&limit=100", nil, "", &list)
		return len(list.Data) > 0
	}, 60*time.Second, 20*time.Millisecond)
	g.kill()
	db := filepath.Join(dataDir, "seedgate.db")
	leased := leases(t, db, time.Now())
	require.NotEmpty(t, leased, "the killed process held leases")
	inFlight := len(leases(t, db, time.Time{}))

	g.start() // same data dir, same port
	ready := time.Now()
	// The work the dead process held moves on at once, long before the 30 s
	// leases end.
	var resumed time.Duration
	require.Eventually(t, func() bool {
		now := leases(t, db, time.Time{})
		for id, then := range leased {
			if l, live := now[id]; !then.movedOn(l, live) {
				return false
			}
		}
		resumed = time.Since(ready)
		return true
	}, 60*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return countProcessing(t, g, apiKey) == 0 }, 5*time.Minute, 20*time.Millisecond)
	took := time.Since(ready)
	t.Logf("%d tasks in flight at the SIGKILL (%d leased): the leased ones were taken up %s after the restart was ready, all finished after %s",
		inFlight, len(leased), resumed.Round(10*time.Millisecond), took.Round(10*time.Millisecond))
	require.LessOrEqual(t, resumed, 8*time.Second, "a restart takes its predecessor's work over at once")
	for i, id := range ids {
		j := g.waitJob(id, time.Second)
		require.Equal(t, "succeeded", j.Status, "%s: %+v", id, j.Error)
		if i > 0 {
			continue
		}
		info, err := mediatest.ProbeVideo(context.Background(), download(t, j.Output.Videos[0].URL))
		require.NoError(t, err)
		require.Equal(t, 864, info.Width)
		require.Equal(t, 480, info.Height)
	}
}

// A SQLite gateway has its data dir to itself: a second `serve` on it exits
// at once with code 1, naming the dir; once the first stops, it may start.
func TestDataDirLocked(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	g := startGateway(t, dataDir)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // it must not serve
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve")
	cmd.Env = append(os.Environ(), "SEEDGATE_DATA_DIR="+dataDir, "SEEDGATE_LISTEN=127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "output: %s", &out)
	require.Equal(t, 1, exit.ExitCode(), "output: %s", &out)
	require.Contains(t, out.String(), "the data dir "+dataDir+" is in use by another seedgate process")

	g.stop()
	g.start()
	require.Equal(t, http.StatusOK, g.do("GET", "/v1/models", nil, "", nil).StatusCode, "the lock went with the first process")
}

// lease is a live task's lease holder ("" for none) and version.
type lease struct {
	owner   string
	version int64
}

// movedOn reports whether a task leased by a dead holder (then) has been
// taken over: it is finished (gone from the live tasks, live false), another
// holder has it, or two writes (a release or a claim, then a claim or a
// step) came after.
func (then lease) movedOn(now lease, live bool) bool {
	return !live || now.owner != "" && now.owner != then.owner || now.version >= then.version+2
}

// leases maps the live tasks of the SQLite database at path to their leases;
// with a non-zero at, only those whose lease runs past at.
func leases(t *testing.T, path string, at time.Time) map[string]lease {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	query := `SELECT id, lease_owner, version FROM tasks WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'expired')`
	var args []any
	if !at.IsZero() {
		query += ` AND lease_until > ?`
		args = append(args, at.UnixMilli())
	}
	rows, err := db.Query(query, args...)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]lease{}
	for rows.Next() {
		var (
			id string
			l  lease
		)
		require.NoError(t, rows.Scan(&id, &l.owner, &l.version))
		out[id] = l
	}
	require.NoError(t, rows.Err())
	return out
}

func TestJobsAPIErrors(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), "SEEDGATE_MAX_BODY_BYTES=2048")

	type errAnswer struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	cases := []struct {
		name, body string
		status     int
		code       string
		field      string
		msg        string
	}{
		{"malformed", `{"model":`, 400, "invalid_json", "", "JSON"},
		{"not an object", `[1,2]`, 400, "invalid_json", "", "object"},
		{"wrong type", `{"model":"seedance-1-5-pro","input":{"prompt":"x","duration":"five"}}`, 400, "invalid_parameter", "input.duration", "integer"},
		{"unknown field", `{"model":"seedance-1-5-pro","input":{"prompt":"x","promt":"y"}}`, 400, "invalid_parameter", "input.promt", "unknown field"},
		{"missing input", `{"model":"seedance-1-5-pro"}`, 400, "missing_parameter", "input", "input"},
		{"missing prompt", `{"model":"seedance-1-5-pro","input":{}}`, 400, "missing_parameter", "input.prompt", "prompt"},
		{"unknown model", `{"model":"sora-2","input":{"prompt":"x"}}`, 400, "unknown_model", "model", "seedance-1-5-pro"},
		// strict: by default out-of-range values are clamped (with a warning, below).
		{"duration out of range", `{"model":"seedance-1-5-pro","strict":true,"input":{"prompt":"x","duration":20}}`, 400, "invalid_parameter", "input.duration", "20"},
		{"strict still rejects frames on 1.5 pro", `{"model":"seedance-1-5-pro","strict":true,"input":{"prompt":"x","frames":121}}`, 400, "invalid_parameter", "input.frames", "duration"},
		{"relaxing keeps the prompt required", `{"model":"seedance-1-5-pro","input":{"prompt":"","duration":20}}`, 400, "missing_parameter", "input.prompt", "prompt"},
		{"ratio conflict", `{"model":"seedance-1-5-pro","input":{"prompt":"x","ratio":"16:9","aspect_ratio":"9:16"}}`, 400, "invalid_parameter", "input.aspect_ratio", "disagree"},
		{"bad image url", `{"model":"seedance-1-5-pro","input":{"prompt":"x","first_frame_url":"ftp://x/y.png"}}`, 400, "invalid_parameter", "input.first_frame_url", "http"},
		{"missing file", `{"model":"seedance-1-5-pro","input":{"prompt":"x","first_frame_url":"` + g.url + `/v1/files/file-nope/content"}}`, 400, "", "input.first_frame_url", "file-nope"},
		{"data url not an image", `{"model":"seedance-1-5-pro","input":{"prompt":"x","first_frame_url":"data:image/png;base64,aGVsbG8="}}`, 400, "invalid_parameter", "input.first_frame_url", ""},
		{"too large", `{"model":"seedance-1-5-pro","input":{"prompt":"` + strings.Repeat("x", 4000) + `"}}`, 413, "body_too_large", "", "2048"},
		{"deep", strings.Repeat("[", 100) + strings.Repeat("]", 100), 400, "invalid_json", "", "nested"},
		{"invalid utf8", "{\"model\":\"\xff\"}", 400, "invalid_json", "", "UTF-8"},
	}
	for _, c := range cases {
		var e errAnswer
		resp := g.postJSON("/v1/jobs", c.body, &e)
		require.Equal(t, c.status, resp.StatusCode, "%s: %+v", c.name, e)
		if c.code != "" {
			require.Equal(t, c.code, e.Error.Code, c.name)
		}
		require.Equal(t, c.field, e.Error.Field, "%s: %+v", c.name, e)
		require.Contains(t, e.Error.Message, c.msg, c.name)
	}

	// Nothing was stored by any of those.
	var list struct {
		Data []jobAnswer `json:"data"`
	}
	g.do("GET", "/v1/jobs", nil, "", &list)
	require.Empty(t, list.Data)

	// Without strict, the out-of-range duration is clamped and the job says so.
	var relaxed struct {
		Input struct {
			Duration int `json:"duration"`
		} `json:"input"`
		Warnings []string `json:"warnings"`
	}
	rr := g.postJSON("/v1/jobs", `{"model":"seedance-1-5-pro","input":{"prompt":"x","duration":20,"resolution":"480p"}}`, &relaxed)
	require.Equal(t, http.StatusOK, rr.StatusCode)
	require.Equal(t, 12, relaxed.Input.Duration)
	require.Equal(t, []string{"duration 20 clamped to 12"}, relaxed.Warnings)

	// Auth.
	req, _ := http.NewRequest("GET", g.url+"/v1/jobs", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var e errAnswer
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode)
	require.Equal(t, "unauthorized", e.Error.Code)
	req.Header.Set("Authorization", apiKey) // bare key (as the responses dialect's clients send it) is accepted
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	// Not found, bad list parameters, wrong content type, unknown route.
	require.Equal(t, 404, g.do("GET", "/v1/jobs/cgt-nope", nil, "", nil).StatusCode)
	require.Equal(t, 404, g.do("POST", "/v1/jobs/cgt-nope/cancel", nil, "", nil).StatusCode)
	require.Equal(t, 400, g.do("GET", "/v1/jobs?limit=0", nil, "", nil).StatusCode)
	require.Equal(t, 400, g.do("GET", "/v1/jobs?status=done", nil, "", nil).StatusCode)
	require.Equal(t, 415, g.do("POST", "/v1/jobs", strings.NewReader(`{}`), "text/xml", nil).StatusCode)
	require.Equal(t, 404, g.do("GET", "/v1/nothing", nil, "", nil).StatusCode)
	require.Equal(t, 404, g.do("GET", "/v1/files/..%2f..%2fetc%2fpasswd/content", nil, "", nil).StatusCode)

	// Upload errors: wrong kind, not an image, too small an image, not multipart.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("kind", "image")
	fw, _ := mw.CreateFormFile("file", "x.png")
	_, _ = fw.Write([]byte("this is not an image at all"))
	_ = mw.Close()
	require.Equal(t, 415, g.do("POST", "/v1/files/upload", &body, mw.FormDataContentType(), nil).StatusCode)
	body.Reset()
	mw = multipart.NewWriter(&body)
	_ = mw.WriteField("kind", "image")
	fw, _ = mw.CreateFormFile("file", "tiny.png")
	_, _ = fw.Write(pngBytes(t, 100, 100))
	_ = mw.Close()
	e = errAnswer{}
	require.Equal(t, 400, g.do("POST", "/v1/files/upload", &body, mw.FormDataContentType(), &e).StatusCode)
	require.Equal(t, "file", e.Error.Field)
	require.Equal(t, 415, g.do("POST", "/v1/files/upload", strings.NewReader("x"), "application/json", nil).StatusCode)
}

func TestCancelQueuedJobAndFailureMarker(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), "SEEDGATE_SANDBOX_QUEUE_DELAY=30s")
	var c map[string]any
	g.postJSON("/v1/jobs", `{"model":"seedance-1-0-lite-t2v-250428","input":{"prompt":"cancel me","resolution":"480p","duration":2}}`, &c)
	id := c["id"].(string)
	var j jobAnswer
	resp := g.do("POST", "/v1/jobs/"+id+"/cancel", nil, "", &j)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "cancelled", j.Status)
	resp = g.do("POST", "/v1/jobs/"+id+"/cancel", nil, "", nil)
	require.Equal(t, 409, resp.StatusCode)
}

func TestSandboxFailureOnDemand(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir())
	var c map[string]any
	g.postJSON("/v1/jobs", `{"model":"seedance-1-0-lite-t2v-250428","input":{"prompt":"x [sandbox:fail=OutputVideoSensitiveContentDetected]","resolution":"480p","duration":2}}`, &c)
	j := g.waitJob(c["id"].(string), 30*time.Second)
	require.Equal(t, "failed", j.Status)
	require.NotNil(t, j.Error)
	require.Equal(t, "upstream_error", j.Error.Code)
	require.Equal(t, "OutputVideoSensitiveContentDetected", j.Error.UpstreamCode)
	require.Contains(t, j.Error.Message, "sensitive")
}

func TestCommands(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary, "version").CombinedOutput()
	require.NoError(t, err)
	require.Contains(t, string(out), "seedgate")

	out, _ = exec.Command(binary, "serve", "--help").CombinedOutput()
	for _, name := range []string{"SEEDGATE_LISTEN", "SEEDGATE_DATA_DIR", "SEEDGATE_DATABASE_URL", "SEEDGATE_API_KEYS", "SEEDGATE_PUBLIC_URL"} {
		require.Contains(t, string(out), name)
	}

	dir := t.TempDir()
	cmd := exec.Command(binary, "migrate")
	cmd.Env = append(os.Environ(), "SEEDGATE_DATA_DIR="+dir)
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	_, err = os.Stat(filepath.Join(dir, "seedgate.db"))
	require.NoError(t, err)

	out, err = exec.Command(binary, "serve", "--listen", "nonsense").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "SEEDGATE_LISTEN")

	_, err = exec.Command(binary, "bogus").CombinedOutput()
	require.Error(t, err)
}

package mirror

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/blob/disk"
	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/task"
)

// flakyBlobs fails the first n Puts, as a full disk or a storage outage would.
type flakyBlobs struct {
	blob.Store
	fail atomic.Int32
}

func (f *flakyBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if f.fail.Add(-1) >= 0 {
		_, _ = io.Copy(io.Discard, r)
		return 0, errors.New("disk full")
	}
	return f.Store.Put(ctx, key, r)
}

// resultServer serves a video and a last frame like the upstream's storage.
func resultServer(t *testing.T, video, frame []byte, lie bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := video
		if r.URL.Path == "/frame.png" {
			body = frame
		}
		if r.URL.Path == "/gone.mp4" {
			http.Error(w, "Request has expired", http.StatusForbidden)
			return
		}
		n := len(body)
		if lie {
			n += 100 // announces more than it sends: a cut-off download
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type env struct {
	m     *Mirror
	blobs blob.Store
}

func newEnv(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	blobs, err := disk.New(filepath.Join(t.TempDir(), "files"))
	require.NoError(t, err)
	c := Config{Blobs: blobs, WorkDir: t.TempDir(),
		Download: safehttp.New(safehttp.Options{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})}
	if mutate != nil {
		mutate(&c)
	}
	return &env{m: New(c), blobs: c.Blobs}
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))))
	return b.Bytes()
}

// pendingTask is a task whose upstream succeeded done ago, its result at base+video.
func pendingTask(base, video string, done time.Duration) *task.Task {
	at := time.Now().Add(-done).UTC()
	return &task.Task{ID: "cgt-gw", Model: "seedance-1-0-pro", Status: task.StatusRunning,
		Usage: &task.Usage{CompletionTokens: 10, TotalTokens: 10},
		Result: &task.Result{UpstreamVideoURL: base + video, UpstreamFrameURL: base + "/frame.png", UpstreamDoneAt: &at,
			Width: 864, Height: 480, Duration: 2, FPS: 24, Seed: 7, Ratio: "16:9", Resolution: "480p"}}
}

var fakeMP4 = append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00"), make([]byte, 5000)...)

func read(t *testing.T, blobs blob.Store, key string) []byte {
	t.Helper()
	obj, err := blobs.Open(context.Background(), key)
	require.NoError(t, err)
	defer obj.Close()
	data, err := io.ReadAll(obj)
	require.NoError(t, err)
	return data
}

func TestMirrorRetriesThenSucceeds(t *testing.T) {
	t.Parallel()
	var flaky *flakyBlobs
	e := newEnv(t, func(c *Config) {
		flaky = &flakyBlobs{Store: c.Blobs}
		flaky.fail.Store(2)
		c.Blobs = flaky
	})
	frame := pngBytes(t, 864, 480)
	srv := resultServer(t, fakeMP4, frame, false)
	tk := pendingTask(srv.URL, "/video.mp4", 0)

	for range 2 {
		got := e.m.Step(context.Background(), tk)
		require.Equal(t, task.StatusRunning, got.Status, "not reported succeeded before the copy exists")
		require.Equal(t, 99, got.Progress)
		require.Equal(t, task.CodeUnavailable, got.Error.Code)
		require.Contains(t, got.Error.Message, "disk full")
		require.Contains(t, got.Error.Message, "retrying until")
		require.Positive(t, got.NextCheck)
	}
	got := e.m.Step(context.Background(), tk)
	require.Equal(t, task.StatusSucceeded, got.Status)
	require.Nil(t, got.Error)
	require.Equal(t, int64(len(fakeMP4)), got.Video.Size)
	require.Equal(t, "video/mp4", got.Video.ContentType)
	require.Equal(t, "image/png", got.LastFrame.ContentType)
	require.Equal(t, []int{864, 480}, []int{got.Video.Width, got.Video.Height})
	require.Equal(t, FileID("cgt-gw", "video"), got.Video.ID, "stable ids: a repeated copy is the same file")
	require.Equal(t, fakeMP4, read(t, e.blobs, got.Video.BlobKey))
	require.EqualValues(t, 10, got.Usage.TotalTokens)
	require.Equal(t, 2.0, got.Result.Duration)
	_, err := e.m.Thumbnail(context.Background(), tk)
	require.Error(t, err, "no still of something that is not a real video")
}

func TestMirrorRefusesBadFiles(t *testing.T) {
	t.Parallel()
	frame := pngBytes(t, 864, 480)
	tests := []struct {
		name  string
		video []byte
		lie   bool
		path  string
		limit int64
		want  string
	}{
		{"not a video", []byte("<html>hello</html>"), false, "/video.mp4", 0, "something else"},
		{"cut off", fakeMP4, true, "/video.mp4", 0, "unexpected EOF"},
		{"too large", fakeMP4, false, "/video.mp4", 1000, "larger"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *Config) { c.MaxVideoBytes = tc.limit })
			srv := resultServer(t, tc.video, frame, tc.lie)
			got := e.m.Step(context.Background(), pendingTask(srv.URL, tc.path, 0))
			require.Equal(t, task.StatusRunning, got.Status)
			require.Contains(t, got.Error.Message, tc.want)
		})
	}
	t.Run("gone", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		srv := resultServer(t, fakeMP4, frame, false)
		got := e.m.Step(context.Background(), pendingTask(srv.URL, "/gone.mp4", 0))
		require.Equal(t, task.StatusRunning, got.Status, "a fresh 403 may pass")
		got = e.m.Step(context.Background(), pendingTask(srv.URL, "/gone.mp4", time.Hour))
		require.Equal(t, task.StatusFailed, got.Status, "a URL gone long after success will not come back")
		require.Equal(t, "ResultUnavailable", got.Error.UpstreamCode)
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *Config) {
			c.Blobs = &flakyBlobs{Store: c.Blobs}
			c.Blobs.(*flakyBlobs).fail.Store(100)
		})
		srv := resultServer(t, fakeMP4, frame, false)
		got := e.m.Step(context.Background(), pendingTask(srv.URL, "/video.mp4", Deadline-time.Minute))
		require.Equal(t, task.StatusRunning, got.Status, "retried until the deadline")
		got = e.m.Step(context.Background(), pendingTask(srv.URL, "/video.mp4", Deadline+time.Minute))
		require.Equal(t, task.StatusFailed, got.Status, "then failed")
		require.Equal(t, "ResultUnavailable", got.Error.UpstreamCode)
	})
	t.Run("private address", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *Config) { c.Download = nil }) // the default client refuses loopback
		srv := resultServer(t, fakeMP4, frame, false)
		got := e.m.Step(context.Background(), pendingTask(srv.URL, "/video.mp4", 0))
		require.Equal(t, task.StatusRunning, got.Status)
		require.Contains(t, got.Error.Message, "loopback")
	})
}

// A real video gets a thumbnail: a JPEG still of its size, stored with a stable id.
func TestMirrorMakesThumbnail(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	path := filepath.Join(t.TempDir(), "v.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=24:duration=1",
		"-pix_fmt", "yuv420p", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	video, err := os.ReadFile(path)
	require.NoError(t, err)
	e := newEnv(t, nil)
	srv := resultServer(t, video, pngBytes(t, 320, 180), false)
	tk := pendingTask(srv.URL, "/video.mp4", 0)
	got := e.m.Step(context.Background(), tk)
	require.Equal(t, task.StatusSucceeded, got.Status, "%+v", got.Error)
	thumb, err := e.m.Thumbnail(context.Background(), tk)
	require.NoError(t, err)
	require.Equal(t, FileID("cgt-gw", "thumbnail"), thumb.ID)
	require.Equal(t, "image/jpeg", thumb.ContentType)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(read(t, e.blobs, thumb.BlobKey)))
	require.NoError(t, err)
	require.Equal(t, []int{320, 180}, []int{cfg.Width, cfg.Height})
	require.Equal(t, []int{320, 180}, []int{thumb.Width, thumb.Height})
}

package ark

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob"
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

func loopbackDownloads(c *Config) {
	c.Download = safehttp.New(safehttp.Options{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
}

func succeededTask(base, video string) *Task {
	return &Task{ID: "cgt-up", Model: "doubao-seedance-1-0-pro-250528", Status: "succeeded",
		Content:   &Content{VideoURL: base + video, LastFrameURL: base + "/frame.png"},
		Usage:     &Usage{CompletionTokens: 10, TotalTokens: 10},
		CreatedAt: time.Now().Add(-time.Minute).Unix(), UpdatedAt: time.Now().Unix(),
		Resolution: "480p", Ratio: "16:9", Duration: task.Int(2), FramesPerSecond: 24, Seed: task.Int64(7)}
}

var fakeMP4 = append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00"), make([]byte, 5000)...)

func TestMirrorRetriesThenSucceeds(t *testing.T) {
	t.Parallel()
	var flaky *flakyBlobs
	u := newUnit(t, "http://localhost:8000", func(c *Config) {
		loopbackDownloads(c)
		flaky = &flakyBlobs{Store: c.Blobs}
		flaky.fail.Store(2)
		c.Blobs = flaky
	})
	frame := pngBytes(t, 864, 480)
	srv := resultServer(t, fakeMP4, frame, false)
	tk := &task.Task{ID: "cgt-gw", Model: "seedance-1-0-pro", Status: task.StatusRunning}
	up := succeededTask(srv.URL, "/video.mp4")

	for range 2 {
		got := u.p.update(context.Background(), tk, up)
		require.Equal(t, task.StatusRunning, got.Status, "not reported succeeded before the copy exists")
		require.Equal(t, 99, got.Progress)
		require.Equal(t, task.CodeUnavailable, got.Error.Code)
		require.Contains(t, got.Error.Message, "disk full")
		require.Contains(t, got.Error.Message, "retrying until")
		require.Positive(t, got.NextCheck)
	}
	got := u.p.update(context.Background(), tk, up)
	require.Equal(t, task.StatusSucceeded, got.Status)
	require.Nil(t, got.Error)
	require.Equal(t, int64(len(fakeMP4)), got.Video.Size)
	require.Equal(t, "video/mp4", got.Video.ContentType)
	require.Equal(t, "image/png", got.LastFrame.ContentType)
	require.Equal(t, []int{864, 480}, []int{got.Video.Width, got.Video.Height})
	require.Equal(t, resultFileID("cgt-gw", "video"), got.Video.ID, "stable ids: a repeated copy is the same file")
	obj, err := u.blobs.Open(context.Background(), got.Video.BlobKey)
	require.NoError(t, err)
	defer obj.Close()
	stored, err := io.ReadAll(obj)
	require.NoError(t, err)
	require.Equal(t, fakeMP4, stored)
	require.EqualValues(t, 10, got.Usage.TotalTokens)
	require.Equal(t, 2.0, got.Result.Duration)
}

func TestMirrorRefusesBadFiles(t *testing.T) {
	t.Parallel()
	frame := pngBytes(t, 864, 480)
	tk := &task.Task{ID: "cgt-gw", Model: "seedance-1-0-pro", Status: task.StatusRunning}
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
			u := newUnit(t, "http://localhost:8000", func(c *Config) {
				loopbackDownloads(c)
				c.MaxVideoBytes = tc.limit
			})
			srv := resultServer(t, tc.video, frame, tc.lie)
			got := u.p.update(context.Background(), tk, succeededTask(srv.URL, tc.path))
			require.Equal(t, task.StatusRunning, got.Status)
			require.Contains(t, got.Error.Message, tc.want)
		})
	}
	t.Run("gone", func(t *testing.T) {
		t.Parallel()
		u := newUnit(t, "http://localhost:8000", loopbackDownloads)
		srv := resultServer(t, fakeMP4, frame, false)
		up := succeededTask(srv.URL, "/gone.mp4")
		got := u.p.update(context.Background(), tk, up)
		require.Equal(t, task.StatusRunning, got.Status, "a fresh 403 may pass")
		up.UpdatedAt = time.Now().Add(-time.Hour).Unix()
		got = u.p.update(context.Background(), tk, up)
		require.Equal(t, task.StatusFailed, got.Status, "a URL gone long after success will not come back")
		require.Equal(t, "ResultUnavailable", got.Error.UpstreamCode)
	})
	t.Run("private address", func(t *testing.T) {
		t.Parallel()
		u := newUnit(t, "http://localhost:8000", nil) // the default client refuses loopback
		srv := resultServer(t, fakeMP4, frame, false)
		got := u.p.update(context.Background(), tk, succeededTask(srv.URL, "/video.mp4"))
		require.Equal(t, task.StatusRunning, got.Status)
		require.Contains(t, got.Error.Message, "loopback")
	})
}

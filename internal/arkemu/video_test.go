package arkemu_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
	"github.com/seedgate/seedgate/internal/media/mediatest"
	"github.com/seedgate/seedgate/internal/task"
)

// serveVideo serves a 2 s 640×360 MP4 and returns its URL.
func serveVideo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "source.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=2",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, path)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/source.mp4"
}

func probeFile(t *testing.T, data []byte, name string) mediatest.VideoInfo {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	info, err := mediatest.ProbeVideo(context.Background(), path)
	require.NoError(t, err)
	return info
}

const v25 = "doubao-seedance-2-5-260628"

func videoItem(url string) map[string]any {
	return map[string]any{"type": "video_url", "video_url": map[string]any{"url": url}, "role": "reference_video"}
}

// An extend is as long as its source plus the requested seconds, a mov
// output is a QuickTime file, and 2.x bills the input video's seconds.
func TestExtendMovAndInputBilling(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	t.Parallel()
	b := setup(t, arkemu.Options{URLTTL: time.Hour}, true)
	src := serveVideo(t)
	body := map[string]any{
		"model":      v25,
		"content":    []any{map[string]any{"type": "text", "text": "keep going"}, videoItem(src)},
		"resolution": "480p", "ratio": "adaptive", "duration": 4, "generate_audio": false,
		"output_format": "mov", "omni_reference_task_type": "extension",
	}
	id := b.create(testKey, body)
	b.advance(time.Minute + 10*time.Second)
	got := b.get(testKey, id)
	require.Equal(t, "succeeded", got["status"], "%v", got)
	url := got["content"].(map[string]any)["video_url"].(string)
	require.Contains(t, url, "/video.mov?")
	status, header, data := fetch(t, url)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "video/quicktime", header.Get("Content-Type"))
	info := probeFile(t, data, "v.mov")
	require.Equal(t, "qt", info.MajorBrand)
	require.Equal(t, []int{864, 496}, []int{info.Width, info.Height})
	require.InDelta(t, 2.0+4.0, info.Duration, 1.0/24, "source + requested")
	frames := 48 + 4*24
	tokens := float64(task.Tokens(864, 496, frames+48)) // output frames + the 2 s input
	require.Equal(t, map[string]any{"completion_tokens": tokens, "total_tokens": tokens}, got["usage"])

	// An edit is as long as its source.
	body["omni_reference_task_type"], body["output_format"] = "edit", "mp4"
	id = b.create(testKey, body)
	b.advance(time.Minute + 10*time.Second)
	got = b.get(testKey, id)
	url = got["content"].(map[string]any)["video_url"].(string)
	require.Contains(t, url, "/video.mp4?")
	_, header, data = fetch(t, url)
	require.Equal(t, "video/mp4", header.Get("Content-Type"))
	info = probeFile(t, data, "v.mp4")
	require.InDelta(t, 2.0, info.Duration, 1.0/24)

	// 2.5 takes only adaptive for an edit or extend, as upstream.
	body["ratio"] = "16:9"
	r := b.do(http.MethodPost, "/contents/generations/tasks", testKey, body)
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
	_, param, _ := r.errorOf(t)
	require.Equal(t, "ratio", param)
}

func TestVideoTaskFieldErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, arkemu.Options{}, true)
	for _, tc := range []struct {
		name  string
		extra map[string]any
		param string
	}{
		{"bad output_format", map[string]any{"output_format": "avi"}, "output_format"},
		{"bad task type", map[string]any{"omni_reference_task_type": "remix"}, "omni_reference_task_type"},
		{"edit without a video", map[string]any{"omni_reference_task_type": "edit"}, "content"},
		{"output_format of the wrong type", map[string]any{"output_format": 4}, "output_format"},
		{"mov on a model without it", map[string]any{"model": v20, "output_format": "mov"}, "output_format"},
	} {
		r := b.do(http.MethodPost, "/contents/generations/tasks", testKey, textBody(v25, "x", tc.extra))
		require.Equal(t, http.StatusBadRequest, r.status, "%s: %s", tc.name, r.body)
		code, param, _ := r.errorOf(t)
		require.Equal(t, "InvalidParameter", code, tc.name)
		require.Equal(t, tc.param, param, tc.name)
	}
}

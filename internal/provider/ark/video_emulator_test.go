package ark_test

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

	"github.com/seedgate/seedgate/internal/media/mediatest"
	"github.com/seedgate/seedgate/internal/task"
)

// An extend with mov output goes upstream with both fields; the mirrored
// result is a QuickTime file named and typed as one, as long as the source
// plus the requested seconds.
func TestExtendMovThroughUpstream(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	src := filepath.Join(t.TempDir(), "source.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=24:d=2",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", src).CombinedOutput()
	require.NoError(t, err, "%s", out)
	videos := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, src) }))
	t.Cleanup(videos.Close)

	g := start(t, setup{channels: oneChannel("")})
	tk := g.create("seedance-2-5", task.Request{Prompt: "and then", ReferenceVideos: []string{videos.URL + "/source.mp4"},
		ReferenceTaskType: "extend", OutputFormat: "mov", Resolution: "480p", Ratio: "adaptive", Duration: task.Int(4)})
	// The emulator renders the 6 s result with ffmpeg while the mirror copies
	// it: more than g.wait allows on a loaded machine.
	var got *task.Task
	require.Eventually(t, func() bool {
		got = g.get(tk.ID)
		require.NotEqual(t, task.StatusFailed, got.Status, "%+v", got.Error)
		return got.Status == task.StatusSucceeded
	}, 2*time.Minute, 20*time.Millisecond)
	up := g.upstream(got)
	require.Equal(t, "mov", up.Request.OutputFormat)
	require.Equal(t, "extend", up.Request.ReferenceTaskType)

	f, err := g.app.Store.GetFile(context.Background(), got.Result.VideoFileID)
	require.NoError(t, err)
	require.Equal(t, "video.mov", f.Name)
	require.Equal(t, "video/quicktime", f.ContentType)
	path := filepath.Join(t.TempDir(), "v.mov")
	require.NoError(t, os.WriteFile(path, g.download(g.app.Service.FileURL(f.ID)), 0o600))
	info, err := mediatest.ProbeVideo(context.Background(), path)
	require.NoError(t, err)
	require.Equal(t, "qt", info.MajorBrand)
	require.InDelta(t, 2.0+4.0, info.Duration, 1.0/24)
}

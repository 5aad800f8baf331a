package media

import (
	"bytes"
	"context"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStill(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	video := filepath.Join(dir, "v.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=24:duration=1",
		"-pix_fmt", "yuv420p", video).CombinedOutput()
	require.NoError(t, err, "%s", out)

	img, err := Still(context.Background(), "", video)
	require.NoError(t, err)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(img))
	require.NoError(t, err)
	require.Equal(t, []int{320, 180}, []int{cfg.Width, cfg.Height})

	bad := filepath.Join(dir, "bad.mp4")
	require.NoError(t, os.WriteFile(bad, []byte("not a video"), 0o600))
	_, err = Still(context.Background(), "", bad)
	require.Error(t, err)
}

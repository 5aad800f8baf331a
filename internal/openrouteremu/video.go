package openrouteremu

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// TestVideo renders a short real MP4 (ffmpeg's test pattern, 320×180, one
// second at 24 fps, H.264) for Options.Video. ffmpeg "" means ffmpeg from PATH.
func TestVideo(ctx context.Context, ffmpeg string) ([]byte, error) {
	if ffmpeg == "" {
		ffmpeg = "ffmpeg"
	}
	dir, err := os.MkdirTemp("", "openrouteremu-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "video.mp4")
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "testsrc=size=320x180:rate=24:duration=1", "-c:v", "libx264", "-preset", "ultrafast",
		"-pix_fmt", "yuv420p", "-movflags", "+faststart", "-y", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ffmpeg: %v: %s", err, b)
	}
	return os.ReadFile(out)
}

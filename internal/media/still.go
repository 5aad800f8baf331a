package media

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// StillTimeout bounds one Still.
const StillTimeout = 30 * time.Second

// Still renders the first frame of a local video file as a JPEG with ffmpeg
// ("" means ffmpeg from PATH).
func Still(ctx context.Context, ffmpeg, path string) ([]byte, error) {
	if ffmpeg == "" {
		ffmpeg = "ffmpeg"
	}
	ctx, cancel := context.WithTimeout(ctx, StillTimeout)
	defer cancel()
	var out, stderr bytes.Buffer
	// "file:" keeps a path that looks like a URL or an option from being taken as one.
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-loglevel", "error", "-protocol_whitelist", "file",
		"-i", "file:"+path, "-an", "-sn", "-dn", "-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", "-q:v", "3", "pipe:1")
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("media: still of %s: %w: %s", path, err, lastLine(stderr.String()))
	}
	if out.Len() == 0 {
		return nil, fmt.Errorf("media: still of %s: ffmpeg wrote no frame", path)
	}
	return out.Bytes(), nil
}

// lastLine is the last line of ffmpeg's error output: the one that says why.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

package mediatest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProbeVideo(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	tests := []struct {
		name  string
		args  []string
		audio bool
	}{
		{"video only", []string{"-f", "lavfi", "-i", "testsrc=s=320x240:r=24:d=1"}, false},
		{"with audio", []string{"-f", "lavfi", "-i", "testsrc=s=320x240:r=24:d=1", "-f", "lavfi", "-i", "sine=d=1", "-ac", "1", "-c:a", "aac"}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A name that ffmpeg would take for an option or a URL, were it not for "file:".
			path := filepath.Join(dir, "-v "+string(rune('a'+i))+".mp4")
			args := append([]string{"-hide_banner", "-loglevel", "error"}, tt.args...)
			args = append(args, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-shortest", "-y", "file:"+path)
			out, err := exec.Command("ffmpeg", args...).CombinedOutput()
			require.NoError(t, err, string(out))

			info, err := ProbeVideo(context.Background(), path)
			require.NoError(t, err)
			require.Equal(t, 320, info.Width)
			require.Equal(t, 240, info.Height)
			require.Equal(t, 24.0, info.FPS)
			require.Equal(t, 24, info.Frames)
			require.InDelta(t, 1.0, info.Duration, 0.05)
			require.Equal(t, "h264", info.Codec)
			require.Equal(t, "yuv420p", info.PixelFormat)
			require.Equal(t, tt.audio, info.HasAudio)
			if tt.audio {
				require.Equal(t, "aac", info.AudioCodec)
				require.Equal(t, 1, info.AudioChannels)
			}
		})
	}
}

func TestProbeVideoErrors(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mp4")
	require.NoError(t, os.WriteFile(junk, []byte("not a video at all"), 0o644))
	_, err := ProbeVideo(context.Background(), junk)
	require.ErrorContains(t, err, "ffprobe")

	_, err = ProbeVideo(context.Background(), filepath.Join(dir, "missing.mp4"))
	require.Error(t, err)

	// An audio-only file is readable but has no video stream.
	wav := filepath.Join(dir, "a.wav")
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=0.2", "-y", wav).CombinedOutput()
	require.NoError(t, err, string(out))
	_, err = ProbeVideo(context.Background(), wav)
	require.ErrorIs(t, err, ErrNoVideoStream)
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]float64{"24/1": 24, "30000/1001": 30000.0 / 1001, "0/0": 0, "25": 25, "x/y": 0} {
		require.InDelta(t, want, parseRate(in), 1e-9, in)
	}
}

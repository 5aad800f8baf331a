package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/media/mediatest"
)

// cli runs the binary's client commands against g, with the URL and key in the
// environment as a user would set them.
func (g *gateway) cli(args ...string) (stdout, stderr string, err error) {
	g.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "SEEDGATE_URL="+g.url, "SEEDGATE_KEY="+apiKey)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// The CLI submits with a local first frame, waits with a progress bar, and
// saves a video that ffprobe accepts; then status, ls, download and cancel.
func TestCLISubmitWaitDownload(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir())
	dir := t.TempDir()
	first := filepath.Join(dir, "first.png")
	require.NoError(t, os.WriteFile(first, pngBytes(t, 1280, 720), 0o644))
	out := filepath.Join(dir, "out.mp4")

	stdout, stderr, err := g.cli("submit", "--prompt", "a paper boat on a pond", "--first-frame", first,
		"--model", "seedance-1.5-pro", "--resolution", "480p", "--ratio", "16:9", "--duration", "4",
		"--audio", "--seed", "42", "--watermark", "--return-last-frame", "--wait", "-o", out)
	require.NoError(t, err, "stderr:\n%s", stderr)
	id := strings.TrimSpace(stdout)
	require.True(t, strings.HasPrefix(id, "cgt-"), "stdout: %q", stdout)
	require.Contains(t, stderr, "uploaded "+first)
	require.Contains(t, stderr, "submitted "+id)
	require.Contains(t, stderr, "[##############################] 100% succeeded")
	require.Contains(t, stderr, "saved "+out)
	require.GreaterOrEqual(t, strings.Count(stderr, "%"), 2, "progress is shown while waiting:\n%s", stderr)

	info, err := mediatest.ProbeVideo(context.Background(), out)
	require.NoError(t, err)
	require.Equal(t, 864, info.Width)
	require.Equal(t, 496, info.Height) // 1.5 pro's 480p 16:9 size
	require.InDelta(t, 4.0, info.Duration, 0.1)
	require.True(t, info.HasAudio)
	require.Equal(t, "h264", info.Codec)

	stdout, stderr, err = g.cli("status", id)
	require.NoError(t, err, stderr)
	for _, want := range []string{id, "succeeded", "seedance-1.5-pro", "a paper boat on a pond", "resolution=480p", "seed=42", "864×496", "tokens"} {
		require.Contains(t, stdout, want)
	}
	stdout, _, err = g.cli("status", id, "--json")
	require.NoError(t, err)
	var j struct {
		ID, Status string
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &j))
	require.Equal(t, "succeeded", j.Status)

	stdout, _, err = g.cli("ls", "--status", "succeeded", "-q", "paper boat")
	require.NoError(t, err)
	require.Contains(t, stdout, id)
	require.Contains(t, stdout, "PROMPT")
	stdout, _, err = g.cli("ls", "--status", "failed")
	require.NoError(t, err)
	require.NotContains(t, stdout, id)

	// download, by default to ID.mp4 in the working directory; the last frame too.
	cmd := exec.Command(binary, "download", id, "--url", g.url, "--key", apiKey)
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	_, err = mediatest.ProbeVideo(context.Background(), filepath.Join(dir, id+".mp4"))
	require.NoError(t, err)
	frame := filepath.Join(dir, "last.png")
	_, stderr, err = g.cli("download", id, "--last-frame", "-o", frame)
	require.NoError(t, err, stderr)
	fb, err := os.ReadFile(frame)
	require.NoError(t, err)
	_, err = png.DecodeConfig(bytes.NewReader(fb))
	require.NoError(t, err)

	// Cancelling a finished job is refused, with the gateway's message.
	_, stderr, err = g.cli("cancel", id)
	require.Error(t, err)
	require.Contains(t, stderr, "409 conflict")
}

func TestCLIErrors(t *testing.T) {
	t.Parallel()
	g := startGateway(t, t.TempDir(), "SEEDGATE_SANDBOX_QUEUE_DELAY=30s")

	// Strict: the gateway's error names the field; otherwise the value is adjusted, with a warning.
	_, stderr, err := g.cli("submit", "--prompt", "x", "--model", "seedance-1-5-pro", "--duration", "30", "--strict")
	require.Error(t, err)
	require.Contains(t, stderr, "input.duration")
	stdout, stderr, err := g.cli("submit", "--prompt", "x", "--model", "seedance-1-5-pro", "--duration", "30")
	require.NoError(t, err, stderr)
	require.Contains(t, stderr, "warning: duration 30 clamped to 12")
	_, _, err = g.cli("cancel", strings.TrimSpace(stdout))
	require.NoError(t, err)
	_, stderr, err = g.cli("submit")
	require.Error(t, err)
	require.Contains(t, stderr, "--prompt is required")
	_, stderr, err = g.cli("submit", "--prompt", "x", "--first-frame", "/nonexistent.png")
	require.Error(t, err)
	require.Contains(t, stderr, "nonexistent.png")
	_, stderr, err = g.cli("status", "cgt-nope")
	require.Error(t, err)
	require.Contains(t, stderr, "404 not_found")
	_, stderr, err = g.cli("status")
	require.Error(t, err)
	require.Contains(t, stderr, "Usage: seedgate status")

	cmd := exec.Command(binary, "ls", "--url", g.url, "--key", "wrong")
	b, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(b), "401 unauthorized")

	// Without --wait, submit prints the id at once; a queued job can be cancelled,
	// and a download before it has a video says why.
	stdout, stderr, err = g.cli("submit", "--prompt", "later", "--model", "seedance-1-0-pro-fast", "--resolution", "480p", "--duration", "2")
	require.NoError(t, err, stderr)
	id := strings.TrimSpace(stdout)
	_, stderr, err = g.cli("download", id)
	require.Error(t, err)
	require.Contains(t, stderr, "still queued")
	stdout, stderr, err = g.cli("cancel", id)
	require.NoError(t, err, stderr)
	require.Equal(t, id+" cancelled\n", stdout)

	stdout, _, err = g.cli("models")
	require.NoError(t, err)
	require.Contains(t, stdout, "seedance-2-0")
}

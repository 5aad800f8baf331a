package arkemu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
)

func fetch(t *testing.T, u string) (int, http.Header, []byte) {
	t.Helper()
	// Not http.DefaultClient: the Volcengine SDK rewrites its Transport.
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, data
}

// probe returns ffprobe's view of an mp4: video size, frame rate, and whether
// it has an audio stream.
func probe(t *testing.T, data []byte) (w, h int, fps string, audio bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "v.mp4")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	out, err := exec.Command("ffprobe", "-v", "error", "-show_streams", "-of", "json", path).Output()
	require.NoError(t, err, "ffprobe must accept the file")
	var p struct {
		Streams []struct {
			CodecType    string `json:"codec_type"`
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			RFrameRate   string `json:"r_frame_rate"`
			Channels     int    `json:"channels"`
			NbReadFrames string `json:"nb_frames"`
		} `json:"streams"`
	}
	require.NoError(t, json.Unmarshal(out, &p))
	for _, s := range p.Streams {
		switch s.CodecType {
		case "video":
			require.Equal(t, "h264", s.CodecName)
			w, h, fps = s.Width, s.Height, s.RFrameRate
		case "audio":
			require.Equal(t, 1, s.Channels, "mono audio")
			audio = true
		}
	}
	return w, h, fps, audio
}

func TestResultFiles(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	t.Parallel()
	b := setup(t, arkemu.Options{URLTTL: time.Hour}, true)
	id := b.create(testKey, textBody(pro15, "x", map[string]any{
		"resolution": "480p", "ratio": "9:16", "duration": 4, "return_last_frame": true,
	}))
	b.advance(time.Minute + 10*time.Second)
	got := b.get(testKey, id)
	require.Equal(t, "succeeded", got["status"])
	content := got["content"].(map[string]any)

	status, header, video := fetch(t, content["video_url"].(string))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "video/mp4", header.Get("Content-Type"))
	require.Equal(t, strconv.Itoa(len(video)), header.Get("Content-Length"))
	w, h, fps, audio := probe(t, video)
	require.Equal(t, []int{496, 864}, []int{w, h}, "the task's pixel size")
	require.Equal(t, "24/1", fps)
	require.True(t, audio, "1.5 pro generates audio by default")

	status, header, frame := fetch(t, content["last_frame_url"].(string))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "image/png", header.Get("Content-Type"))
	cfg, err := png.DecodeConfig(bytes.NewReader(frame))
	require.NoError(t, err)
	require.Equal(t, []int{496, 864}, []int{cfg.Width, cfg.Height})

	// The URLs expire URLTTL after success, like TOS presigned URLs.
	b.clock.Advance(time.Hour)
	for _, u := range []string{content["video_url"].(string), content["last_frame_url"].(string)} {
		status, header, body := fetch(t, u)
		require.Equal(t, http.StatusForbidden, status)
		require.Contains(t, header.Get("Content-Type"), "xml")
		require.Contains(t, string(body), "Request has expired")
	}
	status, _, _ = fetch(t, b.http.URL+"/files/nosuchtoken/video.mp4")
	require.Equal(t, http.StatusNotFound, status)
}

func TestResultVideoWithoutAudio(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	t.Parallel()
	b := setup(t, arkemu.Options{}, true)
	id := b.create(testKey, textBody(lite, "x", map[string]any{"resolution": "480p", "ratio": "1:1", "frames": 29}))
	b.advance(time.Hour)
	u := b.get(testKey, id)["content"].(map[string]any)["video_url"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	require.NoError(t, err)
	resp, err := b.http.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	w, h, _, audio := probe(t, data)
	require.Equal(t, []int{640, 640}, []int{w, h})
	require.False(t, audio)
}

package openrouter_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/media/mediatest"
)

// sdkDir holds the package.json and lock file of the official SDK the tests
// drive the dialect with.
const sdkDir = "testdata/sdk"

// nodeSDK makes sure the locked @openrouter/sdk is installed in sdkDir (npm
// ci, from the npm registry, the first time) and returns the node binary.
// Without Node it skips, except under CI, where that is a failure.
func nodeSDK(t *testing.T) string {
	t.Helper()
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node and npm are needed for the OpenRouter SDK test")
		}
		t.Skip("node and npm not found: the OpenRouter SDK test needs them")
	}
	if _, err := os.Stat(filepath.Join(sdkDir, "node_modules", "@openrouter", "sdk", "package.json")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
		cmd.Dir = sdkDir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci in %s: %s", sdkDir, out)
	}
	return node
}

// sdkResult is what smoke.mjs reports.
type sdkResult struct {
	Models      []string `json:"models"`
	Durations   []int    `json:"durations"`
	Resolutions []string `json:"resolutions"`
	FrameImages []string `json:"frameImages"`
	SKUs        []string `json:"skus"`
	Created     struct {
		ID, Status, PollingURL string
	} `json:"created"`
	Done struct {
		Status       string   `json:"status"`
		UnsignedURLs []string `json:"unsignedUrls"`
		Usage        *struct {
			IsBYOK bool `json:"isByok"`
		} `json:"usage"`
		Error string `json:"error"`
	} `json:"done"`
	ContentBytes int `json:"contentBytes"`
	BadRequest   struct {
		IsBadRequest bool           `json:"isBadRequest"`
		Status       int            `json:"status"`
		Message      string         `json:"message"`
		Metadata     map[string]any `json:"metadata"`
	} `json:"badRequest"`
	NotFound struct {
		IsNotFound bool `json:"isNotFound"`
	} `json:"notFound"`
}

// The official SDK, pointed at the gateway, lists the models, creates a
// job, polls it to completion, downloads the MP4 (a real video) and gets its
// typed errors for a bad request and an unknown job.
func TestOfficialSDK(t *testing.T) {
	node := nodeSDK(t)
	g := dialecttest.Start(t)
	mp4 := filepath.Join(t.TempDir(), "out.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "smoke.mjs")
	cmd.Dir = sdkDir
	cmd.Env = append(os.Environ(), "SEEDGATE_URL="+g.URL, "SEEDGATE_KEY="+dialecttest.Key, "SEEDGATE_OUT="+mp4)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "smoke.mjs: %s", stderr.String())
	var res sdkResult
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)

	require.Contains(t, res.Models, "bytedance/seedance-2.0")
	require.Contains(t, res.Models, "bytedance/seedance-2.0-fast")
	require.Contains(t, res.Models, "bytedance/seedance-1-5-pro")
	require.Equal(t, []int{4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, res.Durations)
	require.Equal(t, []string{"480p", "720p", "1080p", "4K"}, res.Resolutions)
	require.Equal(t, []string{"first_frame", "last_frame"}, res.FrameImages)
	require.Contains(t, res.SKUs, "720p_tokens_per_second")

	require.Equal(t, "pending", res.Created.Status)
	require.Equal(t, g.URL+"/api/v1/videos/"+res.Created.ID, res.Created.PollingURL)
	require.Equal(t, "completed", res.Done.Status, "error: %s", res.Done.Error)
	require.Equal(t, []string{g.URL + "/api/v1/videos/" + res.Created.ID + "/content?index=0"}, res.Done.UnsignedURLs)
	require.NotNil(t, res.Done.Usage)

	require.Positive(t, res.ContentBytes)
	info, err := mediatest.ProbeVideo(ctx, mp4)
	require.NoError(t, err)
	require.Equal(t, 864, info.Width) // 1.5 pro, 480p 16:9
	require.InDelta(t, 4, info.Duration, 0.2)

	require.True(t, res.BadRequest.IsBadRequest, "%+v", res.BadRequest)
	require.Equal(t, 400, res.BadRequest.Status)
	require.Contains(t, res.BadRequest.Message, "duration")
	require.Equal(t, "duration", res.BadRequest.Metadata["param"])
	require.True(t, res.NotFound.IsNotFound, "%+v", res.NotFound)
}

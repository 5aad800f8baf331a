package openrouter_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/media/mediatest"
	"github.com/seedgate/seedgate/internal/openrouteremu"
)

// gatewayOn starts gateway A with one channel of kind openrouter, key
// secret, pointing at the emulator.
func gatewayOn(t *testing.T, emu *openrouteremu.Server, env ...string) *dialecttest.Gateway {
	t.Helper()
	ts := httptest.NewServer(emu)
	t.Cleanup(ts.Close)
	channels := filepath.Join(t.TempDir(), "channels.yaml")
	require.NoError(t, os.WriteFile(channels, []byte(fmt.Sprintf(`channels:
  - name: openrouter
    kind: openrouter
    base_url: %s/api/v1
    keys: [%s]
    models: [seedance-2-0, seedance-2-0-fast, seedance-1-5-pro]
checks:
  min_interval: 50ms
  max_interval: 200ms
  expected_time: 100ms
`, ts.URL, secret)), 0o644))
	return dialecttest.Start(t, append([]string{"SEEDGATE_CHANNELS_FILE=" + channels, "SEEDGATE_ALLOW_PRIVATE_URLS=127.0.0.0/8"}, env...)...)
}

// A client of gateway A, speaking OpenRouter's dialect, creates a job that
// runs on an openrouter channel (the emulator): it completes, and the video
// A copied from OpenRouter's key-guarded content endpoint downloads from A.
func TestEndToEnd(t *testing.T) {
	mp4, err := openrouteremu.TestVideo(context.Background(), "")
	require.NoError(t, err)
	emu := openrouteremu.New(openrouteremu.Options{APIKeys: []string{secret}, Video: mp4, QueueTime: 20 * time.Millisecond, RunTime: 100 * time.Millisecond})
	g := gatewayOn(t, emu)

	status, out, raw := g.JSON("POST", "/api/v1/videos", `{"model":"bytedance/seedance-2.0","prompt":"a kite","duration":5,"resolution":"720p","aspect_ratio":"9:16","seed":11}`)
	require.Equal(t, http.StatusAccepted, status, "%s", raw)
	id := out["id"].(string)
	j := g.Wait(id)
	require.Equal(t, "succeeded", j.Status, "%+v", j.Error)

	jobs := emu.Jobs()
	require.Len(t, jobs, 1, "one job upstream")
	require.Equal(t, "bytedance/seedance-2.0", jobs[0].Model)
	require.Equal(t, "9:16", jobs[0].Request.AspectRatio)
	require.Equal(t, int64(11), *jobs[0].Request.Seed)
	require.Equal(t, 1, jobs[0].ContentOK, "A downloaded the content with the key once")

	status, got, raw := g.JSON("GET", "/api/v1/videos/"+id, "")
	require.Equal(t, http.StatusOK, status, "%s", raw)
	require.Equal(t, "completed", got["status"])
	resp, b := g.Do("GET", "/api/v1/videos/"+id+"/content?index=0", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	require.Equal(t, mp4, b, "the video is OpenRouter's, copied")
	file := filepath.Join(t.TempDir(), "v.mp4")
	require.NoError(t, os.WriteFile(file, b, 0o644))
	_, err = mediatest.ProbeVideo(context.Background(), file)
	require.NoError(t, err)

	// A field no openrouter channel carries is refused at submit, naming it.
	status, _, raw = g.JSON("POST", "/v1/jobs", `{"model":"seedance-2-0","input":{"prompt":"x","watermark":true}}`)
	require.Equal(t, http.StatusBadRequest, status, "%s", raw)
	require.Contains(t, string(raw), "watermark")

	// OpenRouter's refusal fails the task with its message.
	status, out, raw = g.JSON("POST", "/api/v1/videos", `{"model":"bytedance/seedance-2.0","prompt":"no `+openrouteremu.FailMarker+`","duration":5}`)
	require.Equal(t, http.StatusAccepted, status, "%s", raw)
	j = g.Wait(out["id"].(string))
	require.Equal(t, "failed", j.Status)
	require.Contains(t, j.Error.Message, "refused")
}

// A create OpenRouter received but never answered cannot be looked up
// (OpenRouter lists nothing and takes no idempotency key): the task fails
// with UpstreamOutcomeUnknown, no second job is created, nothing is charged.
func TestUnknownOutcome(t *testing.T) {
	emu := openrouteremu.New(openrouteremu.Options{APIKeys: []string{secret}, Video: []byte("x")})
	emu.InjectFault(openrouteremu.Fault{Op: openrouteremu.OpCreate, Kind: openrouteremu.FaultDropAfter})
	g := gatewayOn(t, emu)
	status, out, raw := g.JSON("POST", "/api/v1/videos", `{"model":"bytedance/seedance-2.0","prompt":"a kite","duration":5}`)
	require.Equal(t, http.StatusAccepted, status, "%s", raw)
	id := out["id"].(string)
	j := g.Wait(id)
	require.Equal(t, "failed", j.Status)
	_, job, raw := g.JSON("GET", "/v1/jobs/"+id, "")
	require.Contains(t, string(raw), "UpstreamOutcomeUnknown")
	require.Nil(t, job["usage"], "nothing used, nothing charged: %s", raw)
	require.Len(t, emu.Jobs(), 1, "never created twice")
	require.Equal(t, 1, emu.Calls(openrouteremu.OpCreate))
}

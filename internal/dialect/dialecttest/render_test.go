package dialecttest_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
)

// A sandbox render that outlasts SEEDGATE_SANDBOX_RENDER_TIMEOUT is stopped
// and its job fails with RenderTimeout, as clients see it.
func TestRenderTimeoutFailsTheJob(t *testing.T) {
	t.Parallel()
	hang := filepath.Join(t.TempDir(), "ffmpeg")
	require.NoError(t, os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755))
	g := dialecttest.Start(t, "SEEDGATE_FFMPEG="+hang, "SEEDGATE_SANDBOX_RENDER_TIMEOUT=1s")
	resp, b := g.Do("POST", "/v1/jobs", strings.NewReader(
		`{"model":"seedance-1.0-lite-t2v","input":{"prompt":"a slow one","resolution":"480p","duration":2}}`),
		map[string]string{"Content-Type": "application/json"})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	var job struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Error  struct {
			UpstreamCode string `json:"upstream_code"`
			Message      string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(b, &job))
	require.Eventually(t, func() bool {
		_, b := g.Do("GET", "/v1/jobs/"+job.ID, nil, nil)
		return json.Unmarshal(b, &job) == nil && job.Status != "queued" && job.Status != "processing"
	}, time.Minute, 20*time.Millisecond)
	require.Equal(t, "failed", job.Status)
	require.Equal(t, "RenderTimeout", job.Error.UpstreamCode)
	require.Contains(t, job.Error.Message, "1s")
}

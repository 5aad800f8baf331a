package openrouter_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
)

// poll reads the job until it is finished.
func poll(t *testing.T, g *dialecttest.Gateway, id string) (map[string]any, []byte) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		status, out, raw := g.JSON("GET", "/api/v1/videos/"+id, "")
		require.Equal(t, http.StatusOK, status, "%s", raw)
		if s := out["status"]; s != "pending" && s != "in_progress" {
			return out, raw
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %s did not finish", id)
	return nil, nil
}

// The answers keep their golden shape: the 202 job, the completed job, an
// error naming the field; and the SDK's own request bodies are taken as
// they are.
func TestGoldenAnswers(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	body := dialecttest.Fixture(t, "create_sdk_text.json", `"bytedance/seedance-2.0"`, `"bytedance/seedance-1-5-pro"`,
		`"duration": 5`, `"duration": 4`, `"resolution": "720p"`, `"resolution": "480p"`)
	status, out, raw := g.JSON("POST", "/api/v1/videos", body)
	require.Equal(t, http.StatusAccepted, status, "%s", raw)
	g.Golden("create", raw)
	_, done := poll(t, g, out["id"].(string))
	g.Golden("completed", done)

	status, _, raw = g.JSON("POST", "/api/v1/videos", `{"model":"bytedance/seedance-2.0","prompt":"x","aspect_ratio":"7:5"}`)
	require.Equal(t, http.StatusBadRequest, status, "%s", raw)
	g.Golden("error_aspect_ratio", raw)

	// Every body the SDK builds is accepted (its URLs replaced by uploads).
	img := g.UploadPNG(1280, 720)
	for _, name := range []string{"create_sdk_text.json", "create_sdk_frames.json"} {
		b := dialecttest.Fixture(t, name)
		b = strings.ReplaceAll(strings.ReplaceAll(b, "https://example.com/first.png", img), "https://example.com/last.png", img)
		status, out, raw := g.JSON("POST", "/api/v1/videos", b)
		require.Equal(t, http.StatusAccepted, status, "%s: %s", name, raw)
		require.Equal(t, "pending", out["status"])
	}
}

// previous_job_id continues a completed job: the new job takes its video as
// the reference video of an extend, on the same model; a job not completed,
// or another tenant's, cannot be continued.
func TestPreviousJob(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	status, out, raw := g.JSON("POST", "/api/v1/videos", `{"model":"bytedance/seedance-2.0-fast","prompt":"a dancer","duration":4,"resolution":"480p"}`)
	require.Equal(t, http.StatusAccepted, status, "%s", raw)
	first := out["id"].(string)
	done, _ := poll(t, g, first)
	require.Equal(t, "completed", done["status"])

	status, out, raw = g.JSON("POST", "/api/v1/videos", `{"model":"bytedance/seedance-2.0-fast","prompt":"she keeps dancing","previous_job_id":"`+first+`","duration":4,"resolution":"480p"}`)
	require.Equal(t, http.StatusAccepted, status, "%s", raw)
	second := out["id"].(string)
	j := g.Wait(second)
	require.Equal(t, "succeeded", j.Status, "%+v", j.Error)
	_, _, raw = g.JSON("GET", "/v1/jobs/"+second, "")
	require.Contains(t, string(raw), `"reference_video_urls":["`+g.URL+`/v1/files/file_`+first+`_video/content?sig=`)

	status, _, raw = g.JSON("POST", "/api/v1/videos", `{"model":"bytedance/seedance-2.0","prompt":"x","previous_job_id":"`+first+`"}`)
	require.Equal(t, http.StatusBadRequest, status, "another model: %s", raw)
	require.Contains(t, string(raw), `"param":"previous_job_id"`)
	status, _, raw = g.JSON("POST", "/api/v1/videos", `{"model":"bytedance/seedance-2.0","prompt":"x","previous_job_id":"cgt-20250314150926-abcdefghij"}`)
	require.Equal(t, http.StatusNotFound, status, "%s", raw)
	require.Contains(t, string(raw), `"param":"previous_job_id"`)
}

// The content needs the key, and exists once the job is completed.
func TestContent(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_SANDBOX_QUEUE_DELAY=1h")
	status, out, raw := g.JSON("POST", "/api/v1/videos", `{"model":"bytedance/seedance-1-5-pro","prompt":"a kite","duration":4,"resolution":"480p"}`)
	require.Equal(t, http.StatusAccepted, status, "%s", raw)
	id := out["id"].(string)
	resp, b := g.Do("GET", "/api/v1/videos/"+id+"/content?index=0", nil, nil)
	require.Equal(t, http.StatusConflict, resp.StatusCode, "%s", b)
	require.Contains(t, string(b), "pending")
	resp, b = g.Do("GET", "/api/v1/videos/"+id+"/content?index=0", nil, map[string]string{"Authorization": ""})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s", b)
	require.Contains(t, string(b), `"code":401`)
	resp, b = g.Do("GET", "/api/v1/videos/"+id+"/content?index=1", nil, nil)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", b)
	require.Contains(t, string(b), `"param":"index"`)
}

// callback_url gets the finished job, signed, through the gateway's webhooks.
func TestCallback(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer hook.Close()
	g := dialecttest.Start(t, "SEEDGATE_ALLOW_PRIVATE_URLS=127.0.0.0/8")
	status, out, raw := g.JSON("POST", "/api/v1/videos", `{"model":"bytedance/seedance-1-5-pro","prompt":"a kite","duration":4,"resolution":"480p","callback_url":"`+hook.URL+`/done"}`)
	require.Equal(t, http.StatusAccepted, status, "%s", raw)
	select {
	case r := <-got:
		body := <-bodies
		require.Equal(t, "/done", r.URL.Path)
		require.NotEmpty(t, r.Header.Get("webhook-signature"))
		var v map[string]any
		require.NoError(t, json.Unmarshal(body, &v), "%s", body)
		require.Equal(t, out["id"], v["id"])
		require.Equal(t, "completed", v["status"], "only the finished job is announced: %s", body)
		require.NotEmpty(t, v["unsigned_urls"])
	case <-time.After(90 * time.Second):
		t.Fatal("no callback")
	}
}

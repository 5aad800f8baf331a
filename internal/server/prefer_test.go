package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func prefer(v string) http.Header { return http.Header{"Prefer": {v}} }

func TestPreferWaitCreateReturnsFinishedJobInOneCall(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, nil)
	var j jobAnswer
	resp, body := g.call("POST", "/v1/jobs", "", `{"model":"seedance-1-0-pro","input":{"prompt":"wait for me",`+tiny+`}}`,
		prefer("wait=30"), &j)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Equal(t, "wait=30", resp.Header.Get("Preference-Applied"))
	require.Equal(t, "succeeded", j.Status, "one call, a finished sandbox job: %s", body)
	require.Equal(t, 100, j.Progress)
	require.NotEmpty(t, j.Output.Videos)
}

func TestPreferWaitGetAnswersWithCurrentStateAfterN(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, map[string]string{"SEEDGATE_SANDBOX_QUEUE_DELAY": "1m", "SEEDGATE_MAX_WAIT": "2s"})
	j := g.createJob(`"prompt":"stays queued"`)

	start := time.Now()
	var got jobAnswer
	resp, _ := g.call("GET", "/v1/jobs/"+j.ID, "", "", prefer("respond-async, wait=1"), &got)
	took := time.Since(start)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "wait=1", resp.Header.Get("Preference-Applied"))
	require.Equal(t, "processing", got.Status)
	require.GreaterOrEqual(t, took, time.Second)

	// N past the cap is cut to it, and says so.
	resp, _ = g.call("GET", "/v1/jobs/"+j.ID, "", "", prefer("wait=600"), &got)
	require.Equal(t, "wait=2", resp.Header.Get("Preference-Applied"))

	// No preference (or a malformed one): no wait, no Preference-Applied.
	resp, _ = g.call("GET", "/v1/jobs/"+j.ID, "", "", prefer("wait=soon"), &got)
	require.Empty(t, resp.Header.Get("Preference-Applied"))

	// A missing job is still a 404, in the dialect's shape.
	resp, body := g.call("GET", "/v1/jobs/cgt-missing", "", "", prefer("wait=5"), nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	require.Contains(t, string(body), "not_found")
}

func TestPreferWaitArk(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, nil)
	var task struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Content struct {
			VideoURL string `json:"video_url"`
		} `json:"content"`
	}
	body := `{"model":"seedance-1-0-pro-250528","content":[{"type":"text","text":"ark waits --rs 480p --dur 2"}]}`
	resp, raw := g.call("POST", "/api/v3/contents/generations/tasks", "", body, prefer("wait=30"), &task)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, "wait=30", resp.Header.Get("Preference-Applied"))
	require.Equal(t, "succeeded", task.Status, "the Ark task object, finished: %s", raw)
	require.NotEmpty(t, task.Content.VideoURL)

	// Without the preference the create answers the bare {"id"} at once, as Ark does.
	var created map[string]any
	resp, raw = g.call("POST", "/api/v3/contents/generations/tasks", "", body, nil, &created)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, []string{"id"}, keys(created))

	// And the get waits too.
	var got struct {
		Status string `json:"status"`
	}
	resp, raw = g.call("GET", "/api/v3/contents/generations/tasks/"+created["id"].(string), "", "", prefer("wait=30"), &got)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, "succeeded", got.Status)
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPreferWaitAndIdempotencyOpenAI(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, nil)
	var v struct {
		ID       string `json:"id"`
		Object   string `json:"object"`
		Status   string `json:"status"`
		Progress int    `json:"progress"`
	}
	resp, raw := g.call("POST", "/v1/videos", "", `{"model":"seedance-1-0-pro","prompt":"openai waits","seconds":"2","size":"864x480"}`,
		prefer("wait=30"), &v)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, "wait=30", resp.Header.Get("Preference-Applied"))
	require.Equal(t, "video", v.Object)
	require.Equal(t, "completed", v.Status, "%s", raw)
	require.Equal(t, 100, v.Progress)

	// Multipart creates compare by content: another boundary, the same form, the same answer.
	form := func(boundary, prompt string) (http.Header, string) {
		h := http.Header{"Content-Type": {"multipart/form-data; boundary=" + boundary}, "Idempotency-Key": {"oa-1"}}
		part := func(name, value string) string {
			return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n"
		}
		return h, part("model", "seedance-1-0-pro") + part("prompt", prompt) + part("seconds", "2") + "--" + boundary + "--\r\n"
	}
	h1, b1 := form("boundary-one", "a multipart cat")
	h2, b2 := form("boundary-two", "a multipart cat")
	h3, b3 := form("boundary-three", "a multipart dog")
	r1, raw1 := g.call("POST", "/v1/videos", "", b1, h1, nil)
	require.Equal(t, http.StatusOK, r1.StatusCode, "%s", raw1)
	r2, raw2 := g.call("POST", "/v1/videos", "", b2, h2, nil)
	require.Equal(t, "true", r2.Header.Get("Idempotent-Replayed"))
	require.Equal(t, string(raw1), string(raw2))
	r3, raw3 := g.call("POST", "/v1/videos", "", b3, h3, nil)
	require.Equal(t, http.StatusUnprocessableEntity, r3.StatusCode, "%s", raw3)
}

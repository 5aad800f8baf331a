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
	start := time.Now()
	resp, body := g.call("POST", "/v1/jobs", "", `{"model":"seedance-1-0-pro","input":{"prompt":"wait for me",`+tiny+`}}`,
		prefer("wait=30"), &j)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	require.Equal(t, "wait=30", resp.Header.Get("Preference-Applied"))
	require.Equal(t, "succeeded", j.Status, "one call, a finished sandbox job: %s", body)
	require.Equal(t, 100, j.Progress)
	require.NotEmpty(t, j.Output.Videos)
	require.Less(t, time.Since(start), 25*time.Second)
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
	require.Less(t, took, 3*time.Second)

	// N past the cap is cut to it, and says so.
	start = time.Now()
	resp, _ = g.call("GET", "/v1/jobs/"+j.ID, "", "", prefer("wait=600"), &got)
	require.Equal(t, "wait=2", resp.Header.Get("Preference-Applied"))
	require.Less(t, time.Since(start), 4*time.Second)

	// No preference (or a malformed one): no wait, no Preference-Applied.
	start = time.Now()
	resp, _ = g.call("GET", "/v1/jobs/"+j.ID, "", "", prefer("wait=soon"), &got)
	require.Empty(t, resp.Header.Get("Preference-Applied"))
	require.Less(t, time.Since(start), time.Second)

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

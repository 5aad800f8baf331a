package dialecttest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
)

// A task created through each dialect is read through every other by its id,
// and every dialect shows the model name its creator used and the same video.
func TestCrossDialect(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	bare := map[string]string{"Authorization": dialecttest.Key, "Content-Type": "application/json"}
	post := func(path, body string, h map[string]string) map[string]any {
		t.Helper()
		if h == nil {
			h = map[string]string{"Content-Type": "application/json"}
		}
		resp, raw := g.Do("POST", path, strings.NewReader(body), h)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, raw)
		var out map[string]any
		require.NoError(t, json.Unmarshal(raw, &out))
		return out
	}
	type created struct{ dialect, id, model string }
	var tasks []created
	add := func(dialect, model, id string) { tasks = append(tasks, created{dialect, id, model}) }

	out := post("/v1/jobs", `{"model":"seedance-1.0-lite-t2v","input":{"prompt":"jobs","resolution":"480p","duration":2}}`, nil)
	add("jobs", "seedance-1.0-lite-t2v", out["id"].(string))
	out = post("/api/v3/contents/generations/tasks", `{"model":"seedance-1-0-lite-t2v-250428","content":[{"type":"text","text":"ark --rs 480p --dur 2"}]}`, nil)
	add("ark", "seedance-1-0-lite-t2v-250428", out["id"].(string))
	out = post("/v1/videos/generations", `{"model":"doubao-seedance-1-0-lite-t2v","prompt":"videos","duration":2,"resolution":"480p"}`, nil)
	add("videos", "doubao-seedance-1-0-lite-t2v", out["data"].([]any)[0].(map[string]any)["task_id"].(string))
	out = post("/v1/seedance/videos", `{"model":"doubao-seedance-1-0-lite-t2v-250428","content":[{"type":"text","text":"seedance"}],"duration":2,"resolution":"480p"}`, nil)
	add("seedance", "doubao-seedance-1-0-lite-t2v-250428", out["data"].(map[string]any)["task_id"].(string))
	out = post("/v1/responses", `{"model":"seedance-1-0-pro-fast-251015","input":"responses","duration":2,"resolution":"480p"}`, bare)
	add("responses", "seedance-1-0-pro-fast-251015", out["id"].(string))
	out = post("/v1/videos", `{"model":"seedance-1-0-pro-fast","prompt":"openai","seconds":"2","size":"864x480"}`, nil)
	add("openai", "seedance-1-0-pro-fast", out["id"].(string))
	status, out, raw := g.JSON("POST", "/api/v1/videos", `{"model":"seedance-1.0-pro-fast","prompt":"openrouter","duration":2,"resolution":"480p","aspect_ratio":"16:9"}`)
	require.Equal(t, http.StatusAccepted, status, "%s", raw)
	add("openrouter", "seedance-1.0-pro-fast", out["id"].(string))

	for _, c := range tasks {
		j := g.Wait(c.id)
		require.Equal(t, "succeeded", j.Status, "%s: %+v", c.dialect, j.Error)
		url := j.Output.Videos[0].URL
		get := func(path string) map[string]any {
			status, out, raw := g.JSON("GET", path, "")
			require.Equal(t, http.StatusOK, status, "%s created, %s: %s", c.dialect, path, raw)
			return out
		}
		// jobs
		require.Equal(t, c.model, j.Model, c.dialect)
		// ark
		a := get("/api/v3/contents/generations/tasks/" + c.id)
		require.Equal(t, c.model, a["model"], c.dialect)
		require.Equal(t, "succeeded", a["status"])
		require.Equal(t, url, a["content"].(map[string]any)["video_url"])
		// videos, at both status paths
		for _, p := range []string{"/v1/tasks/", "/v1/videos/generations/"} {
			v := get(p + c.id)["data"].(map[string]any)
			require.Equal(t, c.model, v["model"], c.dialect)
			require.Equal(t, "succeeded", v["status"])
			require.Equal(t, url, v["video_url"])
		}
		// seedance
		s := get("/v1/seedance/tasks/" + c.id)["data"].(map[string]any)
		require.Equal(t, c.model, s["model"], c.dialect)
		require.Equal(t, url, s["video_url"])
		// responses
		r := post("/v1/responses", `{"model":"seedance-get","input":"`+c.id+`","stream":false}`, bare)
		text := r["output"].([]any)[0].(map[string]any)["content"].([]any)[0].(map[string]any)["text"].(string)
		require.Contains(t, text, "视频URL: "+url, c.dialect)
		// openai
		o := get("/v1/videos/" + c.id)
		require.Equal(t, c.model, o["model"], c.dialect)
		require.Equal(t, "completed", o["status"])
		require.Equal(t, "864x480", o["size"])
		require.Equal(t, "2", o["seconds"])
		resp, raw := g.Do("GET", "/v1/videos/"+c.id+"/content", nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
		require.Equal(t, "video/mp4", resp.Header.Get("Content-Type"))
		// openrouter
		or := get("/api/v1/videos/" + c.id)
		require.Equal(t, "completed", or["status"], c.dialect)
		content := "/api/v1/videos/" + c.id + "/content?index=0"
		require.Equal(t, []any{g.URL + content}, or["unsigned_urls"], c.dialect)
		resp, mp4 := g.Do("GET", content, nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", mp4)
		require.Equal(t, raw, mp4, "the same video through both dialects")
	}
}

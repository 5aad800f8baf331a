package ark_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
)

const tasksPath = "/byteplus/v3/contents/generations/tasks"

// volatile are the task object's fields that differ from run to run.
var volatile = []string{"created_at", "updated_at", "seed"}

func seed(t *testing.T, name string) string {
	return dialecttest.Fixture(t, "seed/"+name)
}

// Seed 001's example, sent as written (its placeholder image URL replaced by an
// uploaded image), under the seed's /byteplus/v3 prefix; then its "文件检索" get.
func TestSeed001(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	body := dialecttest.Fixture(t, "001_create.json", "https://*******.jpeg|png....", g.UploadPNG(1280, 720))

	status, created, raw := g.JSON("POST", tasksPath, body)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	dialecttest.RequireShape(t, seed(t, "001_create_answer.json"), raw)
	require.Len(t, created, 1, "the create answer is {\"id\":…} only: %s", raw)
	g.Golden("001_create", raw)
	id := created["id"].(string)
	require.True(t, strings.HasPrefix(id, "cgt-"), id)

	g.Wait(id)
	status, got, raw := g.JSON("GET", tasksPath+"/"+id, "")
	require.Equal(t, http.StatusOK, status, "%s", raw)
	dialecttest.RequireShape(t, seed(t, "001_get_answer.json"), raw)
	dialecttest.RequireShape(t, seed(t, "ark_task_example.json"), raw)
	g.Golden("001_get", raw, volatile...)
	// Field by field, what the seed documents for this request.
	require.Equal(t, "seedance-1-0-pro-250528", got["model"])
	require.Equal(t, "succeeded", got["status"])
	require.Equal(t, "1080p", got["resolution"])
	require.Equal(t, "16:9", got["ratio"], "adaptive resolves from the 16:9 first frame")
	require.EqualValues(t, 6, got["duration"])
	require.EqualValues(t, 24, got["framespersecond"])
	require.Equal(t, "default", got["service_tier"])
	require.EqualValues(t, 172800, got["execution_expires_after"])
	require.Equal(t, false, got["draft"])
	require.EqualValues(t, 295800, got["usage"].(map[string]any)["total_tokens"], "the seed's own figure for 1080p 6 s")
	require.Nil(t, got["error"])
	videoURL := got["content"].(map[string]any)["video_url"].(string)
	resp, err := g.Client.Get(videoURL) // signed: no key needed
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// The same task through the official prefix.
	status, _, raw2 := g.JSON("GET", "/api/v3/contents/generations/tasks/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, string(raw), string(raw2))
}

func TestErrors(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	img := g.UploadPNG(640, 640)
	text := `{"type":"text","text":"a cat"}`
	cases := []struct {
		name, body  string
		status      int
		code, param string
		msg         string
	}{
		{"bad field", `{"model":"seedance-1-0-pro-250528","content":[` + text + `],"duration":"six"}`,
			400, "InvalidParameter", "duration", "integer"},
		{"malformed", `{"model":`, 400, "InvalidParameter", "", "JSON"},
		{"missing model", `{"content":[` + text + `]}`, 400, "MissingParameter", "model", "model"},
		{"missing content", `{"model":"seedance-1-0-pro-250528"}`, 400, "MissingParameter", "content", "content"},
		{"unknown model", `{"model":"sora-2","content":[` + text + `]}`, 404, "InvalidEndpointOrModel.NotFound", "model", "seedance-1-0-pro-250528"},
		{"out-of-range duration", `{"model":"seedance-1-0-pro-250528","content":[` + text + `],"duration":20}`,
			400, "InvalidParameter", "duration", "2–12"},
		{"string image_url", `{"model":"seedance-1-0-pro-250528","content":[` + text + `,{"type":"image_url","image_url":"` + img + `"}]}`,
			400, "InvalidParameter", "content[1].image_url", `{"url"`},
		{"both image forms", `{"model":"seedance-1-0-lite-i2v-250428","content":[` + text +
			`,{"type":"image_url","image_url":{"url":"` + img + `"},"role":"first_frame"},{"type":"image_url","image_url":{"url":"` + img + `"},"role":"reference_image"}]}`,
			400, "InvalidParameter", "content", "reference images cannot be combined"},
		{"bad role", `{"model":"seedance-1-0-pro-250528","content":[` + text + `,{"type":"image_url","image_url":{"url":"` + img + `"},"role":"hero"}]}`,
			400, "InvalidParameter", "content[1].role", "hero"},
		{"unsupported switch", `{"model":"seedance-1-0-pro-250528","content":[` + text + `],"generate_audio":true}`,
			400, "InvalidParameter", "generate_audio", "1.5"},
		{"bad tool", `{"model":"doubao-seedance-2-0-260128","content":[` + text + `],"tools":[{"type":"x"}]}`,
			400, "InvalidParameter", "tools[0].type", "web_search"},
	}
	for _, c := range cases {
		status, out, raw := g.JSON("POST", tasksPath, c.body)
		require.Equal(t, c.status, status, "%s: %s", c.name, raw)
		dialecttest.RequireShape(t, seed(t, "ark_error.json"), raw)
		e := out["error"].(map[string]any)
		require.Equal(t, c.code, e["code"], "%s: %s", c.name, raw)
		require.Equal(t, c.param, e["param"], "%s: %s", c.name, raw)
		require.Contains(t, e["message"], c.msg, "%s: %s", c.name, raw)
		require.Contains(t, e["message"], "Request ID: ", c.name)
		require.NotEmpty(t, e["type"], c.name)
	}

	// Wrong key, in Ark's shape.
	resp, raw := g.Do("GET", tasksPath, nil, map[string]string{"Authorization": "Bearer sk-wrong"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	var e struct{ Error arkproto.APIError }
	require.NoError(t, json.Unmarshal(raw, &e))
	require.Equal(t, arkproto.APIError{Code: "AuthenticationError", Type: "Unauthorized", Message: e.Error.Message}, e.Error)
	g.Golden("error_wrong_key", raw, "message")

	// Unknown task, bad list parameters.
	status, out, _ := g.JSON("GET", tasksPath+"/cgt-nope", "")
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "NotFound", out["error"].(map[string]any)["code"])
	for _, q := range []string{"page_num=0", "page_size=501", "page_size=x", "filter.status=done", "filter.service_tier=fast"} {
		status, out, _ := g.JSON("GET", tasksPath+"?"+q, "")
		require.Equal(t, http.StatusBadRequest, status, q)
		require.Equal(t, "InvalidParameter", out["error"].(map[string]any)["code"], q)
	}

	// Nothing was stored by any of the failed creates.
	status, out, _ = g.JSON("GET", tasksPath, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 0, out["total"])
}

// DELETE by status (docs/upstream-ark.md#delete): queued → cancelled; running → refused;
// finished → deleted; cancelled → refused.
func TestDeleteRules(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_SANDBOX_QUEUE_DELAY=1500ms", "SEEDGATE_SANDBOX_RUN_TIME=1500ms")
	create := func(prompt string) string {
		status, out, raw := g.JSON("POST", tasksPath, fmt.Sprintf(
			`{"model":"seedance-1-0-lite-t2v-250428","content":[{"type":"text","text":%q}],"resolution":"480p","duration":2}`, prompt))
		require.Equal(t, http.StatusOK, status, "%s", raw)
		return out["id"].(string)
	}
	get := func(id string) (int, map[string]any) {
		status, out, _ := g.JSON("GET", tasksPath+"/"+id, "")
		return status, out
	}
	del := func(id string) (int, map[string]any) {
		status, out, _ := g.JSON("DELETE", tasksPath+"/"+id, "")
		return status, out
	}
	queued, running := create("cancel me"), create("let me run")

	// queued → cancelled
	_, q := get(queued)
	require.Equal(t, "queued", q["status"])
	status, out := del(queued)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Nil(t, out, "the answer is an empty body")
	_, q = get(queued)
	require.Equal(t, "cancelled", q["status"])
	// cancelled → refused
	status, out = del(queued)
	require.Equal(t, http.StatusConflict, status)
	require.Equal(t, "OperationDenied.InvalidTaskStatus", out["error"].(map[string]any)["code"])

	// running → refused
	require.Eventually(t, func() bool { _, r := get(running); return r["status"] == "running" }, 20*time.Second, 20*time.Millisecond)
	status, out = del(running)
	require.Equal(t, http.StatusConflict, status, "%v", out)
	require.Contains(t, out["error"].(map[string]any)["message"], "running")

	// succeeded → deleted, no longer queryable
	g.Wait(running)
	status, _ = del(running)
	require.Equal(t, http.StatusOK, status)
	status, out = get(running)
	require.Equal(t, http.StatusNotFound, status, "%v", out)
	status, _ = del(running)
	require.Equal(t, http.StatusNotFound, status)
}

func TestList(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_SANDBOX_QUEUE_DELAY=30s")
	var ids []string
	for i, body := range []string{
		`{"model":"seedance-1-0-lite-t2v-250428","content":[{"type":"text","text":"one"}]}`,
		`{"model":"doubao-seedance-1-5-pro-251215","content":[{"type":"text","text":"two"}]}`,
		`{"model":"seedance-1-5-pro-251215","content":[{"type":"text","text":"three"}],"service_tier":"flex"}`,
		`{"model":"seedance-1-0-lite-t2v-250428","content":[{"type":"text","text":"four"}]}`,
	} {
		status, out, raw := g.JSON("POST", "/api/v3/contents/generations/tasks", body)
		require.Equal(t, http.StatusOK, status, "%d: %s", i, raw)
		ids = append(ids, out["id"].(string))
	}
	// ids[3] is cancelled.
	status, _, _ := g.JSON("DELETE", tasksPath+"/"+ids[3], "")
	require.Equal(t, http.StatusOK, status)

	list := func(q string) (total int, got []string) {
		t.Helper()
		status, out, raw := g.JSON("GET", tasksPath+"?"+q, "")
		require.Equal(t, http.StatusOK, status, "%s: %s", q, raw)
		for _, it := range out["items"].([]any) {
			got = append(got, it.(map[string]any)["id"].(string))
		}
		return int(out["total"].(float64)), got
	}
	cases := []struct {
		q     string
		total int
		want  []string
	}{
		{"", 3, []string{ids[3], ids[1], ids[0]}}, // newest first; flex only when asked
		{"filter.service_tier=flex", 1, []string{ids[2]}},
		{"filter.status=cancelled", 1, []string{ids[3]}},
		{"filter.status=queued", 2, []string{ids[1], ids[0]}},
		{"filter.model=doubao-seedance-1-0-lite-t2v-250428", 2, []string{ids[3], ids[0]}},
		{"filter.model=seedance-1-5-pro", 1, []string{ids[1]}},
		{"filter.model=no-such-model", 0, nil},
		{"filter.task_ids=" + ids[0] + "&filter.task_ids=" + ids[1] + "&filter.task_ids=" + ids[2], 2, []string{ids[1], ids[0]}},
		{"page_num=1&page_size=2", 3, []string{ids[3], ids[1]}},
		{"page_num=2&page_size=2", 3, []string{ids[0]}},
		{"page_num=3&page_size=2", 3, nil},
	}
	for _, c := range cases {
		total, got := list(c.q)
		require.Equal(t, c.total, total, c.q)
		require.Equal(t, c.want, got, c.q)
	}
	// Items are full task objects.
	status, out, raw := g.JSON("GET", tasksPath+"?filter.task_ids="+ids[1], "")
	require.Equal(t, http.StatusOK, status)
	item, _ := json.Marshal(out["items"].([]any)[0])
	require.Equal(t, "doubao-seedance-1-5-pro-251215", out["items"].([]any)[0].(map[string]any)["model"], "%s", raw)
	require.Contains(t, string(item), `"generate_audio":true`)
}

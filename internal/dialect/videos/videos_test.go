package videos_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
)

const createPath = "/v1/videos/generations"

func seed(t *testing.T, name string) string { return dialecttest.Fixture(t, "seed/"+name) }

// statusVolatile are the status object's fields that differ from run to run.
var statusVolatile = []string{"created_at", "updated_at", "finished_at", "seed"}

// Every reference example of the dialect (docs/dialects.md#videos), sent as written (example.com images
// replaced by uploaded ones); each is accepted with the documented answer,
// renders, and its status reads back at both status paths.
func TestSeed002(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	first, last := g.UploadPNG(1280, 720), g.UploadPNG(1280, 720)
	cases := []struct {
		name    string
		replace []string
		width   int
		height  int
		ratio   string
		audio   bool
	}{
		{"002_create", nil, 1280, 720, "16:9", true},
		{"002_scene1_t2v_audio", nil, 1280, 720, "16:9", true},
		{"002_scene2_vertical", nil, 720, 1280, "9:16", true},
		{"002_scene3_first_frame", []string{"https://example.com/first.png", first}, 1280, 720, "16:9", true},
		{"002_scene4_first_last", []string{"https://example.com/day.png", first, "https://example.com/night.png", last}, 1280, 720, "16:9", false},
	}
	ids := map[string]string{}
	for _, c := range cases {
		status, out, raw := g.JSON("POST", createPath, dialecttest.Fixture(t, c.name+".json", c.replace...))
		require.Equal(t, http.StatusOK, status, "%s: %s", c.name, raw)
		dialecttest.RequireShape(t, seed(t, "002_create_answer.json"), raw)
		g.Golden(c.name+"_answer", raw)
		ids[c.name] = out["data"].([]any)[0].(map[string]any)["task_id"].(string)
	}
	for _, c := range cases {
		id := ids[c.name]
		j := g.Wait(id)
		require.Equal(t, "succeeded", j.Status, "%s: %+v", c.name, j.Error)
		status, out, raw := g.JSON("GET", createPath+"/"+id, "")
		require.Equal(t, http.StatusOK, status, "%s", raw)
		require.EqualValues(t, 200, out["code"])
		d := out["data"].(map[string]any)
		require.Equal(t, id, d["task_id"])
		require.Equal(t, "succeeded", d["status"])
		require.Equal(t, "doubao-seedance-1-5-pro", d["model"])
		require.Equal(t, "720p", d["resolution"])
		require.Equal(t, c.ratio, d["aspect_ratio"])
		require.EqualValues(t, 5, d["duration"])
		require.EqualValues(t, c.width, d["width"])
		require.EqualValues(t, c.height, d["height"])
		require.Equal(t, c.audio, d["audio"])
		require.NotEmpty(t, d["video_url"])
		g.Golden(c.name+"_status", raw, statusVolatile...)
		status, _, raw2 := g.JSON("GET", "/v1/tasks/"+id, "")
		require.Equal(t, http.StatusOK, status)
		require.JSONEq(t, string(raw), string(raw2))
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	img := g.UploadPNG(640, 640)
	m := `"model":"doubao-seedance-1-5-pro",`
	cases := []struct {
		name, body string
		status     int
		typ, param string
		msg        string
	}{
		{"bad field", `{` + m + `"prompt":"x","duration":"five"}`, 400, "invalid_request_error", "duration", "integer"},
		{"missing prompt", `{` + m + `"duration":5}`, 400, "invalid_request_error", "prompt", "prompt"},
		{"unknown model", `{"model":"sora-2","prompt":"x"}`, 400, "invalid_request_error", "model", "doubao-seedance-1-5-pro"},
		{"out-of-range duration", `{` + m + `"prompt":"x","duration":3}`, 400, "invalid_request_error", "duration", "4–12"},
		{"bad aspect ratio", `{` + m + `"prompt":"x","aspect_ratio":"2:1"}`, 400, "invalid_request_error", "aspect_ratio", "2:1"},
		{"both image forms", `{` + m + `"prompt":"x","image_urls":["` + img + `"],"image_with_roles":[{"url":"` + img + `","role":"first_frame"}]}`,
			400, "invalid_request_error", "image_with_roles", "cannot be used together"},
		{"three image_urls", `{` + m + `"prompt":"x","image_urls":["` + img + `","` + img + `","` + img + `"]}`,
			400, "invalid_request_error", "image_urls", "got 3"},
		{"bad role", `{` + m + `"prompt":"x","image_with_roles":[{"url":"` + img + `","role":"reference"}]}`,
			400, "invalid_request_error", "image_with_roles", "reference"},
		{"two first frames", `{` + m + `"prompt":"x","image_with_roles":[{"url":"` + img + `","role":"first_frame"},{"url":"` + img + `","role":"first_frame"}]}`,
			400, "invalid_request_error", "image_with_roles", "more than one first_frame"},
		{"audio on 1.0", `{"model":"doubao-seedance-1-0-pro-250528","prompt":"x","audio":true}`, 400, "invalid_request_error", "audio", "generate_audio"},
		{"malformed", `{"model":`, 400, "invalid_request_error", "", "JSON"},
	}
	for _, c := range cases {
		status, out, raw := g.JSON("POST", createPath, c.body)
		require.Equal(t, c.status, status, "%s: %s", c.name, raw)
		dialecttest.RequireShape(t, seed(t, "002_error_400.json"), raw)
		e := out["error"].(map[string]any)
		require.EqualValues(t, c.status, e["code"], c.name)
		require.Equal(t, c.typ, e["type"], c.name)
		require.Equal(t, c.param, fmt.Sprint(orEmpty(e["param"])), "%s: %s", c.name, raw)
		require.Contains(t, e["message"], c.msg, "%s: %s", c.name, raw)
	}

	resp, raw := g.Do("POST", createPath, nil, map[string]string{"Authorization": "Bearer sk-wrong"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	dialecttest.RequireShape(t, seed(t, "002_error_401.json"), raw)
	g.Golden("error_wrong_key", raw, "message")

	status, out, raw := g.JSON("GET", "/v1/tasks/cgt-nope", "")
	require.Equal(t, http.StatusNotFound, status, "%s", raw)
	require.Equal(t, "not_found_error", out["error"].(map[string]any)["type"])

	// Nothing was stored by the failed creates.
	_, list, _ := g.JSON("GET", "/v1/jobs", "")
	require.Empty(t, list["data"])
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

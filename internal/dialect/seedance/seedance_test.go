package seedance_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/dialect/seedance"
	sp "github.com/seedgate/seedgate/internal/protocol/seedance"
)

const createPath = "/v1/seedance/videos"

func seed(t *testing.T, name string) string { return dialecttest.Fixture(t, "seed/"+name) }

// Every reference example of the dialect (docs/dialects.md#seedance), sent as written (its image URLs replaced
// by uploaded images): the call waits and answers the documented envelope.
func TestSeed003(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	fox, first, last := g.UploadPNG(960, 1280), g.UploadPNG(1280, 720), g.UploadPNG(1280, 720)
	cases := []struct {
		name    string
		replace []string
		model   string
		w, h    int
	}{
		{"003_basic", nil, "doubao-seedance-1-0-pro-250528", 1248, 704},
		{"003_audio", nil, "doubao-seedance-1-5-pro-251215", 1280, 720},
		{"003_first_frame", []string{"https://ark-project.tos-cn-beijing.volces.com/doc_image/i2v_foxrgirl.png", fox},
			"doubao-seedance-1-0-pro-250528", 1248, 1664}, // adaptive: the 3:4 image at 1.0 pro's default 1080p
		{"003_first_last", []string{
			"https://ark-project.tos-cn-beijing.volces.com/doc_image/seepro_first_frame.jpeg", first,
			"https://ark-project.tos-cn-beijing.volces.com/doc_image/seepro_last_frame.jpeg", last,
		}, "doubao-seedance-1-0-pro-250528", 1920, 1088},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			status, out, raw := g.JSON("POST", createPath, dialecttest.Fixture(t, c.name+".json", c.replace...))
			require.Equal(t, http.StatusOK, status, "%s", raw)
			dialecttest.RequireShape(t, seed(t, "003_answer.json"), raw)
			g.Golden(c.name, raw, "trace_id")
			d := out["data"].(map[string]any)
			require.Equal(t, true, out["success"])
			require.Equal(t, "succeeded", d["status"])
			require.Equal(t, c.model, d["model"])
			require.True(t, strings.HasPrefix(d["task_id"].(string), "cgt-"))
			require.NotEqual(t, d["task_id"], out["task_id"], "task_id is the request id, data.task_id the task's")

			j := g.Wait(d["task_id"].(string))
			require.Len(t, j.Output.Videos, 1)
			require.Equal(t, c.w, j.Output.Videos[0].Width)
			require.Equal(t, c.h, j.Output.Videos[0].Height)
			require.Equal(t, d["video_url"], j.Output.Videos[0].URL)

			// Retrieve, by either id.
			for _, id := range []string{d["task_id"].(string), out["task_id"].(string)} {
				status, got, raw2 := g.JSON("GET", "/v1/seedance/tasks/"+id, "")
				require.Equal(t, http.StatusOK, status, "%s", raw2)
				require.Equal(t, out["task_id"], got["task_id"])
				require.Equal(t, d, got["data"])
				status, got, _ = g.JSON("POST", "/v1/seedance/tasks", `{"id":"`+id+`"}`)
				require.Equal(t, http.StatusOK, status)
				require.Equal(t, d, got["data"])
			}
		})
	}
}

// With callback_url the call answers {"task_id"} at once; the envelope the
// webhook carries later has that task_id and the documented shape.
func TestCallbackMode(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_SANDBOX_QUEUE_DELAY=200ms")
	body := `{"model":"doubao-seedance-1-0-pro-250528","callback_url":"https://example.com/hook",
		"content":[{"type":"text","text":"A kitten yawning at the camera. --rs 480p --dur 2"}]}`
	status, out, raw := g.JSON("POST", createPath, body)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	dialecttest.RequireShape(t, seed(t, "003_callback_answer.json"), raw)
	require.Len(t, out, 1)
	ref := out["task_id"].(string)

	status, got, raw := g.JSON("GET", "/v1/seedance/tasks/"+ref, "")
	require.Equal(t, http.StatusOK, status, "%s", raw)
	id := got["data"].(map[string]any)["task_id"].(string)
	g.Wait(id)

	tk, err := g.App.Service.Get(context.Background(), "", id)
	require.NoError(t, err)
	payload, err := json.Marshal(seedance.WebhookPayload(tk))
	require.NoError(t, err)
	dialecttest.RequireShape(t, seed(t, "003_callback_body.json"), payload)
	var env sp.Envelope
	require.NoError(t, json.Unmarshal(payload, &env))
	require.Equal(t, ref, env.TaskID, "the callback's task_id is the one answered at once")
	require.True(t, env.Success)
	require.Equal(t, "succeeded", env.Data.Status)
	require.Equal(t, "doubao-seedance-1-0-pro-250528", env.Data.Model)
	require.NotEmpty(t, env.Data.VideoURL)
}

// A create whose task outlasts SEEDGATE_SYNC_WAIT answers with the current
// status; the ids retrieve it later, also in bulk.
func TestWaitBounded(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_SYNC_WAIT=300ms", "SEEDGATE_SANDBOX_QUEUE_DELAY=30s")
	status, out, raw := g.JSON("POST", createPath, dialecttest.Fixture(t, "003_basic.json"))
	require.Equal(t, http.StatusOK, status, "%s", raw)
	require.Equal(t, true, out["success"])
	d := out["data"].(map[string]any)
	require.Equal(t, "queued", d["status"])
	require.NotContains(t, d, "video_url")

	status, list, raw := g.JSON("POST", "/v1/seedance/tasks", `{"ids":["`+d["task_id"].(string)+`","cgt-nope"]}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	items := list["data"].([]any)
	require.Len(t, items, 2)
	require.Equal(t, "queued", items[0].(map[string]any)["status"])
	require.Equal(t, map[string]any{"task_id": "cgt-nope", "status": "not_found"}, items[1])
}

func TestErrors(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	img := g.UploadPNG(640, 640)
	text := `{"type":"text","text":"a cat"}`
	m := `"model":"doubao-seedance-1-0-pro-250528",`
	cases := []struct {
		name, body  string
		status      int
		code, field string
		msg         string
	}{
		{"string image_url", `{` + m + `"content":[` + text + `,{"type":"image_url","image_url":"https://example.com/a.png"}]}`,
			400, "token_mismatched", "content[1].image_url", `must be an object {"url": "https://…/image.png"} or {"url": "data:image/png;base64,…"}, not a string`},
		{"bad field", `{` + m + `"content":[` + text + `],"duration":"five"}`, 400, "token_mismatched", "duration", "integer"},
		{"bad camerafixed", `{` + m + `"content":[` + text + `],"camerafixed":"yes"}`, 400, "token_mismatched", "camerafixed", "true or false"},
		{"unknown model", `{"model":"sora-2","content":[` + text + `]}`, 400, "token_mismatched", "model", "doubao-seedance-1-0-pro-250528"},
		{"out-of-range duration", `{` + m + `"content":[` + text + `],"duration":13}`, 400, "token_mismatched", "duration", "2–12"},
		{"both image forms", `{` + m + `"content":[` + text + `,{"type":"image_url","image_url":{"url":"` + img + `"}},{"type":"image_url","image_url":{"url":"` + img + `"},"role":"reference_image"}]}`,
			400, "token_mismatched", "content", "reference images cannot be combined"},
		{"inline is weak", `{` + m + `"content":[{"type":"text","text":"x --dur 99 --rs 8k"}],"execution_expires_after":10}`,
			400, "token_mismatched", "execution_expires_after", "3600"},
		{"not json", `hello`, 400, "token_mismatched", "", "JSON"},
	}
	for _, c := range cases {
		status, out, raw := g.JSON("POST", createPath, c.body)
		require.Equal(t, c.status, status, "%s: %s", c.name, raw)
		dialecttest.RequireShape(t, seed(t, "003_error.json"), raw)
		require.Equal(t, false, out["success"])
		e := out["error"].(map[string]any)
		require.Equal(t, c.code, e["code"], c.name)
		if c.field != "" {
			require.Equal(t, c.field, e["field"], "%s: %s", c.name, raw)
		}
		require.Contains(t, e["message"], c.msg, "%s: %s", c.name, raw)
	}
	resp, raw := g.Do("POST", createPath, strings.NewReader(`{}`), map[string]string{"Authorization": "Bearer nope"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	dialecttest.RequireShape(t, seed(t, "003_error.json"), raw)
	g.Golden("error_wrong_key", raw, "trace_id", "message")

	status, out, _ := g.JSON("GET", "/v1/seedance/tasks/nope", "")
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "not_found", out["error"].(map[string]any)["code"])
	status, _, _ = g.JSON("POST", "/v1/seedance/tasks", `{}`)
	require.Equal(t, http.StatusBadRequest, status)

	_, list, _ := g.JSON("GET", "/v1/jobs", "")
	require.Empty(t, list["data"], "nothing was stored")
}

package ark_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/protocol/prototest"
	"github.com/seedgate/seedgate/internal/task"
)

// corpus reads the files matching pattern (seed requests and answers).
func corpus(t testing.TB, pattern string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(pattern)
	require.NoError(t, err)
	require.NotEmpty(t, files, "no file matches %s", pattern)
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

// TestTaskRoundTrip: the upstream's own task objects (the documented example
// and a real answer) decode into Task and encode back to the same JSON, so no
// field is lost or invented on either side.
func TestTaskRoundTrip(t *testing.T) {
	for _, name := range []string{"ark_task_example.json", "001_get_answer.json"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("../../dialect/ark/testdata/seed", name))
			require.NoError(t, err)
			var got ark.Task
			require.NoError(t, json.Unmarshal(b, &got))
			require.NotNil(t, got.Seed)
			require.NotNil(t, got.Content)
			require.NotEmpty(t, got.Content.VideoURL)
			again, err := json.Marshal(got)
			require.NoError(t, err)
			// The one difference: "error" is always written (null when none),
			// as the gateway's golden answers have it.
			var want map[string]any
			require.NoError(t, json.Unmarshal(b, &want))
			if _, ok := want["error"]; !ok {
				want["error"] = nil
			}
			w, err := json.Marshal(want)
			require.NoError(t, err)
			require.JSONEq(t, string(w), string(again))
		})
	}
}

// TestQueuedTaskOmitsUnknowns: a task without a result has no seed, content or
// usage on the wire (rather than a seed of 0).
func TestQueuedTaskOmitsUnknowns(t *testing.T) {
	b, err := json.Marshal(ark.Task{ID: "cgt-1", Model: "m", Status: "queued", FramesPerSecond: ark.OutputFPS})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"seed", "content", "usage", "draft", "duration", "frames"} {
		require.NotContains(t, m, k)
	}
	require.Contains(t, m, "error")
	require.Nil(t, m["error"])
}

// TestErrorRoundTrip: the documented error envelope decodes into APIError and
// encodes back to the same JSON.
func TestErrorRoundTrip(t *testing.T) {
	b, err := os.ReadFile("../../dialect/ark/testdata/seed/ark_error.json")
	require.NoError(t, err)
	e, ok := ark.DecodeError(b)
	require.True(t, ok)
	require.Equal(t, "InvalidParameter", e.Code)
	require.Equal(t, "duration", e.Param)
	again, err := json.Marshal(ark.ErrorEnvelope{Error: &e})
	require.NoError(t, err)
	require.JSONEq(t, string(b), string(again))
	_, ok = ark.DecodeError([]byte(`<html>bad gateway</html>`))
	require.False(t, ok)
}

// TestCreateBodyRoundTrip: what the client side encodes (CreateBody), the
// server side decodes (DecodeCreate) into the same request.
func TestCreateBodyRoundTrip(t *testing.T) {
	body := ark.CreateBody{
		Model: "doubao-seedance-1-5-pro-251215",
		Content: []ark.ContentItem{
			{Type: "text", Text: "a cat"},
			{Type: "image_url", ImageURL: &ark.URLRef{URL: "https://x/first.png"}, Role: ark.RoleFirstFrame},
			{Type: "image_url", ImageURL: &ark.URLRef{URL: "https://x/last.png"}, Role: ark.RoleLastFrame},
		},
		CallbackURL: "https://cb.example/x", ReturnLastFrame: task.Bool(true), ServiceTier: "flex",
		ExecutionExpiresAfter: task.Int(3600), GenerateAudio: task.Bool(false), Draft: task.Bool(false),
		Resolution: "720p", Ratio: "16:9", Duration: task.Int(5), Seed: task.Int64(42),
		CameraFixed: task.Bool(true), Watermark: task.Bool(false), Tools: []ark.Tool{{Type: "web_search"}},
		SafetyIdentifier: "u1", Priority: task.Int(3),
	}
	b, err := json.Marshal(body)
	require.NoError(t, err)
	model, req, err := ark.DecodeCreate(b)
	require.NoError(t, err)
	require.Equal(t, body.Model, model)
	require.Equal(t, task.Request{
		Prompt: "a cat", FirstFrame: "https://x/first.png", LastFrame: "https://x/last.png",
		CallbackURL: "https://cb.example/x", ReturnLastFrame: task.Bool(true), ServiceTier: "flex",
		ExecutionExpiresAfter: task.Int(3600), GenerateAudio: task.Bool(false), Draft: task.Bool(false),
		Resolution: "720p", Ratio: "16:9", Duration: task.Int(5), Seed: task.Int64(42),
		CameraFixed: task.Bool(true), Watermark: task.Bool(false), WebSearch: true,
		SafetyIdentifier: "u1", Priority: task.Int(3),
	}, req)

	refs := ark.CreateBody{Model: "m", Content: []ark.ContentItem{
		{Type: "text", Text: "p"},
		{Type: "image_url", ImageURL: &ark.URLRef{URL: "https://x/r.png"}, Role: ark.RoleReferenceImage},
		{Type: "video_url", VideoURL: &ark.URLRef{URL: "https://x/v.mp4"}, Role: ark.RoleReferenceVideo},
		{Type: "audio_url", AudioURL: &ark.URLRef{URL: "https://x/a.mp3"}, Role: ark.RoleReferenceAudio},
		{Type: "draft_task", DraftTask: &ark.DraftTaskRef{ID: "cgt-d"}},
	}}
	b, err = json.Marshal(refs)
	require.NoError(t, err)
	_, req, err = ark.DecodeCreate(b)
	require.NoError(t, err)
	require.Equal(t, []string{"https://x/r.png"}, req.ReferenceImages)
	require.Equal(t, []string{"https://x/v.mp4"}, req.ReferenceVideos)
	require.Equal(t, []string{"https://x/a.mp3"}, req.ReferenceAudio)
	require.Equal(t, "cgt-d", req.DraftTaskID)
}

// TestGoldenRoundTrip: the ark dialect's golden answers decode into the
// protocol's types, field for field, and encode back the same.
func TestGoldenRoundTrip(t *testing.T) {
	const golden = "../../dialect/ark/testdata/golden/"
	got := prototest.RoundTrip[ark.Task](t, golden+"001_get.json")
	require.NotNil(t, got.Draft)
	require.False(t, *got.Draft)
	created := prototest.RoundTrip[ark.CreateAnswer](t, golden+"001_create.json")
	require.NotEmpty(t, created.ID)
	e := prototest.RoundTrip[ark.ErrorEnvelope](t, golden+"error_wrong_key.json")
	require.Equal(t, "AuthenticationError", e.Error.Code)
}

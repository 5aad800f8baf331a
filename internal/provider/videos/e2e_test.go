package videos_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/provider/kindtest"
	"github.com/seedgate/seedgate/internal/provider/videos"
)

// Gateway A runs its tasks on a videos channel at gateway B.
func TestThroughGateway(t *testing.T) {
	b := kindtest.Upstream(t)
	a := kindtest.Gateway(t, b, videos.Name, true) // B calls A back
	img := imageServer(t)

	code, out, body := a.JSON("POST", "/v1/videos/generations", `{"model":"doubao-seedance-1-5-pro","prompt":"a tram in the rain",
		"duration":4,"resolution":"480p","audio":true,"image_with_roles":[{"url":"`+img+`/a.png","role":"first_frame"},{"url":"`+img+`/b.png","role":"last_frame"}]}`)
	require.Equal(t, http.StatusOK, code, "%s", body)
	id := out["data"].([]any)[0].(map[string]any)["task_id"].(string)
	j := kindtest.Wait(t, a, id)
	require.Equal(t, "succeeded", j.Status, "%+v", j.Error)
	require.Equal(t, 1, kindtest.Tasks(t, b), "the task ran at B")

	code, status, body := a.JSON("GET", "/v1/videos/generations/"+id, "")
	require.Equal(t, http.StatusOK, code)
	url := status["data"].(map[string]any)["video_url"].(string)
	require.True(t, strings.HasPrefix(url, a.URL), "the result is served by A: %s", body)
	info := kindtest.Video(t, url)
	require.InDelta(t, 4, info.Duration, 0.5)
	require.True(t, info.HasAudio)

	// The videos dialect has no last frame: no channel of A can carry one.
	code, _, body = a.JSON("POST", "/v1/jobs", `{"model":"seedance-1-5-pro","input":{"prompt":"x","return_last_frame":true}}`)
	require.Equal(t, http.StatusBadRequest, code, "%s", body)
	require.Equal(t, "input.return_last_frame", kindtest.Field(t, body, "error", "field"), "%s", body)
	// Nor a video from images alone: the dialect wants a prompt.
	code, _, body = a.JSON("POST", "/v1/jobs", `{"model":"seedance-1-5-pro","input":{"prompt":"","first_frame_url":"`+img+`/a.png"}}`)
	require.Equal(t, http.StatusBadRequest, code, "%s", body)
	require.Equal(t, "input.prompt", kindtest.Field(t, body, "error", "field"), "%s", body)
	require.Equal(t, 1, kindtest.Tasks(t, b), "nothing refused reached B")
}

// A create whose answer is lost on the way back is found again at B, never
// made twice.
func TestLostAnswerThroughGateway(t *testing.T) {
	b := kindtest.Upstream(t)
	proxy, creates := kindtest.LossyProxy(t, b.URL, "/v1/videos/generations")
	a := kindtest.GatewayAt(t, proxy, videos.Name, false)
	code, out, body := a.JSON("POST", "/v1/videos/generations", `{"model":"doubao-seedance-1-0-pro-250528","prompt":"an answer lost on the way","resolution":"480p","duration":2}`)
	require.Equal(t, http.StatusOK, code, "%s", body)
	j := kindtest.Wait(t, a, out["data"].([]any)[0].(map[string]any)["task_id"].(string))
	require.Equal(t, "succeeded", j.Status, "%+v", j.Error)
	require.GreaterOrEqual(t, creates.Load(), int32(2), "the create was sent again under its Idempotency-Key")
	require.Equal(t, 1, kindtest.Tasks(t, b), "B made one task")
}

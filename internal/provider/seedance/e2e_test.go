package seedance_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/provider/kindtest"
	"github.com/seedgate/seedgate/internal/provider/seedance"
)

// Gateway A runs its tasks on a seedance channel at gateway B, which calls A
// back when each task ends.
func TestThroughGateway(t *testing.T) {
	b := kindtest.Upstream(t)
	a := kindtest.Gateway(t, b, seedance.Name, true)

	// The seed's call without callback_url waits for the video.
	code, out, body := a.JSON("POST", "/v1/seedance/videos", `{"model":"doubao-seedance-1-5-pro-251215",
		"content":[{"type":"text","text":"a windmill at sunrise"}],"resolution":"480p","duration":4,"return_last_frame":true}`)
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.Equal(t, true, out["success"], "%s", body)
	data := out["data"].(map[string]any)
	require.Equal(t, "succeeded", data["status"], "%s", body)
	url := data["video_url"].(string)
	require.True(t, strings.HasPrefix(url, a.URL), "the result is served by A: %s", body)
	info := kindtest.Video(t, url)
	require.InDelta(t, 4, info.Duration, 0.5)
	require.True(t, info.HasAudio)
	require.True(t, strings.HasPrefix(data["last_frame_url"].(string), a.URL), "%s", body)

	// B ran it and called A back, which took the callback.
	require.Equal(t, 1, kindtest.Tasks(t, b))
	_, list, _ := b.JSON("GET", "/v1/jobs?limit=1", "")
	bid := list["data"].([]any)[0].(map[string]any)["id"].(string)
	// The delivery is recorded as B's outbox hears back: look until it says so.
	deadline := time.Now().Add(kindtest.Patience)
	for {
		code, deliveries, body := b.JSON("GET", "/v1/jobs/"+bid+"/deliveries", "")
		require.Equal(t, http.StatusOK, code, "%s", body)
		items := deliveries["data"].([]any)
		if len(items) > 0 && items[len(items)-1].(map[string]any)["state"] == "delivered" {
			break
		}
		require.True(t, time.Now().Before(deadline), "B's callback to A was not delivered: %s", body)
		time.Sleep(50 * time.Millisecond)
	}

	// Reference images are not in the seed's dialect: no channel of A can carry them.
	code, _, body = a.JSON("POST", "/v1/jobs", `{"model":"seedance-1-0-lite-i2v","input":{"prompt":"x","reference_image_urls":["https://example.com/a.png"]}}`)
	require.Equal(t, http.StatusBadRequest, code, "%s", body)
	require.Equal(t, "input.reference_image_urls", kindtest.Field(t, body, "error", "field"), "%s", body)
}

// A create whose answer is lost on the way back is found at B by its request
// id, never made twice.
func TestLostAnswerThroughGateway(t *testing.T) {
	b := kindtest.Upstream(t)
	proxy, creates := kindtest.LossyProxy(t, b.URL, "/v1/seedance/videos")
	a := kindtest.GatewayAt(t, proxy, seedance.Name, true)
	code, out, body := a.JSON("POST", "/v1/seedance/videos", `{"model":"doubao-seedance-1-0-pro-250528",
		"content":[{"type":"text","text":"an answer lost on the way"}],"resolution":"480p","duration":2}`)
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.Equal(t, "succeeded", out["data"].(map[string]any)["status"], "%s", body)
	require.GreaterOrEqual(t, creates.Load(), int32(1))
	require.Equal(t, 1, kindtest.Tasks(t, b), "B made one task")
}

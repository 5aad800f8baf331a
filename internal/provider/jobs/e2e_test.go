package jobs_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/provider/jobs"
	"github.com/seedgate/seedgate/internal/provider/kindtest"
)

// Gateway A runs its tasks on a jobs channel at gateway B: a client of A
// creates, B renders, A mirrors the result and serves it.
func TestThroughGateway(t *testing.T) {
	b := kindtest.Upstream(t)
	a := kindtest.Gateway(t, b, jobs.Name, true) // B calls A back

	code, out, body := a.JSON("POST", "/v1/jobs", `{"model":"seedance-1-5-pro","input":{"prompt":"a red kite over dunes","resolution":"480p","duration":4,"return_last_frame":true,"seed":5}}`)
	require.Equal(t, http.StatusOK, code, "%s", body)
	j := kindtest.Wait(t, a, out["id"].(string))
	require.Equal(t, "succeeded", j.Status, "%+v", j.Error)
	require.Equal(t, 1, kindtest.Tasks(t, b), "the task ran at B")

	v := j.Output.Videos[0]
	require.True(t, strings.HasPrefix(v.URL, a.URL), "the result is served by A: %s", v.URL)
	info := kindtest.Video(t, v.URL)
	require.Equal(t, v.Width, info.Width)
	require.Equal(t, v.Height, info.Height)
	require.InDelta(t, 4, info.Duration, 0.5)
	require.True(t, info.HasAudio)
	code, got, _ := a.JSON("GET", "/v1/jobs/"+j.ID, "")
	require.Equal(t, http.StatusOK, code)
	output := got["output"].(map[string]any)
	require.True(t, strings.HasPrefix(output["last_frame_url"].(string), a.URL), "the last frame came through: %v", output)
	require.EqualValues(t, 5, output["seed"])

	// A field no channel of A can carry: A's own 400, in the dialect's shape, naming it.
	code, _, body = a.JSON("POST", "/api/v3/contents/generations/tasks",
		`{"model":"seedance-2-0","content":[{"type":"text","text":"news of the day"}],"tools":[{"type":"web_search"}]}`)
	require.Equal(t, http.StatusBadRequest, code, "%s", body)
	require.Equal(t, "tools", kindtest.Field(t, body, "error", "param"), "%s", body)
}

// Cancel reaches B; B's refusal of an input reaches A's client naming the field.
func TestCancelAndRefusalThroughGateway(t *testing.T) {
	b := dialecttest.Start(t, "SEEDGATE_SANDBOX_QUEUE_DELAY=1m") // B fetches only public URLs
	a := kindtest.Gateway(t, b, jobs.Name, false)

	code, out, body := a.JSON("POST", "/v1/jobs", `{"model":"seedance-1-0-pro","input":{"prompt":"fog over a lake"}}`)
	require.Equal(t, http.StatusOK, code, "%s", body)
	id := out["id"].(string)
	deadline := time.Now().Add(kindtest.Patience)
	for kindtest.Tasks(t, b) == 0 {
		require.True(t, time.Now().Before(deadline), "the task never reached B")
		time.Sleep(20 * time.Millisecond)
	}
	code, _, body = a.JSON("POST", "/v1/jobs/"+id+"/cancel", "")
	require.Equal(t, http.StatusOK, code, "%s", body)
	require.Equal(t, "cancelled", kindtest.Wait(t, a, id).Status)
	for {
		_, list, _ := b.JSON("GET", "/v1/jobs?limit=1", "")
		if list["data"].([]any)[0].(map[string]any)["status"] == "cancelled" {
			break
		}
		require.True(t, time.Now().Before(deadline), "B's task was not cancelled")
		time.Sleep(20 * time.Millisecond)
	}

	// A may read loopback URLs, B may not: B refuses the first frame, and A's
	// task fails saying which field.
	img := pngServer(t)
	code, out, body = a.JSON("POST", "/v1/jobs", `{"model":"seedance-1-0-pro","input":{"prompt":"x","first_frame_url":"`+img+`"}}`)
	require.Equal(t, http.StatusOK, code, "%s", body)
	j := kindtest.Wait(t, a, out["id"].(string))
	require.Equal(t, "failed", j.Status)
	require.NotNil(t, j.Error)
	require.Contains(t, j.Error.Message, "first_frame")
}

// A create whose answer is lost on the way back is found again at B, never
// made twice.
func TestLostAnswerThroughGateway(t *testing.T) {
	b := kindtest.Upstream(t)
	proxy, creates := kindtest.LossyProxy(t, b.URL, "/v1/jobs")
	a := kindtest.GatewayAt(t, proxy, jobs.Name, false)
	code, out, body := a.JSON("POST", "/v1/jobs", `{"model":"seedance-1-0-pro","input":{"prompt":"an answer lost on the way","resolution":"480p","duration":2}}`)
	require.Equal(t, http.StatusOK, code, "%s", body)
	j := kindtest.Wait(t, a, out["id"].(string))
	require.Equal(t, "succeeded", j.Status, "%+v", j.Error)
	require.GreaterOrEqual(t, creates.Load(), int32(2), "the create was sent again under its Idempotency-Key")
	require.Equal(t, 1, kindtest.Tasks(t, b), "B made one task")
}

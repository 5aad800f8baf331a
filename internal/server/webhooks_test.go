package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

type hookReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, hookRequest{header: r.Header.Clone(), body: body})
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) got() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

func (h *hookReceiver) waitFor(t *testing.T, n int) []hookRequest {
	t.Helper()
	require.Eventually(t, func() bool { return len(h.got()) >= n }, 30*time.Second, 20*time.Millisecond,
		"receiver got %d of %d callbacks", len(h.got()), n)
	return h.got()
}

type deliveryList struct {
	Data []struct {
		ID         string `json:"id"`
		TaskStatus string `json:"task_status"`
		State      string `json:"state"`
		Attempts   int    `json:"attempts"`
		AttemptLog []struct {
			StatusCode int  `json:"status_code"`
			Manual     bool `json:"manual"`
		} `json:"attempt_log"`
	} `json:"data"`
}

func TestWebhooksSignedInTheJobsShapeListedAndRetried(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t)
	// A running phase long enough that a loaded machine's first check still
	// lands in it: a check after it ends sees the task finished, like a slow
	// poll of the upstream, and no running event exists.
	g := newTestGateway(t, map[string]string{"SEEDGATE_ALLOW_PRIVATE_URLS": "127.0.0.0/8", "SEEDGATE_SANDBOX_RUN_TIME": "3s"})
	var sec struct {
		Object, KeyID, Secret string
	}
	g.call("GET", "/v1/webhooks/secret", "", "", nil, &sec)
	require.True(t, strings.HasPrefix(sec.Secret, "whsec_"), "%+v", sec)
	wh, err := standardwebhooks.NewWebhook(sec.Secret)
	require.NoError(t, err)

	j := g.createJob(`"prompt":"call me back","callback_url":"` + rc.srv.URL + `/hook"`)
	require.Equal(t, "succeeded", g.waitJob(j.ID).Status)
	reqs := rc.waitFor(t, 3)

	var statuses []string
	ids := map[string]bool{}
	for _, r := range reqs {
		require.NoError(t, wh.Verify(r.body, r.header), "signed with the key's secret")
		var job jobAnswer
		require.NoError(t, json.Unmarshal(r.body, &job))
		require.Equal(t, j.ID, job.ID, "the body is the job, as GET /v1/jobs/{id} shows it")
		statuses = append(statuses, job.Output.Status)
		ids[r.header.Get("webhook-id")] = true
	}
	require.ElementsMatch(t, []string{"queued", "running", "succeeded"}, statuses)
	require.Len(t, ids, 3, "one webhook-id per event")

	var dl deliveryList
	require.Eventually(t, func() bool { // the receiver answered; the attempt is being recorded
		dl = deliveryList{}
		resp, raw := g.call("GET", "/v1/jobs/"+j.ID+"/deliveries", "", "", nil, &dl)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
		for _, d := range dl.Data {
			if d.State != "delivered" {
				return false
			}
		}
		return len(dl.Data) == 3
	}, 10*time.Second, 20*time.Millisecond)
	for _, d := range dl.Data {
		require.Equal(t, "delivered", d.State)
		require.Equal(t, 1, d.Attempts)
		require.Equal(t, 204, d.AttemptLog[0].StatusCode)
	}

	// A manual re-send: the same webhook-id, verifiable again.
	first := dl.Data[0]
	resp, raw := g.call("POST", "/v1/jobs/"+j.ID+"/deliveries/"+first.ID+"/retry", "", "", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	reqs = rc.waitFor(t, 4)
	require.Equal(t, first.ID, reqs[3].header.Get("webhook-id"))
	require.NoError(t, wh.Verify(reqs[3].body, reqs[3].header))

	resp, _ = g.call("POST", "/v1/jobs/"+j.ID+"/deliveries/msg_nope/retry", "", "", nil, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = g.call("GET", "/v1/jobs/cgt-nope/deliveries", "", "", nil, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	// Rotation: both secrets sign for a day.
	var rotated struct {
		Secret                  string `json:"secret"`
		PreviousSecretExpiresAt int64  `json:"previous_secret_expires_at"`
	}
	g.call("POST", "/v1/webhooks/secret/rotate", "", "", nil, &rotated)
	require.NotEqual(t, sec.Secret, rotated.Secret)
	require.InDelta(t, time.Now().Add(24*time.Hour).Unix(), rotated.PreviousSecretExpiresAt, 60)
	j2 := g.createJob(`"prompt":"after rotation","callback_url":"` + rc.srv.URL + `/hook"`)
	var after []hookRequest
	require.Eventually(t, func() bool {
		after = nil
		for _, r := range rc.got() {
			if strings.Contains(string(r.body), j2.ID) {
				after = append(after, r)
			}
		}
		return len(after) > 0
	}, 30*time.Second, 20*time.Millisecond)
	require.Len(t, strings.Fields(after[0].header.Get("webhook-signature")), 2)
	newWH, err := standardwebhooks.NewWebhook(rotated.Secret)
	require.NoError(t, err)
	require.NoError(t, newWH.Verify(after[0].body, after[0].header))
	require.NoError(t, wh.Verify(after[0].body, after[0].header), "the old secret still verifies during the overlap")

	// Secrets are per API key.
	var other struct{ Secret string }
	g.call("GET", "/v1/webhooks/secret", keyB, "", nil, &other)
	require.NotEqual(t, rotated.Secret, other.Secret)
	require.NotEqual(t, sec.Secret, other.Secret)
}

func TestWebhooksArkShape(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t)
	g := newTestGateway(t, map[string]string{"SEEDGATE_ALLOW_PRIVATE_URLS": "127.0.0.0/8"})
	var created struct{ ID string }
	resp, raw := g.call("POST", "/api/v3/contents/generations/tasks", "",
		`{"model":"seedance-1-0-pro-250528","content":[{"type":"text","text":"ark calls back --rs 480p --dur 2"}],"callback_url":"`+rc.srv.URL+`"}`,
		nil, &created)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	reqs := rc.waitFor(t, 3)
	var last map[string]any
	for _, r := range reqs {
		var obj map[string]any
		require.NoError(t, json.Unmarshal(r.body, &obj))
		require.Equal(t, created.ID, obj["id"])
		require.NotContains(t, obj, "object", "Ark's task object, not the job")
		last = obj
	}
	require.Equal(t, "succeeded", last["status"])
	require.Contains(t, last, "content")
}

func TestWebhooksSeedanceEnvelopeOnceFinished(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t)
	g := newTestGateway(t, map[string]string{"SEEDGATE_ALLOW_PRIVATE_URLS": "127.0.0.0/8"})
	var created map[string]any
	resp, raw := g.call("POST", "/v1/seedance/videos", "",
		`{"model":"doubao-seedance-1-0-pro-250528","content":[{"type":"text","text":"seedance calls back"}],"resolution":"480p","duration":2,"callback_url":"`+rc.srv.URL+`"}`,
		nil, &created)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	gatewayID, _ := created["task_id"].(string)
	require.NotEmpty(t, gatewayID, "%s", raw)

	reqs := rc.waitFor(t, 1)
	var env struct {
		Success bool   `json:"success"`
		TaskID  string `json:"task_id"`
		Data    struct {
			TaskID   string `json:"task_id"`
			Status   string `json:"status"`
			VideoURL string `json:"video_url"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(reqs[0].body, &env), "%s", reqs[0].body)
	require.True(t, env.Success)
	require.Equal(t, gatewayID, env.TaskID, "the envelope names the id the create answered")
	require.Equal(t, "succeeded", env.Data.Status, "only the result is posted")
	require.NotEmpty(t, env.Data.VideoURL)

	var dl deliveryList
	require.Eventually(t, func() bool {
		dl = deliveryList{}
		g.call("GET", "/v1/jobs/"+env.Data.TaskID+"/deliveries", "", "", nil, &dl)
		states := map[string]string{}
		for _, d := range dl.Data {
			states[d.TaskStatus] = d.State
		}
		return len(dl.Data) == 3 && states["queued"] == "skipped" && states["running"] == "skipped" && states["succeeded"] == "delivered"
	}, 30*time.Second, 20*time.Millisecond, "%+v", dl)
	// Every message is settled: none is left to send anything later.
	require.Len(t, rc.got(), 1)
}

func TestIdempotencyOtherDialects(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, map[string]string{"SEEDGATE_SANDBOX_QUEUE_DELAY": "1m"})
	for _, c := range []struct{ path, body, other string }{
		{"/v1/videos/generations", `{"model":"doubao-seedance-1-5-pro","prompt":"once"}`, `{"model":"doubao-seedance-1-5-pro","prompt":"twice"}`},
		{"/v1/seedance/videos", `{"model":"doubao-seedance-1-0-pro-250528","content":[{"type":"text","text":"once"}],"callback_url":"https://example.com/hook"}`,
			`{"model":"doubao-seedance-1-0-pro-250528","content":[{"type":"text","text":"twice"}],"callback_url":"https://example.com/hook"}`},
		{"/v1/responses", `{"model":"doubao-seedance-1-5-pro-responses","input":[{"type":"text","text":"once"}]}`,
			`{"model":"doubao-seedance-1-5-pro-responses","input":[{"type":"text","text":"twice"}]}`},
	} {
		r1, b1 := g.call("POST", c.path, "", c.body, idemKey("k-"+c.path), nil)
		require.Equal(t, http.StatusOK, r1.StatusCode, "%s: %s", c.path, b1)
		r2, b2 := g.call("POST", c.path, "", c.body, idemKey("k-"+c.path), nil)
		require.Equal(t, "true", r2.Header.Get("Idempotent-Replayed"), c.path)
		require.Equal(t, string(b1), string(b2), c.path)
		r3, b3 := g.call("POST", c.path, "", c.other, idemKey("k-"+c.path), nil)
		require.Equal(t, http.StatusUnprocessableEntity, r3.StatusCode, "%s: %s", c.path, b3)
		require.Contains(t, string(b3), "Idempotency-Key", c.path)
	}
	// A responses query (seedance-get) creates nothing: the key does not apply to it.
	var sub struct{ ID string }
	g.call("POST", "/v1/responses", "", `{"model":"doubao-seedance-1-5-pro-responses","input":[{"type":"text","text":"q"}]}`, nil, &sub)
	q := `{"model":"seedance-get","input":"` + sub.ID + `","stream":false}`
	r1, _ := g.call("POST", "/v1/responses", "", q, idemKey("q-1"), nil)
	r2, _ := g.call("POST", "/v1/responses", "", q, idemKey("q-1"), nil)
	require.Equal(t, http.StatusOK, r1.StatusCode)
	require.Empty(t, r2.Header.Get("Idempotent-Replayed"))
}

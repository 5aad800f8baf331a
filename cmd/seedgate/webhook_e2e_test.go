package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

// Callbacks survive a crash: every status change is written to the outbox in
// the same transaction as the change, so a SIGKILL while the receiver is down
// loses none of them; after the restart each is delivered, signed, under the
// webhook-id it had before.
func TestWebhooksSurviveSIGKILL(t *testing.T) {
	t.Parallel()
	var up atomic.Bool
	var mu sync.Mutex
	type hit struct {
		header http.Header
		body   []byte
		ok     bool
	}
	var hits []hit
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ok := up.Load()
		mu.Lock()
		hits = append(hits, hit{r.Header.Clone(), body, ok})
		mu.Unlock()
		if !ok {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.Close)
	got := func() []hit {
		mu.Lock()
		defer mu.Unlock()
		return append([]hit(nil), hits...)
	}

	dataDir := t.TempDir()
	g := startGateway(t, dataDir, "SEEDGATE_ALLOW_PRIVATE_URLS=127.0.0.0/8", "SEEDGATE_SANDBOX_RUN_TIME=3s",
		"SEEDGATE_LEASE=5s", "SEEDGATE_WEBHOOK_TIMEOUT=2s")
	var sec struct{ Secret string }
	g.do("GET", "/v1/webhooks/secret", nil, "", &sec)
	wh, err := standardwebhooks.NewWebhook(sec.Secret)
	require.NoError(t, err)

	var c map[string]any
	resp := g.postJSON("/v1/jobs", `{"model":"seedance-1-0-pro","input":{"prompt":"crash between change and callback","resolution":"480p","duration":2,"callback_url":"`+rc.URL+`/hook"}}`, &c)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", c)
	id := c["id"].(string)

	// The job runs; the receiver refuses the queued and running events.
	require.Eventually(t, func() bool {
		var j jobAnswer
		g.do("GET", "/v1/jobs/"+id, nil, "", &j)
		return j.Output.Status == "running"
	}, 20*time.Second, 20*time.Millisecond)
	// Both failures are on record before the kill: an attempt whose answer
	// the dead process never stored does not count, by design.
	require.Eventually(t, func() bool {
		var dl struct {
			Data []struct {
				TaskStatus string `json:"task_status"`
				Attempts   int    `json:"attempts"`
			} `json:"data"`
		}
		g.do("GET", "/v1/jobs/"+id+"/deliveries", nil, "", &dl)
		failed := map[string]bool{}
		for _, d := range dl.Data {
			failed[d.TaskStatus] = d.Attempts >= 1
		}
		return failed["queued"] && failed["running"]
	}, 10*time.Second, 20*time.Millisecond, "the queued and running events were attempted")
	g.kill() // mid-run, with two events undelivered

	up.Store(true)
	g.start()
	require.Equal(t, "succeeded", g.waitJob(id, 60*time.Second).Status)

	// Each status arrives, verifiably signed, at least once; retries keep their webhook-id.
	delivered := map[string]string{} // status → webhook-id
	require.Eventually(t, func() bool {
		for _, h := range got() {
			if !h.ok {
				continue
			}
			require.NoError(t, wh.Verify(h.body, h.header))
			var j jobAnswer
			require.NoError(t, json.Unmarshal(h.body, &j))
			delivered[j.Output.Status] = h.header.Get("webhook-id")
		}
		return len(delivered) == 3
	}, 30*time.Second, 50*time.Millisecond, "delivered: %v", delivered)
	for _, h := range got() {
		if h.ok {
			continue
		}
		var j jobAnswer
		require.NoError(t, json.Unmarshal(h.body, &j))
		require.Equal(t, delivered[j.Output.Status], h.header.Get("webhook-id"), "a retry is the same message")
	}

	var dl struct {
		Data []struct {
			TaskStatus string `json:"task_status"`
			State      string `json:"state"`
			Attempts   int    `json:"attempts"`
		} `json:"data"`
	}
	require.Eventually(t, func() bool {
		g.do("GET", "/v1/jobs/"+id+"/deliveries", nil, "", &dl)
		n := 0
		for _, d := range dl.Data {
			if d.State == "delivered" {
				n++
			}
		}
		return len(dl.Data) == 3 && n == 3
	}, 10*time.Second, 50*time.Millisecond, "%+v", dl)
	for _, d := range dl.Data {
		if d.TaskStatus != "succeeded" {
			require.GreaterOrEqual(t, d.Attempts, 2, "%s: failed before the crash, delivered after it", d.TaskStatus)
		}
	}
}

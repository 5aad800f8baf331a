package metrics_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/client"
	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/config"
)

const (
	adminKey  = "metrics-admin-key-0123456789"
	clientKey = "metrics-client-key"
)

// startGateway runs a gateway in this process (sandbox provider, no delays)
// with an admin key and a client key; env adds settings.
func startGateway(t *testing.T, env map[string]string) *app.App {
	t.Helper()
	all := map[string]string{
		"SEEDGATE_LISTEN": "127.0.0.1:0", "SEEDGATE_DATA_DIR": t.TempDir(), "SEEDGATE_API_KEYS": clientKey,
		"SEEDGATE_ADMIN_KEY": adminKey, "SEEDGATE_SANDBOX_QUEUE_DELAY": "0s", "SEEDGATE_SANDBOX_RUN_TIME": "0s",
		"SEEDGATE_ALLOW_PRIVATE_URLS": "127.0.0.0/8", // the webhook receivers
	}
	for k, v := range env {
		all[k] = v
	}
	c, err := config.Load("serve", nil, func(k string) string { return all[k] }, io.Discard)
	require.NoError(t, err)
	a, err := app.Start(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Shutdown(10 * time.Second) })
	return a
}

// mixedRun runs a mix through the gateway and waits for every task to
// finish and every webhook to be answered: two successes whose webhooks are
// delivered, a failure whose webhook the receiver refuses (a retry), and a
// refused create. It returns the number of webhook requests received.
func mixedRun(t *testing.T, base string) int64 {
	t.Helper()
	ctx := t.Context()
	var got atomic.Int64
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(ok.Close)
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(refusing.Close)

	c := client.New(client.WithBaseURL(base), client.WithAPIKey(clientKey))
	var ids []string
	for _, in := range []client.Input{
		{Prompt: "A lighthouse at dusk", Resolution: "480p", Duration: client.Int(2), CallbackURL: ok.URL + "/hook"},
		{Prompt: "Dew on a spider web", Resolution: "480p", Duration: client.Int(2), CallbackURL: ok.URL + "/hook"},
		{Prompt: "Rainy street [sandbox:fail=OutputVideoSensitiveContentDetected]", Resolution: "480p",
			Duration: client.Int(2), CallbackURL: refusing.URL + "/hook"},
	} {
		j, err := c.CreateJob(ctx, client.CreateJobRequest{Model: "seedance-1-0-pro-fast", Input: in})
		require.NoError(t, err)
		ids = append(ids, j.ID)
	}
	_, err := c.CreateJob(ctx, client.CreateJobRequest{Model: "no-such-model", Input: client.Input{Prompt: "x"}})
	require.Error(t, err, "an unknown model is refused")
	statuses := map[string]int{}
	for _, id := range ids {
		j, err := c.Wait(ctx, id, client.WaitOptions{PollInterval: 50 * time.Millisecond})
		require.NoError(t, err)
		statuses[string(j.Status)]++
	}
	require.Equal(t, map[string]int{"succeeded": 2, "failed": 1}, statuses)
	// Every event of every task has had its first attempt (the refused ones wait for a retry).
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range ids {
		for {
			var list struct {
				Data []struct{ Attempts int } `json:"data"`
			}
			code, body := scrape(t, base+"/v1/jobs/"+id+"/deliveries", clientKey)
			require.Equal(t, http.StatusOK, code, string(body))
			require.NoError(t, json.Unmarshal(body, &list))
			attempted := len(list.Data) > 0
			for _, d := range list.Data {
				attempted = attempted && d.Attempts > 0
			}
			if attempted {
				break
			}
			require.True(t, time.Now().Before(deadline), "webhooks of %s not attempted: %s", id, body)
			time.Sleep(20 * time.Millisecond) // polling with a deadline
		}
	}
	return got.Load()
}

// scrape GETs path from base with the key ("" sends none).
func scrape(t *testing.T, url, key string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// prometheusTools returns the paths of Debian's prometheus and promtool,
// installing the package when they are missing (scripts/ensure-prometheus.sh).
// Only when that cannot be done does the test skip, loudly; under CI it fails.
func prometheusTools(t *testing.T) (server, promtool string) {
	t.Helper()
	look := func() bool {
		var err1, err2 error
		server, err1 = exec.LookPath("prometheus")
		promtool, err2 = exec.LookPath("promtool")
		return err1 == nil && err2 == nil
	}
	if look() {
		return server, promtool
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "ensure-prometheus.sh")
	out, err := exec.Command(script).CombinedOutput()
	if err == nil && look() {
		return server, promtool
	}
	msg := "!!! PROMETHEUS IS MISSING AND COULD NOT BE INSTALLED (scripts/ensure-prometheus.sh: " + string(out) +
		"): the metrics tests against promtool and a real Prometheus server DID NOT RUN !!!"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Log(msg)
	t.Skip(msg)
	return "", ""
}

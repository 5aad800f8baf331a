package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
)

// sumOf adds up the samples of a family in a scrape whose labels match.
func sumOf(t *testing.T, text []byte, name string, match map[string]string) float64 {
	t.Helper()
	fams, err := parse(text)
	require.NoError(t, err)
	total := 0.0
metrics:
	for _, m := range fams[name].GetMetric() {
		for k, v := range match {
			if labelOf(m, k) != v {
				continue metrics
			}
		}
		total += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
	}
	return total
}

// Refusals by a key's tasks in flight and requests per minute are counted.
func TestRefusals(t *testing.T) {
	a := startGateway(t, map[string]string{"SEEDGATE_SANDBOX_QUEUE_DELAY": "1h",
		"SEEDGATE_DEFAULT_MAX_IN_FLIGHT": "1", "SEEDGATE_DEFAULT_RPM": "4"})
	base := "http://" + a.Addr
	create := `{"model":"seedance-1-0-pro-fast","input":{"prompt":"limits","resolution":"480p","duration":2}}`
	code, body := post(t, base+"/v1/jobs", clientKey, create)
	require.Equal(t, http.StatusOK, code, body)
	code, body = post(t, base+"/v1/jobs", clientKey, create)
	require.Equal(t, http.StatusTooManyRequests, code, body)
	require.Contains(t, body, "in flight")
	limited := false
	for range 4 {
		if code, _ := scrape(t, base+"/v1/jobs", clientKey); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	require.True(t, limited, "the fifth request of the minute is refused")
	_, text := scrape(t, base+"/metrics", adminKey)
	require.EqualValues(t, 1, sumOf(t, text, "seedgate_admission_refusals_total", map[string]string{"reason": "in_flight"}))
	require.GreaterOrEqual(t, sumOf(t, text, "seedgate_admission_refusals_total", map[string]string{"reason": "rate_limit"}), 1.0)
	require.Greater(t, sumOf(t, text, "seedgate_ledger_tokens_total", map[string]string{"kind": "reserve"}), 0.0)
	require.Greater(t, sumOf(t, text, "seedgate_ledger_amount_total", map[string]string{"kind": "reserve", "unit": "tokens"}), 0.0)
}

// Calls to an upstream channel (the Ark emulator) by channel, key id,
// operation and outcome; the key's secret appears nowhere.
func TestUpstreamCalls(t *testing.T) {
	emu := arkemu.New(arkemu.Options{})
	ts := httptest.NewServer(emu)
	t.Cleanup(func() { ts.Close(); emu.Close() })
	const secret = "sk-metrics-upstream-secret"
	a := startGateway(t, map[string]string{"SEEDGATE_ARK_API_KEY": secret, "SEEDGATE_ARK_BASE_URL": ts.URL + arkemu.BasePath})
	base := "http://" + a.Addr
	code, body := post(t, base+"/v1/jobs", clientKey, `{"model":"seedance-1-0-pro-fast","input":{"prompt":"upstream","resolution":"480p","duration":5}}`)
	require.Equal(t, http.StatusOK, code, body)
	var text []byte
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, text = scrape(t, base+"/metrics", adminKey)
		if sumOf(t, text, "seedgate_tasks_finished_total", map[string]string{"status": "succeeded", "provider": "ark"}) == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the task did not succeed upstream")
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
	require.NotContains(t, string(text), secret)
	fams, err := parse(text)
	require.NoError(t, err)
	var channel, key string
	for _, m := range fams["seedgate_upstream_requests_total"].GetMetric() {
		if labelOf(m, "operation") == "create" && labelOf(m, "outcome") == "ok" {
			channel, key = labelOf(m, "channel"), labelOf(m, "key")
			require.EqualValues(t, 1, m.GetCounter().GetValue())
		}
	}
	require.NotEmpty(t, channel)
	require.True(t, strings.HasPrefix(key, "k-"), "the key's id: %q", key)
	require.Greater(t, sumOf(t, text, "seedgate_upstream_requests_total", map[string]string{"channel": channel, "outcome": "ok"}), 1.0,
		"the create and the status checks")
	require.Greater(t, sumOf(t, text, "seedgate_upstream_request_duration_seconds", map[string]string{"channel": channel, "operation": "create"}), 0.0)
	require.EqualValues(t, 1, sumOf(t, text, "seedgate_tasks_finished_total", map[string]string{"provider": "ark", "channel": channel}))
}

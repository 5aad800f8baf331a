package metrics_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// A scrape after a mixed run passes promtool's checks, needs the admin key on
// the gateway's address, and counts what the run did.
func TestScrapeAfterMixedRun(t *testing.T) {
	_, promtool := prometheusTools(t)
	a := startGateway(t, map[string]string{"SEEDGATE_METRICS_LISTEN": "127.0.0.1:0"})
	base := "http://" + a.Addr
	mixedRun(t, base)

	code, _ := scrape(t, base+"/metrics", "")
	require.Equal(t, http.StatusUnauthorized, code, "no key")
	code, _ = scrape(t, base+"/metrics", clientKey)
	require.Equal(t, http.StatusForbidden, code, "a client key lacks the admin scope")
	// The backlog gauge is read from the store at most every 2 s (the
	// operations sampler may have read it during the run): scrape until it
	// shows the refused events waiting.
	var text []byte
	require.Eventually(t, func() bool {
		var code int
		code, text = scrape(t, base+"/metrics", adminKey)
		require.Equal(t, http.StatusOK, code)
		return bytes.Contains(text, []byte("seedgate_webhook_messages_pending 2")) ||
			bytes.Contains(text, []byte("seedgate_webhook_messages_pending 3"))
	}, 10*time.Second, 100*time.Millisecond, "the refused events wait for their retry")
	require.NotEmpty(t, a.MetricsAddr)
	code, private := scrape(t, "http://"+a.MetricsAddr+"/metrics", "")
	require.Equal(t, http.StatusOK, code, "the private listener needs no key")
	require.Contains(t, string(private), "seedgate_tasks_finished_total")

	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(text)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool check metrics:\n%s", out)
	require.Empty(t, strings.TrimSpace(string(out)), "promtool's lint")

	fams, err := parse(text)
	require.NoError(t, err)
	sum := func(name string, match map[string]string) float64 {
		t.Helper()
		f, ok := fams[name]
		require.True(t, ok, "family %s is missing", name)
		total := 0.0
	metrics:
		for _, m := range f.Metric {
			for k, v := range match {
				if labelOf(m, k) != v {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			case m.Histogram != nil:
				total += float64(m.Histogram.GetSampleCount())
			}
		}
		return total
	}
	const model = "seedance-1-0-pro-fast"
	require.EqualValues(t, 3, sum("seedgate_tasks_created_total", map[string]string{"dialect": "jobs", "model": model}))
	require.EqualValues(t, 2, sum("seedgate_tasks_finished_total", map[string]string{"status": "succeeded", "model": model, "provider": "sandbox"}))
	require.EqualValues(t, 1, sum("seedgate_tasks_finished_total", map[string]string{"status": "failed"}))
	require.EqualValues(t, 3, sum("seedgate_task_duration_seconds", nil), "time to result of each task")
	require.EqualValues(t, 3, sum("seedgate_http_request_duration_seconds", map[string]string{"dialect": "jobs", "route": "POST /v1/jobs", "code": "2xx"}))
	require.EqualValues(t, 1, sum("seedgate_http_request_duration_seconds", map[string]string{"route": "POST /v1/jobs", "code": "4xx"}), "the unknown model")
	require.GreaterOrEqual(t, sum("seedgate_http_request_duration_seconds", map[string]string{"route": "GET /metrics", "code": "4xx"}), 2.0)
	require.GreaterOrEqual(t, sum("seedgate_webhook_attempts_total", map[string]string{"outcome": "delivered"}), 4.0)
	require.GreaterOrEqual(t, sum("seedgate_webhook_attempts_total", map[string]string{"outcome": "retry"}), 2.0)
	require.Greater(t, sum("seedgate_webhook_delivery_lag_seconds", nil), 3.0)
	require.GreaterOrEqual(t, sum("seedgate_webhook_messages_pending", nil), 2.0, "the refused events wait for their retry")
	require.Contains(t, fams, "seedgate_tasks")
	require.Greater(t, sum("seedgate_blob_bytes_total", map[string]string{"op": "write"}), 10000.0, "videos and thumbnails")
	require.Greater(t, sum("seedgate_store_transaction_duration_seconds", map[string]string{"outcome": "committed"}), 10.0)
	require.Greater(t, sum("seedgate_store_group_commit_writes", nil), 1.0)
	require.Greater(t, sum("seedgate_ledger_tokens_total", map[string]string{"kind": "settle"}), 0.0, "the successes' usage")
	require.Greater(t, sum("seedgate_ledger_amount_total", map[string]string{"kind": "release", "unit": "tokens"}), 0.0, "the failure's reservation back")
	require.Greater(t, sum("go_goroutines", nil), 1.0)
	require.Greater(t, sum("process_resident_memory_bytes", nil), 1.0)

	// A download is read from blob storage.
	before := sum("seedgate_blob_bytes_total", map[string]string{"op": "read"})
	var jobs struct {
		Data []struct {
			Status string
			Output *struct {
				Videos []struct{ URL string }
			}
		}
	}
	code, body := scrape(t, base+"/v1/jobs", clientKey)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, json.Unmarshal(body, &jobs))
	var video string
	for _, j := range jobs.Data {
		if j.Output != nil && len(j.Output.Videos) > 0 {
			video = j.Output.Videos[0].URL
		}
	}
	require.NotEmpty(t, video, "%s", body)
	code, mp4 := scrape(t, video, clientKey)
	require.Equal(t, http.StatusOK, code)
	_, text = scrape(t, base+"/metrics", adminKey)
	fams, err = parse(text)
	require.NoError(t, err)
	require.GreaterOrEqual(t, sum("seedgate_blob_bytes_total", map[string]string{"op": "read"})-before, float64(len(mp4)))
}

// The tenant label is there only when asked for.
func TestTenantLabelOptIn(t *testing.T) {
	for _, on := range []bool{false, true} {
		a := startGateway(t, map[string]string{"SEEDGATE_METRICS_TENANT_LABEL": fmt.Sprint(on)})
		base := "http://" + a.Addr
		mixedRun(t, base)
		_, text := scrape(t, base+"/metrics", adminKey)
		fams, err := parse(text)
		require.NoError(t, err)
		for _, name := range []string{"seedgate_tasks_created_total", "seedgate_tasks_finished_total"} {
			for _, m := range fams[name].Metric {
				has := false
				for _, l := range m.Label {
					has = has || l.GetName() == "tenant"
				}
				require.Equal(t, on, has, "%s tenant label with SEEDGATE_METRICS_TENANT_LABEL=%v", name, on)
			}
		}
	}
}

// Debian's Prometheus server scrapes a gateway (through the admin key) while
// it runs tasks; the finished tasks and a latency quantile come back through
// Prometheus's query API.
func TestPrometheusServerScrapes(t *testing.T) {
	server, _ := prometheusTools(t)
	a := startGateway(t, nil)
	gw := a.Addr

	dir := t.TempDir()
	promAddr := freeAddr(t)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: seedgate
    authorization:
      credentials: %q
    static_configs:
      - targets: [%q]
`, adminKey, gw)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644))
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	require.NoError(t, err)
	defer logf.Close()
	cmd := exec.Command(server, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Logf("prometheus log:\n%s", b)
		}
	})

	// Poll the query API until each answer has a value (deadline: a minute).
	query := func(q string) float64 {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		last := ""
		for {
			var ans struct {
				Status string `json:"status"`
				Data   struct {
					Result []struct {
						Value [2]any `json:"value"`
					} `json:"result"`
				} `json:"data"`
			}
			resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" + url.QueryEscape(q))
			if err == nil {
				err = json.NewDecoder(resp.Body).Decode(&ans)
				resp.Body.Close()
				last = fmt.Sprintf("%+v %v", ans, err)
				if err == nil && ans.Status == "success" && len(ans.Data.Result) > 0 {
					if s, ok := ans.Data.Result[0].Value[1].(string); ok && s != "NaN" {
						var v float64
						_, err := fmt.Sscan(s, &v)
						require.NoError(t, err)
						return v
					}
				}
			} else {
				last = err.Error()
			}
			require.True(t, time.Now().Before(deadline), "no answer to %s: %s", q, last)
			time.Sleep(200 * time.Millisecond) // polling with a deadline
		}
	}
	require.EqualValues(t, 1, query(`up{job="seedgate"}`), "Prometheus scrapes the gateway with the admin key")
	mixedRun(t, "http://"+gw)
	require.EqualValues(t, 2, query(`sum(seedgate_tasks_finished_total{status="succeeded"}) >= 2`))
	require.EqualValues(t, 1, query(`sum(seedgate_tasks_finished_total{status="failed"})`))
	// The latency histograms' series start with the run's first observations,
	// so the quantiles are of everything observed (no rate over a window).
	p95 := query(`histogram_quantile(0.95, sum by (le) (seedgate_http_request_duration_seconds_bucket{route="POST /v1/jobs"}))`)
	require.Greater(t, p95, 0.0)
	require.LessOrEqual(t, p95, 1.0, "a create answers at once")
	p50 := query(`histogram_quantile(0.5, sum by (le) (seedgate_task_duration_seconds_bucket))`)
	require.Greater(t, p50, 0.0, "time to result")
}

func parse(text []byte) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(bytes.NewReader(text))
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// seedgate_tasks is the queue's depth now, counted by the store at scrape time.
func TestQueueDepth(t *testing.T) {
	a := startGateway(t, map[string]string{"SEEDGATE_SANDBOX_QUEUE_DELAY": "1h"})
	base := "http://" + a.Addr
	depth := func() (queued float64) {
		_, text := scrape(t, base+"/metrics", adminKey)
		fams, err := parse(text)
		require.NoError(t, err)
		for _, m := range fams["seedgate_tasks"].GetMetric() {
			if labelOf(m, "status") == "queued" {
				queued = m.GetGauge().GetValue()
			}
		}
		return queued
	}
	require.Zero(t, depth())
	for range 2 {
		code, body := post(t, base+"/v1/jobs", clientKey, `{"model":"seedance-1-0-pro-fast","input":{"prompt":"a queue","resolution":"480p","duration":2}}`)
		require.Equal(t, http.StatusOK, code, body)
	}
	deadline := time.Now().Add(15 * time.Second) // counts are reused for 2 s
	for depth() != 2 {
		require.True(t, time.Now().Before(deadline), "seedgate_tasks{status=queued} never became 2")
		time.Sleep(100 * time.Millisecond) // polling with a deadline
	}
}

// GET /admin/v1/ops: admin only; after a run its series and totals have data.
func TestOpsData(t *testing.T) {
	a := startGateway(t, nil)
	base := "http://" + a.Addr
	code, _ := scrape(t, base+"/admin/v1/ops", clientKey)
	require.Equal(t, http.StatusForbidden, code)
	mixedRun(t, base)
	var d struct {
		Time       []int64               `json:"time"`
		Throughput map[string][]float64  `json:"throughput_per_minute"`
		HTTP       map[string][]*float64 `json:"http_latency_seconds"`
		Errors     map[string][]float64  `json:"errors_by_channel"`
		Totals     map[string]float64    `json:"totals"`
		Spend      struct {
			Unit   string
			Days   []string
			Tokens []int64
		}
	}
	code, body := scrape(t, base+"/admin/v1/ops", adminKey)
	require.Equal(t, http.StatusOK, code, string(body))
	require.NoError(t, json.Unmarshal(body, &d))
	require.EqualValues(t, 3, d.Totals["created"])
	require.EqualValues(t, 2, d.Totals["succeeded"])
	require.EqualValues(t, 1, d.Totals["failed"])
	require.NotEmpty(t, d.Time, "a sample at start and one per request")
	sum := func(v []float64) (s float64) {
		for _, x := range v {
			s += x
		}
		return s
	}
	require.Greater(t, sum(d.Throughput["created"]), 0.0)
	require.EqualValues(t, 1, sum(d.Errors["sandbox"]), "the failure, by provider (no channel)")
	seen := false
	for _, v := range d.HTTP["p95"] {
		seen = seen || v != nil
	}
	require.True(t, seen, "request latency: %s", body)
	require.Len(t, d.Spend.Days, 14)
	require.Equal(t, "tokens", d.Spend.Unit)
	require.Greater(t, d.Spend.Tokens[13], int64(0), "today's settled usage")
}

func post(t *testing.T, url, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

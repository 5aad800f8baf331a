// Package metrics is the gateway's Prometheus instrumentation: one registry
// per process (made by New and passed to whoever records, never global), the
// metric families, the hooks the other packages call (the HTTP middleware's
// Route, the store's Observer, the upstream client's Upstream, the blob
// wrapper), the scrape handler, and the operations page's data (ops.go).
//
// Names follow Prometheus' conventions: the seedgate_ prefix, _total for
// counters, base units (_seconds, _bytes). No label takes unbounded values:
// models are the catalog's ids ("other" for anything else), routes the mux's
// patterns, channels and keys the configured ones, and tenants appear only
// when Options.TenantLabel is set.
package metrics

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// Options tune New.
type Options struct {
	// TenantLabel adds a tenant label to the task and ledger families
	// (SEEDGATE_METRICS_TENANT_LABEL): one series per tenant, so only for
	// gateways with a bounded number of tenants.
	TenantLabel bool
}

// Buckets of the latency histograms, in seconds.
var (
	requestBuckets  = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	resultBuckets   = []float64{1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600, 86400}
	storeBuckets    = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}
	lagBuckets      = []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400}
	groupBuckets    = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}
	upstreamBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 60}
)

// Metrics holds the registry and every family. A nil *Metrics records
// nothing: its methods may be called either way.
type Metrics struct {
	reg    *prometheus.Registry
	tenant bool
	models map[string]bool // the catalog's ids

	httpDuration   *prometheus.HistogramVec
	tasksCreated   *prometheus.CounterVec
	tasksFinished  *prometheus.CounterVec
	timeToResult   *prometheus.HistogramVec
	upstreamCalls  *prometheus.CounterVec
	upstreamTime   *prometheus.HistogramVec
	refusals       *prometheus.CounterVec
	webhookAttempt *prometheus.CounterVec
	webhookLag     prometheus.Histogram
	ledgerTokens   *prometheus.CounterVec
	ledgerAmount   *prometheus.CounterVec
	blobWritten    prometheus.Counter
	blobRead       prometheus.Counter
	storeTx        [2]prometheus.Observer // committed, failed
	groupCommit    prometheus.Histogram

	unmatched *Route // requests no route pattern took (the mux's own 405s)
	mu        sync.Mutex
	routes    map[string]*Route
}

// New makes the registry with the Go runtime and process collectors and
// every seedgate_ family.
func New(o Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), tenant: o.TenantLabel, models: map[string]bool{},
		routes: map[string]*Route{}}
	for _, md := range task.Models() {
		m.models[md.ID] = true
	}
	withTenant := func(labels ...string) []string {
		if m.tenant {
			return append(labels, "tenant")
		}
		return labels
	}
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "seedgate_http_request_duration_seconds",
		Help:    "HTTP requests by dialect, route pattern and status class (1xx…5xx), and how long they took to answer (event streams and Prefer: wait included); _count counts the requests.",
		Buckets: requestBuckets,
	}, []string{"dialect", "route", "code"})
	m.tasksCreated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "seedgate_tasks_created_total",
		Help: "Tasks created, by client dialect and model.",
	}, withTenant("dialect", "model"))
	m.tasksFinished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "seedgate_tasks_finished_total",
		Help: "Tasks that reached a terminal status, by model, status, provider and upstream channel (\"\" for none).",
	}, withTenant("model", "status", "provider", "channel"))
	m.timeToResult = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "seedgate_task_duration_seconds",
		Help:    "Time from a task's creation to its terminal status (time to result), by model and status.",
		Buckets: resultBuckets,
	}, []string{"model", "status"})
	m.upstreamCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "seedgate_upstream_requests_total",
		Help: "Calls to upstream APIs by channel, key id, operation (create, get, list, delete) and outcome (ok, 4xx, 429, 5xx, error: no usable answer).",
	}, []string{"channel", "key", "operation", "outcome"})
	m.upstreamTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "seedgate_upstream_request_duration_seconds",
		Help:    "How long upstream API calls took, by channel and operation.",
		Buckets: upstreamBuckets,
	}, []string{"channel", "operation"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "seedgate_admission_refusals_total",
		Help: "Requests and tasks refused by a limit: rate_limit (the key's requests per minute), in_flight (its tasks in flight), balance (the tenant's balance).",
	}, []string{"reason"})
	m.webhookAttempt = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "seedgate_webhook_attempts_total",
		Help: "Webhook delivery attempts by outcome: delivered, retry (failed, will be tried again), failed (given up), gone (410).",
	}, []string{"outcome"})
	m.webhookLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "seedgate_webhook_delivery_lag_seconds",
		Help:    "Time from a webhook event (the task's change) to its successful delivery, retries included.",
		Buckets: lagBuckets,
	})
	m.ledgerTokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "seedgate_ledger_tokens_total",
		Help: "Tokens in ledger entries by kind: reserve (the estimate held at submit), settle (the usage charged).",
	}, withTenant("kind"))
	m.ledgerAmount = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "seedgate_ledger_amount_total",
		Help: "Amounts in ledger entries by kind (reserve, settle, release, topup) and unit: tokens, or a currency (in its units, not micro-units).",
	}, withTenant("kind", "unit"))
	blob := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "seedgate_blob_bytes_total",
		Help: "Bytes of stored files written (uploads, results, thumbnails) and read (downloads served, inputs sent upstream).",
	}, []string{"op"})
	m.blobWritten, m.blobRead = blob.WithLabelValues("write"), blob.WithLabelValues("read")
	tx := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "seedgate_store_transaction_duration_seconds",
		Help:    "Write transactions of the store, from the call to the commit (SQLite: the wait for the group commit included), by outcome.",
		Buckets: storeBuckets,
	}, []string{"outcome"})
	m.storeTx = [2]prometheus.Observer{tx.WithLabelValues("committed"), tx.WithLabelValues("failed")}
	m.groupCommit = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "seedgate_store_group_commit_writes",
		Help:    "Write transactions committed together by one SQLite group commit.",
		Buckets: groupBuckets,
	})
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpDuration, m.tasksCreated, m.tasksFinished, m.timeToResult, m.upstreamCalls, m.upstreamTime,
		m.refusals, m.webhookAttempt, m.webhookLag, m.ledgerTokens, m.ledgerAmount, blob, tx, m.groupCommit)
	m.unmatched = m.Route("other", "unmatched")
	return m
}

// CountQueues adds the depth of the queues (seedgate_tasks,
// seedgate_webhook_messages_pending), asked of the store at scrape time and
// reused for ttl (default 2 s). Call it once.
func (m *Metrics) CountQueues(counts store.StatsQueries, ttl time.Duration) {
	if m != nil {
		m.reg.MustRegister(newQueueCollector(counts, ttl))
	}
}

// Registry is the registry everything is recorded in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus' exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// model is a task's model as a label: a catalog id, or "other".
func (m *Metrics) model(id string) string {
	if m.models[id] {
		return id
	}
	return "other"
}

// Route is the request metrics of one route pattern: the series of each
// status class are made on first use and kept, so a request costs no label
// lookup.
type Route struct {
	m       *Metrics
	dialect string
	pattern string
	classes [6]struct {
		once sync.Once
		obs  prometheus.Observer
	}
}

// Route returns the metrics of a route pattern ("POST /v1/jobs") served by a
// dialect; nil on a nil *Metrics.
func (m *Metrics) Route(dialect, pattern string) *Route {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.routes[pattern]; ok {
		return r
	}
	r := &Route{m: m, dialect: dialect, pattern: pattern}
	m.routes[pattern] = r
	return r
}

// Unmatched is the Route of requests no pattern took.
func (m *Metrics) Unmatched() *Route {
	if m == nil {
		return nil
	}
	return m.unmatched
}

var classNames = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

// Observe records one request answered with status after d.
func (r *Route) Observe(status int, d time.Duration) {
	if r == nil {
		return
	}
	i := status / 100
	if i < 1 || i > 5 {
		i = 0
	}
	c := &r.classes[i]
	c.once.Do(func() { c.obs = r.m.httpDuration.WithLabelValues(r.dialect, r.pattern, classNames[i]) })
	c.obs.Observe(d.Seconds())
}

// Refused counts a refusal by a limit ("rate_limit", "in_flight", "balance").
func (m *Metrics) Refused(reason string) {
	if m == nil {
		return
	}
	m.refusals.WithLabelValues(reason).Inc()
}

// Upstream records one upstream API call: its channel, key id, operation,
// HTTP status (0: no usable answer) and duration.
func (m *Metrics) Upstream(channel, key, op string, status int, d time.Duration) {
	if m == nil {
		return
	}
	outcome := "error"
	switch {
	case status >= 200 && status <= 299:
		outcome = "ok"
	case status == http.StatusTooManyRequests:
		outcome = "429"
	case status >= 400 && status <= 499:
		outcome = "4xx"
	case status >= 500:
		outcome = "5xx"
	}
	m.upstreamCalls.WithLabelValues(channel, key, op, outcome).Inc()
	m.upstreamTime.WithLabelValues(channel, op).Observe(d.Seconds())
}

// unitLabel turns a ledger unit into a label and the factor to its base
// unit: "micro-USD" counts in USD.
func unitLabel(unit string) (string, float64) {
	if c, ok := strings.CutPrefix(unit, "micro-"); ok {
		return c, 1e-6
	}
	return unit, 1
}

package metrics

import (
	"context"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/seedgate/seedgate/internal/startstop"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/wire"
)

// Ops is the data of the console's operations page (GET /admin/v1/ops):
// series sampled from this process's registry every Interval and kept for
// the last Window — throughput, latency percentiles (of the HTTP answers but
// event streams, and of the time to result), errors by channel, queue depth,
// webhook backlog — and the spend per day from the store's settled usage. Start/Stop like every background service.
type Ops struct {
	m        *Metrics
	usage    func(ctx context.Context, f store.UsageFilter) ([]store.UsageRow, error)
	interval time.Duration
	keep     int
	run      startstop.Base

	mu      sync.Mutex
	samples []sample // oldest first
}

// OpsConfig wires Ops.
type OpsConfig struct {
	// Usage is the store's settled usage (store.AccountQueries.Usage).
	Usage func(ctx context.Context, f store.UsageFilter) ([]store.UsageRow, error)
	// Interval between samples (default 5 s); Window is how far back the
	// series go (default 1 h).
	Interval, Window time.Duration
}

// NewOps returns the stopped sampler of m's registry; nil on a nil *Metrics.
func (m *Metrics) NewOps(c OpsConfig) *Ops {
	if m == nil {
		return nil
	}
	if c.Interval <= 0 {
		c.Interval = 5 * time.Second
	}
	if c.Window <= 0 {
		c.Window = time.Hour
	}
	return &Ops{m: m, usage: c.Usage, interval: c.Interval, keep: int(c.Window/c.Interval) + 1}
}

// Start samples every interval until Stop.
func (o *Ops) Start(ctx context.Context) {
	o.run.Go(ctx, func(ctx context.Context) {
		tick := time.NewTicker(o.interval)
		defer tick.Stop()
		for {
			o.sample(0)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// Stop ends the sampling.
func (o *Ops) Stop(ctx context.Context) error { return o.run.Stop(ctx) }

// sample is what one look at the registry saw: running totals and gauges.
type sample struct {
	at       time.Time
	created  float64
	finished map[string]float64 // by status
	errors   map[string]float64 // failed and expired tasks by channel (provider when none)
	http     histogram
	result   histogram
	tasks    map[string]float64 // unfinished tasks by status
	pending  float64            // webhook messages not delivered
	whFailed float64            // webhook attempts that failed (retry, failed, gone)
}

// histogram is cumulative counts by upper bound, summed over a family's series.
type histogram struct {
	bounds []float64
	counts []float64 // cumulative, per bound
	total  float64
}

// sample takes a sample unless the newest is younger than fresh.
func (o *Ops) sample(fresh time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	if n := len(o.samples); n > 0 && fresh > 0 && now.Sub(o.samples[n-1].at) < fresh {
		return
	}
	fams, _ := o.m.reg.Gather() // a failing collector leaves its families out, the rest is good
	s := sample{at: now, finished: map[string]float64{}, errors: map[string]float64{}, tasks: map[string]float64{}}
	for _, f := range fams {
		switch f.GetName() {
		case "seedgate_tasks_created_total":
			for _, m := range f.Metric {
				s.created += m.GetCounter().GetValue()
			}
		case "seedgate_tasks_finished_total":
			for _, m := range f.Metric {
				v := m.GetCounter().GetValue()
				status := label(m, "status")
				s.finished[status] += v
				if status == "failed" || status == "expired" {
					ch := label(m, "channel")
					if ch == "" {
						ch = label(m, "provider")
					}
					s.errors[ch] += v
				}
			}
		case "seedgate_http_request_duration_seconds":
			s.http = sumHistograms(f, func(m *dto.Metric) bool { return !strings.HasSuffix(label(m, "route"), "/events") })
		case "seedgate_task_duration_seconds":
			s.result = sumHistograms(f, nil)
		case "seedgate_tasks":
			for _, m := range f.Metric {
				s.tasks[label(m, "status")] = m.GetGauge().GetValue()
			}
		case "seedgate_webhook_messages_pending":
			for _, m := range f.Metric {
				s.pending = m.GetGauge().GetValue()
			}
		case "seedgate_webhook_attempts_total":
			for _, m := range f.Metric {
				if label(m, "outcome") != "delivered" {
					s.whFailed += m.GetCounter().GetValue()
				}
			}
		}
	}
	o.samples = append(o.samples, s)
	if len(o.samples) > o.keep {
		o.samples = slices.Delete(o.samples, 0, len(o.samples)-o.keep)
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// sumHistograms adds up the series of a histogram family that keep says to
// (nil: all).
func sumHistograms(f *dto.MetricFamily, keep func(*dto.Metric) bool) histogram {
	var h histogram
	for _, m := range f.Metric {
		if keep != nil && !keep(m) {
			continue
		}
		hm := m.GetHistogram()
		if h.bounds == nil {
			for _, b := range hm.Bucket {
				h.bounds = append(h.bounds, b.GetUpperBound())
			}
			h.counts = make([]float64, len(h.bounds))
		}
		for i, b := range hm.Bucket {
			if i < len(h.counts) {
				h.counts[i] += float64(b.GetCumulativeCount())
			}
		}
		h.total += float64(hm.GetSampleCount())
	}
	return h
}

// quantile estimates the q-quantile of the observations between two samples
// of a histogram, as Prometheus' histogram_quantile does (linear within a
// bucket); nil without observations.
func quantile(q float64, before, after histogram) *float64 {
	total := after.total - before.total
	if total <= 0 || len(after.bounds) == 0 {
		return nil
	}
	rank := q * total
	prevBound, prevCount := 0.0, 0.0
	for i, bound := range after.bounds {
		c := after.counts[i]
		if i < len(before.counts) {
			c -= before.counts[i]
		}
		if c >= rank {
			v := prevBound
			if c > prevCount {
				v += (bound - prevBound) * (rank - prevCount) / (c - prevCount)
			}
			return &v
		}
		prevBound, prevCount = bound, c
	}
	v := after.bounds[len(after.bounds)-1] // beyond the last bound: the last bound, like Prometheus
	return &v
}

// OpsData is the answer of GET /admin/v1/ops. Every series is aligned with
// Time (Unix seconds, one point per sample after the first); rates are per
// minute over the interval before each point, null where nothing was seen.
type OpsData struct {
	IntervalSeconds float64               `json:"interval_seconds"`
	Time            []int64               `json:"time"`
	Throughput      map[string][]float64  `json:"throughput_per_minute"`  // created, succeeded, failed
	HTTPLatency     map[string][]*float64 `json:"http_latency_seconds"`   // p50, p95, p99
	ResultLatency   map[string][]*float64 `json:"result_latency_seconds"` // p50, p95
	Errors          map[string][]float64  `json:"errors_by_channel"`      // failed and expired tasks per interval
	Queue           map[string][]float64  `json:"queue"`                  // queued, running
	Webhooks        map[string][]float64  `json:"webhooks"`               // pending, failed_attempts
	Spend           Spend                 `json:"spend"`
	Totals          map[string]float64    `json:"totals"`
}

// Spend is the settled usage per UTC day, oldest first.
type Spend struct {
	Unit   string    `json:"unit"` // tokens, or a currency
	Days   []string  `json:"days"`
	Amount []float64 `json:"amount"`
	Tokens []int64   `json:"tokens"`
	Tasks  []int     `json:"tasks"`
}

// spendDays is how many days the spend chart shows.
const spendDays = 14

// ServeHTTP answers GET /admin/v1/ops (the server's admin scope guards it).
func (o *Ops) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.sample(time.Second)
	d := o.data()
	spend, err := o.spend(r.Context(), time.Now().UTC())
	if err != nil {
		wire.WriteJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{
			"code": "internal", "message": "reading the usage failed: " + err.Error()}})
		return
	}
	d.Spend = spend
	w.Header().Set("Cache-Control", "no-store")
	wire.WriteJSON(w, http.StatusOK, d)
}

func (o *Ops) data() OpsData {
	o.mu.Lock()
	defer o.mu.Unlock()
	d := OpsData{IntervalSeconds: o.interval.Seconds(), Time: []int64{},
		Throughput:    map[string][]float64{"created": {}, "succeeded": {}, "failed": {}},
		HTTPLatency:   map[string][]*float64{"p50": {}, "p95": {}, "p99": {}},
		ResultLatency: map[string][]*float64{"p50": {}, "p95": {}},
		Errors:        map[string][]float64{},
		Queue:         map[string][]float64{"queued": {}, "running": {}},
		Webhooks:      map[string][]float64{"pending": {}, "failed_attempts": {}},
		Totals:        map[string]float64{},
	}
	channels := map[string]bool{}
	for _, s := range o.samples {
		for ch := range s.errors {
			channels[ch] = true
		}
	}
	for ch := range channels {
		d.Errors[ch] = []float64{}
	}
	for i := 1; i < len(o.samples); i++ {
		a, b := o.samples[i-1], o.samples[i]
		perMin := 60 / b.at.Sub(a.at).Seconds()
		d.Time = append(d.Time, b.at.Unix())
		failed := func(s sample) float64 { return s.finished["failed"] + s.finished["expired"] }
		d.Throughput["created"] = append(d.Throughput["created"], round((b.created-a.created)*perMin))
		d.Throughput["succeeded"] = append(d.Throughput["succeeded"], round((b.finished["succeeded"]-a.finished["succeeded"])*perMin))
		d.Throughput["failed"] = append(d.Throughput["failed"], round((failed(b)-failed(a))*perMin))
		for _, q := range []struct {
			name string
			q    float64
		}{{"p50", .5}, {"p95", .95}, {"p99", .99}} {
			d.HTTPLatency[q.name] = append(d.HTTPLatency[q.name], quantile(q.q, a.http, b.http))
			if q.name != "p99" {
				d.ResultLatency[q.name] = append(d.ResultLatency[q.name], quantile(q.q, a.result, b.result))
			}
		}
		for ch := range channels {
			d.Errors[ch] = append(d.Errors[ch], b.errors[ch]-a.errors[ch])
		}
		d.Queue["queued"] = append(d.Queue["queued"], b.tasks["queued"])
		d.Queue["running"] = append(d.Queue["running"], b.tasks["running"])
		d.Webhooks["pending"] = append(d.Webhooks["pending"], b.pending)
		d.Webhooks["failed_attempts"] = append(d.Webhooks["failed_attempts"], b.whFailed-a.whFailed)
	}
	if n := len(o.samples); n > 0 {
		s := o.samples[n-1]
		d.Totals["created"], d.Totals["succeeded"] = s.created, s.finished["succeeded"]
		d.Totals["failed"] = s.finished["failed"] + s.finished["expired"]
		d.Totals["queued"], d.Totals["running"], d.Totals["webhooks_pending"] = s.tasks["queued"], s.tasks["running"], s.pending
	}
	return d
}

// spend sums the settled usage of the last spendDays days by day.
func (o *Ops) spend(ctx context.Context, now time.Time) (Spend, error) {
	day := now.Truncate(24 * time.Hour)
	from := day.AddDate(0, 0, -(spendDays - 1))
	sp := Spend{Unit: "tokens", Days: []string{}, Amount: []float64{}, Tokens: []int64{}, Tasks: []int{}}
	idx := map[string]int{}
	for i := range spendDays {
		d := from.AddDate(0, 0, i).Format(time.DateOnly)
		idx[d] = i
		sp.Days = append(sp.Days, d)
		sp.Amount, sp.Tokens, sp.Tasks = append(sp.Amount, 0), append(sp.Tokens, 0), append(sp.Tasks, 0)
	}
	if o.usage == nil {
		return sp, nil
	}
	rows, err := o.usage(ctx, store.UsageFilter{From: from, To: day.AddDate(0, 0, 1)})
	if err != nil {
		return sp, err
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Unit < rows[j].Unit })
	for _, r := range rows {
		i, ok := idx[r.Day]
		if !ok {
			continue
		}
		unit, factor := unitLabel(r.Unit)
		if unit != "tokens" {
			sp.Unit = unit // a price table: balances in its currency
		}
		sp.Amount[i] = round(sp.Amount[i] + float64(r.Amount)*factor)
		sp.Tokens[i] += r.Tokens
		sp.Tasks[i] += r.Tasks
	}
	return sp, nil
}

func round(v float64) float64 { return math.Round(v*1e6) / 1e6 }

package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// Store is the store.Observer (and store.GroupCommitObserver) that records
// the store's writes; nil on a nil *Metrics.
func (m *Metrics) Store() store.Observer {
	if m == nil {
		return nil
	}
	return storeObserver{m}
}

type storeObserver struct{ m *Metrics }

var _ store.GroupCommitObserver = storeObserver{}

func (o storeObserver) Transaction(d time.Duration, err error) {
	i := 0
	if err != nil {
		i = 1
	}
	o.m.storeTx[i].Observe(d.Seconds())
}

func (o storeObserver) GroupCommit(writes int) { o.m.groupCommit.Observe(float64(writes)) }

func (o storeObserver) TaskCreated(t *task.Task) {
	o.m.tasksCreated.WithLabelValues(o.m.labels(t, t.Dialect, o.m.model(t.Model))...).Inc()
}

func (o storeObserver) TaskFinished(t *task.Task) {
	model, status := o.m.model(t.Model), string(t.Status)
	o.m.tasksFinished.WithLabelValues(o.m.labels(t, model, status, t.Provider, t.Channel)...).Inc()
	if t.FinishedAt != nil && !t.CreatedAt.IsZero() {
		o.m.timeToResult.WithLabelValues(model, status).Observe(t.FinishedAt.Sub(t.CreatedAt).Seconds())
	}
}

func (o storeObserver) Ledger(e *store.LedgerEntry) {
	kind := e.Kind
	var tenant []string
	if o.m.tenant {
		tenant = []string{e.Tenant}
	}
	if e.Tokens > 0 {
		o.m.ledgerTokens.WithLabelValues(append([]string{kind}, tenant...)...).Add(float64(e.Tokens))
	}
	if e.Amount > 0 {
		unit, factor := unitLabel(e.Unit)
		o.m.ledgerAmount.WithLabelValues(append([]string{kind, unit}, tenant...)...).Add(float64(e.Amount) * factor)
	}
}

func (o storeObserver) WebhookAttempt(msg *store.WebhookMessage, a store.WebhookAttempt) {
	outcome := string(msg.State)
	if msg.State == store.WebhookPending {
		outcome = "retry"
	}
	o.m.webhookAttempt.WithLabelValues(outcome).Inc()
	if msg.State == store.WebhookDelivered && msg.DeliveredAt != nil {
		o.m.webhookLag.Observe(msg.DeliveredAt.Sub(msg.CreatedAt).Seconds())
	}
}

func (o storeObserver) Refused(reason string) { o.m.Refused(reason) }

// labels appends the task's tenant when the tenant label is on.
func (m *Metrics) labels(t *task.Task, values ...string) []string {
	if m.tenant {
		return append(values, t.Tenant)
	}
	return values
}

// queueCollector reports the queues' depth, counted by the store at scrape
// time and reused for ttl (several scrapers, one count).
type queueCollector struct {
	counts  store.StatsQueries
	ttl     time.Duration
	tasks   *prometheus.Desc
	pending *prometheus.Desc
	up      *prometheus.Desc

	mu   sync.Mutex
	at   time.Time
	last store.LiveCounts
	err  error
}

func newQueueCollector(counts store.StatsQueries, ttl time.Duration) *queueCollector {
	if ttl <= 0 {
		ttl = 2 * time.Second
	}
	return &queueCollector{counts: counts, ttl: ttl,
		tasks: prometheus.NewDesc("seedgate_tasks", "Unfinished tasks by status now (the queue's depth), all instances sharing the database included.",
			[]string{"status"}, nil),
		pending: prometheus.NewDesc("seedgate_webhook_messages_pending", "Webhook messages not delivered yet (due or waiting for a retry): the delivery backlog.",
			nil, nil),
		up: prometheus.NewDesc("seedgate_store_counts_up", "1 when the store answered the counts of this scrape, 0 when it failed.", nil, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.tasks
	ch <- c.pending
	ch <- c.up
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.get()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, st := range []task.Status{task.StatusQueued, task.StatusRunning} {
		ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(counts.Tasks[st]), string(st))
	}
	for st, n := range counts.Tasks {
		if st != task.StatusQueued && st != task.StatusRunning {
			ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(n), string(st))
		}
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(counts.WebhooksPending))
}

// get returns the counts, asking the store when the last answer is older than ttl.
func (c *queueCollector) get() (store.LiveCounts, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < c.ttl {
		return c.last, c.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.last, c.err = c.counts.LiveCounts(ctx)
	c.at = time.Now()
	return c.last, c.err
}

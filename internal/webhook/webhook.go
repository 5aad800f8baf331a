// Package webhook delivers task events to callback URLs: at least once, signed
// per Standard Webhooks, from the outbox the store fills with every status
// change (store.WebhookStore).
//
// The Dispatcher claims due messages under leases (like the scheduler claims
// tasks, so several instances share the work and a dead one's messages are
// taken over), POSTs each with a per-attempt timeout from a bounded pool of
// workers, and records every attempt. A message is delivered by a 2xx answer
// only; a redirect is not followed (it counts as a failure); 410 Gone stops
// every pending message to that endpoint; Retry-After is honoured; otherwise
// the retry schedule is DefaultSchedule with jitter. A receiver (scheme, host
// and port: URLs differing in path or query are one receiver) that is slow or
// dead holds at most PerEndpoint workers, and one tenant's deliveries at most
// PerTenant, so neither delays other tenants' events; task processing never
// waits for any receiver.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/claimloop"
	"github.com/seedgate/seedgate/internal/events"
	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/startstop"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/tracing"
)

// DefaultSchedule is the delay before each attempt: the first at once, then
// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 24 h after the previous one fails
// (8 attempts over about 42 hours).
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 24 * time.Hour}

const (
	maxRetryAfter   = 24 * time.Hour
	responseSnippet = 1 << 10
	drainLimit      = 64 << 10
	userAgent       = "seedgate-webhooks/1"
)

// Config wires a Dispatcher.
type Config struct {
	// Archetype is the logger and the clock for due times, leases and
	// webhook-timestamp (app's; tests inject a fake clock).
	baseservice.Archetype
	Store store.WebhookStore
	// HTTP posts the messages; NewClient makes the right one (SSRF-guarded, no redirects).
	HTTP *http.Client
	// Render turns a message into its body; send false skips it (the task's
	// dialect announces no event for that status).
	Render func(m *store.WebhookMessage) (body []byte, send bool, err error)
	// Hub, when set, wakes the dispatcher on every task change (a change may
	// have queued a message); without it new messages wait for PollInterval.
	Hub   *events.Hub
	Owner string // names this instance in leases
	// Workers bounds concurrent deliveries (default 8); PerEndpoint bounds those
	// to one receiver (store.WebhookEndpoint; default 2), PerTenant those of one
	// tenant (default half the workers, at least PerEndpoint+1), so that one tenant's slow receivers
	// leave workers for the others. Both count this instance's deliveries.
	Workers     int
	PerEndpoint int
	PerTenant   int
	// AttemptTimeout bounds one POST, connecting and reading the answer included (default 10 s).
	AttemptTimeout time.Duration
	// Lease is how long a claimed message stays with this instance (default 2×AttemptTimeout + 5 s).
	Lease        time.Duration
	PollInterval time.Duration // default 1 s
	Schedule     []time.Duration
	// Jitter spreads a retry delay (default ±10 %).
	Jitter func(time.Duration) time.Duration
	// SecretOverlap is how long a rotated-out secret keeps signing (default 24 h).
	SecretOverlap time.Duration
}

// Dispatcher delivers the outbox. Start/Stop like every background service.
type Dispatcher struct {
	c     Config
	log   *slog.Logger
	run   startstop.Base
	loop  *claimloop.Loop
	spans tracing.Steps

	mu      sync.Mutex
	busy    map[string]int // in-flight deliveries per endpoint
	tenants map[string]int // in-flight deliveries per tenant
}

// New returns a stopped Dispatcher.
func New(c Config) *Dispatcher {
	c.Archetype = c.Archetype.WithDefaults()
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.PerEndpoint <= 0 {
		c.PerEndpoint = 2
	}
	if c.PerTenant <= 0 {
		// Room for one more receiver than a saturated one, half the workers
		// when that is more: a tenant's one slow receiver does not stall its
		// other receivers, and a tenant's many leave workers for the others.
		c.PerTenant = min(c.Workers, max(c.PerEndpoint+1, c.Workers/2))
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 10 * time.Second
	}
	if c.Lease <= 0 {
		// An attempt is recorded as soon as it ends, within AttemptTimeout: a
		// lease older than twice that belongs to a dead instance.
		c.Lease = 2*c.AttemptTimeout + 5*time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if len(c.Schedule) == 0 {
		c.Schedule = DefaultSchedule
	}
	if c.Jitter == nil {
		c.Jitter = tenPercent
	}
	if c.SecretOverlap <= 0 {
		c.SecretOverlap = 24 * time.Hour
	}
	if c.HTTP == nil {
		c.HTTP = NewClient(nil, c.AttemptTimeout)
	}
	if c.Owner == "" {
		c.Owner = "webhook-" + strconv.FormatInt(rand.Int64(), 36)
	}
	d := &Dispatcher{c: c, log: c.Logger.With("component", "webhooks"), busy: map[string]int{}, tenants: map[string]int{},
		spans: tracing.NewSteps(c.TracerProvider)}
	d.loop = claimloop.New(claimloop.Config{Workers: c.Workers, PollInterval: c.PollInterval, Clock: c.Clock,
		Claim: d.claim, Sleep: d.sleep})
	return d
}

// NewClient returns the client for callback URLs: the SSRF-guarded safehttp
// client (public addresses only, but for allowPrivate) that never follows a
// redirect (the 3xx answer is the result).
func NewClient(allowPrivate []netip.Prefix, timeout time.Duration) *http.Client {
	c := safehttp.New(safehttp.Options{AllowPrivate: allowPrivate, Timeout: timeout})
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func tenPercent(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d - d/10 + time.Duration(rand.Int64N(int64(d/5)+1))
}

// Wake makes the loop look for due messages now.
func (d *Dispatcher) Wake() { d.loop.Wake() }

// Start runs the delivery loop until Stop; starting a running dispatcher does nothing.
func (d *Dispatcher) Start(ctx context.Context) {
	run := []func(context.Context){d.loop.Run}
	if d.c.Hub != nil {
		run = append(run, d.wakeOnChanges)
	}
	d.run.Go(ctx, run...)
}

// Stop stops claiming and waits, until ctx ends, for deliveries in flight.
// Messages still in flight then are retried after their lease expires.
// Stopping a stopped dispatcher does nothing.
func (d *Dispatcher) Stop(ctx context.Context) error {
	if err := d.run.Stop(ctx); err != nil {
		return fmt.Errorf("webhooks stop: %w", err)
	}
	return nil
}

// wakeOnChanges wakes the loop on every task change until ctx ends.
func (d *Dispatcher) wakeOnChanges(ctx context.Context) {
	changes, stop := d.c.Hub.SubscribeAll()
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
			d.Wake()
		}
	}
}

// claim claims due messages for free worker slots (claimloop.Config.Claim).
func (d *Dispatcher) claim(ctx context.Context, now time.Time, free int) (claimed int, more bool) {
	skip := d.skip()
	ms, err := d.c.Store.ClaimWebhooks(ctx, d.c.Owner, now, d.c.Lease, free, skip)
	if err != nil && ctx.Err() == nil {
		d.log.Error("claiming webhook messages failed", "err", err)
	}
	held := 0
	for _, m := range ms {
		if !d.hold(m, 1) {
			d.release(ctx, m) // one batch may hold more for a receiver or tenant than allowed
			continue
		}
		held++
		d.loop.Go(func() {
			defer d.hold(m, -1)
			d.deliver(ctx, m)
		})
	}
	// Claim again at once when the slots were filled, or when this batch
	// saturated a receiver or tenant: the next claim leaves those out and may
	// find other tenants' messages behind them.
	after := d.skip()
	grew := len(after.Endpoints)+len(after.Tenants) > len(skip.Endpoints)+len(skip.Tenants)
	return held, len(ms) > 0 && (len(ms) == free && held > 0 || grew)
}

// hold counts a delivery of m in (n=1) or out (n=-1); it refuses one past
// PerEndpoint for m's receiver or PerTenant for its tenant.
func (d *Dispatcher) hold(m *store.WebhookMessage, n int) bool {
	ep := endpoint(m)
	d.mu.Lock()
	defer d.mu.Unlock()
	if n > 0 && (d.busy[ep] >= d.c.PerEndpoint || d.tenants[m.Tenant] >= d.c.PerTenant) {
		return false
	}
	if d.busy[ep] += n; d.busy[ep] <= 0 {
		delete(d.busy, ep)
	}
	if d.tenants[m.Tenant] += n; d.tenants[m.Tenant] <= 0 {
		delete(d.tenants, m.Tenant)
	}
	return true
}

func endpoint(m *store.WebhookMessage) string {
	if m.Endpoint != "" {
		return m.Endpoint
	}
	return store.WebhookEndpoint(m.URL)
}

// release hands a claimed message back untouched (no attempt), for a later claim.
func (d *Dispatcher) release(ctx context.Context, m *store.WebhookMessage) {
	if err := d.c.Store.RecordWebhookAttempt(ctx, d.c.Owner, m, store.WebhookAttempt{}); err != nil && ctx.Err() == nil {
		d.log.WarnContext(ctx, "releasing a webhook message failed; its lease will expire", "message", m.ID, "task", m.TaskID, "err", err)
	}
}

// skip lists the receivers and tenants this instance is as busy with as it may be.
func (d *Dispatcher) skip() store.WebhookSkip {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out store.WebhookSkip
	for ep, n := range d.busy {
		if n >= d.c.PerEndpoint {
			out.Endpoints = append(out.Endpoints, ep)
		}
	}
	for t, n := range d.tenants {
		if n >= d.c.PerTenant {
			out.Tenants = append(out.Tenants, t)
		}
	}
	return out
}

// sleep is how long the loop may wait (claimloop.Config.Sleep).
func (d *Dispatcher) sleep(ctx context.Context) time.Duration {
	// While a receiver or tenant is saturated its due backlog must not make us
	// spin: a finished delivery wakes the loop anyway.
	if sk := d.skip(); len(sk.Endpoints)+len(sk.Tenants) > 0 {
		return max(d.c.PollInterval, time.Second)
	}
	next, err := d.c.Store.NextWebhookDue(ctx)
	if err != nil {
		next = time.Time{}
	}
	return d.loop.Until(next)
}

// outcome is what one attempt decided.
type outcome struct {
	state      store.WebhookState
	retryAfter time.Duration
}

// deliver makes one attempt at m and records it.
func (d *Dispatcher) deliver(ctx context.Context, m *store.WebhookMessage) {
	now := d.c.Now().UTC()
	log := d.log.With("message", m.ID, "task", m.TaskID, "status", m.Status, "url", m.URL)
	body, send, err := d.c.Render(m)
	switch {
	case err != nil:
		d.record(ctx, log, m, store.WebhookAttempt{N: m.Attempts + 1, StartedAt: now,
			Error: "cannot render the event: " + err.Error()}, outcome{state: store.WebhookFailed})
		return
	case !send:
		d.record(ctx, log, m, store.WebhookAttempt{}, outcome{state: store.WebhookSkipped})
		return
	}
	ctx, span := d.startSpan(ctx, m)
	a, out := d.post(ctx, m, body, now)
	endSpan(span, a, out)
	if ctx.Err() != nil {
		return // stopping: the lease expires and the attempt is made again
	}
	d.record(ctx, log, m, a, out)
}

// post sends m once and classifies the answer.
func (d *Dispatcher) post(ctx context.Context, m *store.WebhookMessage, body []byte, now time.Time) (store.WebhookAttempt, outcome) {
	a := store.WebhookAttempt{N: m.Attempts + 1, StartedAt: now, Manual: m.Attempts >= len(d.c.Schedule)}
	retry := outcome{state: store.WebhookPending}
	sec, err := d.Secret(ctx, m.KeyID)
	if err != nil {
		a.Error = "signing secret unavailable: " + err.Error()
		return a, retry
	}
	sig, err := Sign(sec.Secrets(now), m.ID, now, body)
	if err != nil {
		a.Error = err.Error()
		return a, outcome{state: store.WebhookFailed}
	}
	// Real time, from before the attempt's deadline starts: the duration is the
	// receiver's, whatever the clock says, and a timed-out one is never shorter
	// than the timeout.
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, d.c.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, m.URL, strings.NewReader(string(body)))
	if err != nil {
		a.Error = "invalid callback_url: " + err.Error()
		return a, outcome{state: store.WebhookFailed}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	SetHeaders(req.Header, m.ID, now, sig)
	tracing.Inject(ctx, req.Header) // the receiver may join the task's trace

	resp, err := d.c.HTTP.Do(req)
	if err != nil {
		a.Duration = time.Since(start)
		a.Error = describeError(err)
		if safehttp.IsRefused(err) {
			// Policy, not weather: retrying cannot help.
			return a, outcome{state: store.WebhookFailed}
		}
		return a, retry
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, responseSnippet))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	resp.Body.Close()
	a.Duration = time.Since(start)
	a.StatusCode = resp.StatusCode
	a.ResponseBody = strings.ToValidUTF8(string(snippet), "\uFFFD")
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return a, outcome{state: store.WebhookDelivered}
	case code == http.StatusGone:
		a.Error = "410 Gone: the receiver retired this endpoint; no more retries to it"
		return a, outcome{state: store.WebhookGone}
	case code >= 300 && code <= 399:
		a.Error = fmt.Sprintf("HTTP %d redirect to %q not followed: a webhook counts as delivered only by a 2xx answer", code, resp.Header.Get("Location"))
	default:
		a.Error = fmt.Sprintf("HTTP %d: only a 2xx answer counts as delivered", code)
	}
	retry.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	return a, retry
}

// record writes the attempt and the message's next state.
func (d *Dispatcher) record(ctx context.Context, log *slog.Logger, m *store.WebhookMessage, a store.WebhookAttempt, out outcome) {
	now := d.c.Now().UTC()
	if a.N > 0 {
		m.Attempts = a.N
		m.LastStatusCode, m.LastError = a.StatusCode, a.Error
	}
	m.State, m.UpdatedAt, m.NextAttemptAt = out.state, now, nil
	switch out.state {
	case store.WebhookDelivered:
		m.DeliveredAt = &now
	case store.WebhookPending:
		if m.Attempts >= len(d.c.Schedule) {
			m.State = store.WebhookFailed
			break
		}
		delay := d.c.Jitter(d.c.Schedule[m.Attempts])
		if out.retryAfter > delay {
			delay = min(out.retryAfter, maxRetryAfter)
		}
		next := now.Add(delay)
		m.NextAttemptAt = &next
	}
	if err := d.c.Store.RecordWebhookAttempt(context.WithoutCancel(ctx), d.c.Owner, m, a); err != nil {
		log.WarnContext(ctx, "recording a webhook attempt failed", "err", err)
		return
	}
	switch m.State {
	case store.WebhookDelivered:
		log.DebugContext(ctx, "webhook delivered", "attempt", m.Attempts, "http_status", a.StatusCode)
	case store.WebhookPending:
		log.InfoContext(ctx, "webhook attempt failed, will retry", "attempt", m.Attempts, "next", m.NextAttemptAt, "err", a.Error)
	case store.WebhookFailed, store.WebhookGone:
		log.WarnContext(ctx, "webhook not delivered, giving up", "state", m.State, "attempts", m.Attempts, "err", a.Error)
	}
}

// describeError turns a client error into a sentence for the attempt log.
func describeError(err error) string {
	var re *safehttp.RefusedError
	if errors.As(err, &re) {
		return re.Error() + " (callback URLs must reach a public address; SEEDGATE_ALLOW_PRIVATE_URLS lists exceptions)"
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return "no answer within the attempt timeout"
	}
	return err.Error()
}

// parseRetryAfter reads delta-seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n >= int64(maxRetryAfter/time.Second) { // before multiplying: a huge n would overflow
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// Secret returns the signing secrets of an API key, making its first secret
// when it has none.
func (d *Dispatcher) Secret(ctx context.Context, keyID string) (store.WebhookSecret, error) {
	return d.c.Store.WebhookSecret(ctx, keyID, NewSecret(), d.c.Now().UTC())
}

// RotateSecret gives the key a new secret; the old one keeps signing too for SecretOverlap.
func (d *Dispatcher) RotateSecret(ctx context.Context, keyID string) (store.WebhookSecret, error) {
	return d.c.Store.RotateWebhookSecret(ctx, keyID, NewSecret(), d.c.Now().UTC(), d.c.SecretOverlap)
}

// Deliveries lists a task's messages with their attempts.
func (d *Dispatcher) Deliveries(ctx context.Context, taskID string) ([]*store.WebhookMessage, error) {
	return d.c.Store.ListWebhookMessages(ctx, taskID)
}

// Retry sends a message of taskID again now, whatever its state, under the same webhook-id.
func (d *Dispatcher) Retry(ctx context.Context, taskID, msgID string) (*store.WebhookMessage, error) {
	m, err := d.c.Store.RequeueWebhookMessage(ctx, taskID, msgID, d.c.Now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return nil, task.Errorf(task.CodeNotFound, "delivery_id", "task %s has no delivery %s", taskID, msgID)
	}
	if err != nil {
		return nil, err
	}
	d.Wake()
	return m, nil
}

// Renderer returns a Config.Render that decodes the message's task snapshot,
// passes it through present (result URLs) and renders it with the payload
// function of the dialect the task was created in (fallback for dialects
// without one). A payload function returning nil skips the event.
func Renderer(payloads map[string]func(*task.Task) any, fallback func(*task.Task) any, present func(*task.Task) *task.Task) func(*store.WebhookMessage) ([]byte, bool, error) {
	return func(m *store.WebhookMessage) ([]byte, bool, error) {
		var t task.Task
		if err := json.Unmarshal(m.Snapshot, &t); err != nil {
			return nil, false, fmt.Errorf("task snapshot: %w", err)
		}
		tp := &t
		if present != nil {
			tp = present(tp)
		}
		render := payloads[m.Dialect]
		if render == nil {
			render = fallback
		}
		v := render(tp)
		if v == nil {
			return nil, false, nil
		}
		body, err := json.Marshal(v)
		if err != nil {
			return nil, false, err
		}
		if string(body) == "null" { // a typed nil: no event either
			return nil, false, nil
		}
		return body, true, nil
	}
}

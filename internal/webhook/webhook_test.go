package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/webhook"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// receiver records every request it gets and answers with respond(n) (n from 1).
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []received
	respond func(n int, w http.ResponseWriter)
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter)) *receiver {
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{header: r.Header.Clone(), body: body})
		n := len(rc.reqs)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

type bundle struct {
	store store.Store
	// clock is moved by hand: retry delays of minutes and hours pass instantly.
	clock *clockwork.FakeClock
	d     *webhook.Dispatcher

	mu     sync.Mutex
	claims []claim
	claim  chan struct{} // a claim was made
}

type claim struct {
	now time.Time
	n   int
}

func setup(t *testing.T, mod func(c *webhook.Config)) *bundle {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "seedgate.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	clk := clockwork.NewFakeClockAt(time.Now().UTC().Truncate(time.Millisecond))
	payload := func(tk *task.Task) any { return map[string]any{"id": tk.ID, "status": tk.Status} }
	c := webhook.Config{
		Store:          st,
		HTTP:           webhook.NewClient(loopback, 2*time.Second),
		Render:         webhook.Renderer(map[string]func(*task.Task) any{"jobs": payload}, payload, nil),
		Archetype:      baseservice.Archetype{Clock: clk},
		PollInterval:   5 * time.Millisecond,
		AttemptTimeout: 2 * time.Second,
		Jitter:         func(d time.Duration) time.Duration { return d },
	}
	if mod != nil {
		mod(&c)
	}
	d := webhook.New(c)
	b := &bundle{store: st, clock: clk, d: d, claim: make(chan struct{}, 1)}
	d.OnClaimed(func(now time.Time, n int) {
		b.mu.Lock()
		b.claims = append(b.claims, claim{now, n})
		b.mu.Unlock()
		select {
		case b.claim <- struct{}{}:
		default:
		}
	})
	d.Start(context.Background())
	d.Start(context.Background()) // does nothing: one loop
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, d.Stop(ctx))
		require.NoError(t, d.Stop(ctx), "a second Stop does nothing")
	})
	return b
}

// claimedAt wakes the dispatcher and waits for a claim for the clock's
// present time; it returns how many messages that claim took.
func (b *bundle) claimedAt(t *testing.T) int {
	t.Helper()
	now := b.clock.Now()
	b.d.Wake()
	deadline := time.After(30 * time.Second)
	for {
		b.mu.Lock()
		for _, c := range b.claims {
			if !c.now.Before(now) {
				b.mu.Unlock()
				return c.n
			}
		}
		b.mu.Unlock()
		select {
		case <-b.claim:
		case <-deadline:
			t.Fatal("no claim after a wake-up")
		}
	}
}

// addTask stores a task with a callback_url: its queued event is in the outbox.
func (b *bundle) addTask(t *testing.T, id, url string) *task.Task {
	t.Helper()
	now := b.clock.Now()
	tk := &task.Task{ID: id, Dialect: "jobs", Model: "seedance-1-0-pro", ModelAlias: "seedance-1-0-pro",
		Status: task.StatusQueued, Request: task.Request{Prompt: "p", CallbackURL: url, KeyID: "static:1"},
		Provider: "sandbox", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour), NextCheckAt: &now}
	require.NoError(t, b.store.CreateTask(context.Background(), tk))
	b.d.Wake()
	return tk
}

// addTenantTask is addTask for a task of tenant.
func (b *bundle) addTenantTask(t *testing.T, id, tenant, url string) *task.Task {
	t.Helper()
	now := b.clock.Now()
	tk := &task.Task{ID: id, Tenant: tenant, Dialect: "jobs", Model: "seedance-1-0-pro", ModelAlias: "seedance-1-0-pro",
		Status: task.StatusQueued, Request: task.Request{Prompt: "p", CallbackURL: url, KeyID: "static:1"},
		Provider: "sandbox", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour), NextCheckAt: &now}
	require.NoError(t, b.store.CreateTask(context.Background(), tk))
	b.d.Wake()
	return tk
}

func (b *bundle) deliveries(t *testing.T, id string) []*store.WebhookMessage {
	t.Helper()
	ms, err := b.d.Deliveries(context.Background(), id)
	require.NoError(t, err)
	return ms
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitAttempts waits until the task's first message has n attempts recorded.
func (b *bundle) waitAttempts(t *testing.T, id string, n int) *store.WebhookMessage {
	t.Helper()
	var m *store.WebhookMessage
	eventually(t, "attempt "+string(rune('0'+n)), func() bool {
		ms := b.deliveries(t, id)
		if len(ms) == 0 {
			return false
		}
		m = ms[0]
		return len(m.History) >= n && m.LeaseOwner == ""
	})
	return m
}

func TestFailsThreeTimesThenDeliveredWithSameIDAndVerifiableSignature(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n <= 3 {
			http.Error(w, "not yet", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	b := setup(t, nil)
	b.addTask(t, "cgt-retry", rc.srv.URL+"/hook")

	m := b.waitAttempts(t, "cgt-retry", 1)
	require.Equal(t, store.WebhookPending, m.State)
	require.True(t, m.NextAttemptAt.Equal(b.clock.Now().Add(5*time.Second)), "second attempt 5 s later, got %s", m.NextAttemptAt)

	b.clock.Advance(4 * time.Second)
	require.Zero(t, b.claimedAt(t), "not before the schedule says")
	require.Len(t, rc.got(), 1)

	b.clock.Advance(time.Second)
	b.d.Wake()
	m = b.waitAttempts(t, "cgt-retry", 2)
	require.True(t, m.NextAttemptAt.Equal(b.clock.Now().Add(5*time.Minute)), "third attempt 5 min later")
	b.clock.Advance(5 * time.Minute)
	b.d.Wake()
	m = b.waitAttempts(t, "cgt-retry", 3)
	require.True(t, m.NextAttemptAt.Equal(b.clock.Now().Add(30*time.Minute)), "fourth attempt 30 min later")
	b.clock.Advance(30 * time.Minute)
	b.d.Wake()
	m = b.waitAttempts(t, "cgt-retry", 4)
	require.Equal(t, store.WebhookDelivered, m.State)
	require.Equal(t, []int{500, 500, 500, 204}, []int{m.History[0].StatusCode, m.History[1].StatusCode, m.History[2].StatusCode, m.History[3].StatusCode})
	require.Contains(t, m.History[0].ResponseBody, "not yet")

	reqs := rc.got()
	require.Len(t, reqs, 4)
	sec, err := b.d.Secret(context.Background(), "static:1")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(sec.Secret, "whsec_"))
	wh, err := standardwebhooks.NewWebhook(sec.Secret)
	require.NoError(t, err)
	for i, r := range reqs {
		require.Equal(t, m.ID, r.header.Get("webhook-id"), "attempt %d: the same webhook-id on every attempt", i+1)
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		require.NoError(t, wh.VerifyIgnoringTimestamp(r.body, r.header), "attempt %d", i+1)
		var body map[string]any
		require.NoError(t, json.Unmarshal(r.body, &body))
		require.Equal(t, "cgt-retry", body["id"])
		require.Equal(t, "queued", body["status"])
	}
	// The first attempt went out at the real time: the full check (timestamp tolerance) passes too.
	require.NoError(t, wh.Verify(reqs[0].body, reqs[0].header))
	// The last one carries the time it was sent (36 min 5 s of fake time later).
	require.Equal(t, b.clock.Now().Unix(), mustInt(t, reqs[3].header.Get("webhook-timestamp")))

	// A signature made with another secret does not verify.
	other, _ := standardwebhooks.NewWebhook(webhook.NewSecret())
	require.Error(t, other.VerifyIgnoringTimestamp(reqs[3].body, reqs[3].header))
}

func mustInt(t *testing.T, s string) int64 {
	var n int64
	require.NoError(t, json.Unmarshal([]byte(s), &n))
	return n
}

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	target := newReceiver(t, nil)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) {
		w.Header().Set("Location", target.srv.URL+"/elsewhere")
		w.WriteHeader(http.StatusFound)
	})
	b := setup(t, nil)
	b.addTask(t, "cgt-redirect", rc.srv.URL)
	m := b.waitAttempts(t, "cgt-redirect", 1)
	require.Equal(t, store.WebhookPending, m.State, "a redirect is a failed attempt, retried later")
	require.Equal(t, 302, m.History[0].StatusCode)
	require.Contains(t, m.History[0].Error, "not followed")
	// A followed redirect would have reached the target within the attempt.
	require.Empty(t, target.got(), "the redirect target is never called")
}

func TestGoneStopsRetriesForThatEndpoint(t *testing.T) {
	t.Parallel()
	var gone sync.Mutex
	gone.Lock() // the first answer waits until the second message is queued
	rc := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			gone.Lock()
			gone.Unlock()
		}
		w.WriteHeader(http.StatusGone)
	})
	b := setup(t, func(c *webhook.Config) { c.PerEndpoint = 1 })
	b.addTask(t, "cgt-gone-1", rc.srv.URL)
	eventually(t, "first POST", func() bool { return len(rc.got()) == 1 })
	b.addTask(t, "cgt-gone-2", rc.srv.URL) // waits: the endpoint is busy
	gone.Unlock()

	m := b.waitAttempts(t, "cgt-gone-1", 1)
	require.Equal(t, store.WebhookGone, m.State)
	require.Nil(t, m.NextAttemptAt)
	eventually(t, "the other message to the endpoint stopped", func() bool {
		ms := b.deliveries(t, "cgt-gone-2")
		return len(ms) == 1 && ms[0].State == store.WebhookGone
	})
	require.Empty(t, b.deliveries(t, "cgt-gone-2")[0].History, "stopped without an attempt of its own")
	b.clock.Advance(48 * time.Hour)
	require.Zero(t, b.claimedAt(t), "no retries to a gone endpoint")
	require.Len(t, rc.got(), 1)
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	b := setup(t, nil)
	b.addTask(t, "cgt-busy", rc.srv.URL)
	m := b.waitAttempts(t, "cgt-busy", 1)
	require.True(t, m.NextAttemptAt.Equal(b.clock.Now().Add(time.Hour)), "Retry-After: 3600 beats the 5 s step; got %s", m.NextAttemptAt.Sub(b.clock.Now()))
}

func TestExhaustedScheduleFails(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) })
	b := setup(t, nil)
	b.addTask(t, "cgt-dead", rc.srv.URL)
	for n := 1; n <= len(webhook.DefaultSchedule); n++ {
		m := b.waitAttempts(t, "cgt-dead", n)
		if n < len(webhook.DefaultSchedule) {
			require.Equal(t, store.WebhookPending, m.State)
			require.True(t, m.NextAttemptAt.Equal(b.clock.Now().Add(webhook.DefaultSchedule[n])), "after attempt %d", n)
			b.clock.Advance(webhook.DefaultSchedule[n])
			b.d.Wake()
			continue
		}
		require.Equal(t, store.WebhookFailed, m.State)
		require.Nil(t, m.NextAttemptAt)
	}
	require.Len(t, rc.got(), 8)

	// A manual retry sends it once more, under the same webhook-id.
	ms := b.deliveries(t, "cgt-dead")
	_, err := b.d.Retry(context.Background(), "cgt-dead", ms[0].ID)
	require.NoError(t, err)
	m := b.waitAttempts(t, "cgt-dead", 9)
	require.Equal(t, store.WebhookFailed, m.State)
	require.True(t, m.History[8].Manual)
	reqs := rc.got()
	require.Len(t, reqs, 9)
	require.Equal(t, ms[0].ID, reqs[8].header.Get("webhook-id"))

	_, err = b.d.Retry(context.Background(), "cgt-dead", "msg_unknown")
	require.Equal(t, task.CodeNotFound, task.AsError(err).Code)
}

func TestPrivateDestinationsRefused(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	port := rc.srv.URL[strings.LastIndex(rc.srv.URL, ":")+1:]
	b := setup(t, func(c *webhook.Config) { c.HTTP = webhook.NewClient(nil, time.Second) })
	cases := map[string]string{
		"cgt-p1": "http://127.0.0.1:" + port + "/",
		"cgt-p2": "http://localhost:" + port + "/", // a name resolving to loopback
		"cgt-p3": "http://10.0.0.1/",
		"cgt-p4": "http://169.254.169.254/latest/meta-data/",
		"cgt-p5": "http://[::1]:" + port + "/",
	}
	for id, u := range cases {
		b.addTask(t, id, u)
	}
	for id, u := range cases {
		m := b.waitAttempts(t, id, 1)
		require.Equal(t, store.WebhookFailed, m.State, "%s: refused for good, no retries", u)
		require.Contains(t, m.History[0].Error, "refused: ", u)
		require.Contains(t, m.History[0].Error, "SEEDGATE_ALLOW_PRIVATE_URLS", u)
	}
	require.Empty(t, rc.got())
	m := b.deliveries(t, "cgt-p4")[0]
	require.Contains(t, m.LastError, "169.254.169.254 is a cloud metadata address")
}

func TestSlowReceiverDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := newReceiver(t, func(_ int, w http.ResponseWriter) { <-release })
	t.Cleanup(func() { close(release) })
	fast := newReceiver(t, nil)
	b := setup(t, func(c *webhook.Config) { c.Workers = 4; c.PerEndpoint = 2; c.AttemptTimeout = 10 * time.Second })
	for _, id := range []string{"cgt-s1", "cgt-s2", "cgt-s3", "cgt-s4", "cgt-s5", "cgt-s6"} {
		b.addTask(t, id, slow.srv.URL)
	}
	eventually(t, "the slow receiver holds its share of workers", func() bool { return len(slow.got()) == 2 })
	b.addTask(t, "cgt-fast", fast.srv.URL)
	m := b.waitAttempts(t, "cgt-fast", 1)
	// The slow receiver answers nothing until the test ends.
	require.Equal(t, store.WebhookDelivered, m.State, "delivered while the slow receiver hangs")
	require.Len(t, slow.got(), 2, "at most PerEndpoint deliveries to one endpoint at a time")
}

func TestSlowReceiverTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := newReceiver(t, func(_ int, w http.ResponseWriter) { <-release })
	t.Cleanup(func() { close(release) })
	// The client would wait an hour: only the attempt timeout ends the POST.
	b := setup(t, func(c *webhook.Config) {
		c.AttemptTimeout = 200 * time.Millisecond
		c.HTTP = webhook.NewClient(loopback, time.Hour)
	})
	b.addTask(t, "cgt-timeout", slow.srv.URL)
	m := b.waitAttempts(t, "cgt-timeout", 1)
	require.Equal(t, store.WebhookPending, m.State)
	require.Contains(t, m.History[0].Error, "timeout")
	require.GreaterOrEqual(t, m.History[0].Duration, 200*time.Millisecond)
}

func TestRotationSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	b := setup(t, nil)
	ctx := context.Background()
	old, err := b.d.Secret(ctx, "static:1")
	require.NoError(t, err)
	rotated, err := b.d.RotateSecret(ctx, "static:1")
	require.NoError(t, err)
	require.NotEqual(t, old.Secret, rotated.Secret)
	require.Equal(t, old.Secret, rotated.Previous)

	b.addTask(t, "cgt-rot", rc.srv.URL)
	b.waitAttempts(t, "cgt-rot", 1)
	r := rc.got()[0]
	require.Len(t, strings.Fields(r.header.Get("webhook-signature")), 2, "two signatures during the overlap")
	for _, s := range []string{old.Secret, rotated.Secret} {
		wh, err := standardwebhooks.NewWebhook(s)
		require.NoError(t, err)
		require.NoError(t, wh.Verify(r.body, r.header))
	}
	// After the overlap only the new secret signs.
	b.clock.Advance(25 * time.Hour)
	b.addTask(t, "cgt-rot2", rc.srv.URL)
	b.waitAttempts(t, "cgt-rot2", 1)
	r = rc.got()[1]
	require.Len(t, strings.Fields(r.header.Get("webhook-signature")), 1)
	wh, _ := standardwebhooks.NewWebhook(old.Secret)
	require.Error(t, wh.VerifyIgnoringTimestamp(r.body, r.header))
}

func TestSkippedEvents(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	b := setup(t, func(c *webhook.Config) {
		// Like the seedance dialect: only finished tasks are announced.
		c.Render = webhook.Renderer(nil, func(tk *task.Task) any {
			if !tk.Status.Terminal() {
				return nil
			}
			return map[string]any{"id": tk.ID}
		}, nil)
	})
	b.addTask(t, "cgt-skip", rc.srv.URL)
	eventually(t, "skipped", func() bool {
		ms := b.deliveries(t, "cgt-skip")
		return len(ms) == 1 && ms[0].State == store.WebhookSkipped
	})
	require.Empty(t, b.deliveries(t, "cgt-skip")[0].History)
	require.Empty(t, rc.got())
}

// BenchmarkDelivery measures the outbox end to end on one SQLite file: a task
// write that queues a message, the claim, the signed POST to a local receiver
// and the recorded attempt.
func BenchmarkDelivery(b *testing.B) {
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "seedgate.db"), nil)
	require.NoError(b, err)
	defer st.Close()
	payload := func(tk *task.Task) any { return map[string]any{"id": tk.ID, "status": tk.Status} }
	d := webhook.New(webhook.Config{Store: st, HTTP: webhook.NewClient(loopback, 5*time.Second),
		Render: webhook.Renderer(nil, payload, nil), PollInterval: time.Millisecond})
	d.Start(context.Background())
	defer func() { _ = d.Stop(context.Background()) }()
	now := time.Now()
	n := 0
	for b.Loop() {
		n++
		tk := &task.Task{ID: fmt.Sprintf("cgt-bench-%d", n), Dialect: "jobs", Model: "seedance-1-0-pro", Status: task.StatusQueued,
			Request: task.Request{Prompt: "p", CallbackURL: srv.URL, KeyID: "k"}, Provider: "sandbox",
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
		require.NoError(b, st.CreateTask(context.Background(), tk))
		d.Wake()
	}
	for received.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
}

// One tenant's slow receivers, reached through many URLs that differ only in
// their query and through several hosts, must not hold every worker: another
// tenant's event goes out at once.
func TestSlowTenantDoesNotDelayOtherTenants(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var slows []*receiver
	for range 3 {
		slows = append(slows, newReceiver(t, func(_ int, w http.ResponseWriter) { <-release }))
	}
	t.Cleanup(func() { close(release) })
	arrived := make(chan struct{}, 1)
	fast := newReceiver(t, func(_ int, w http.ResponseWriter) {
		select {
		case arrived <- struct{}{}:
		default:
		}
	})
	// An attempt would wait a minute for the slow receivers: only fair
	// sharing lets the fast one through within the bound below.
	b := setup(t, func(c *webhook.Config) {
		c.Workers, c.PerEndpoint, c.AttemptTimeout = 4, 2, time.Minute
		c.HTTP = webhook.NewClient(loopback, time.Minute)
	})
	hung := func() int {
		n := 0
		for _, s := range slows {
			n += len(s.got())
		}
		return n
	}
	for i := range 12 {
		b.addTenantTask(t, fmt.Sprintf("cgt-a%d", i), "ta", fmt.Sprintf("%s/hook?n=%d", slows[i%3].srv.URL, i))
	}
	eventually(t, "the slow tenant holds its share of workers", func() bool { return hung() >= 3 })
	start := time.Now()
	b.addTenantTask(t, "cgt-b", "tb", fast.srv.URL+"/hook")
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatalf("tenant tb's event did not arrive while tenant ta's receivers hang (%d of ta's deliveries in flight)", hung())
	}
	t.Logf("tb's event arrived %s after its task was stored", time.Since(start).Round(time.Millisecond))
	for _, s := range slows {
		require.LessOrEqual(t, len(s.got()), 2, "at most PerEndpoint deliveries to one receiver, whatever the query")
	}
	require.LessOrEqual(t, hung(), 3, "at most PerTenant (here PerEndpoint+1) deliveries of one tenant")
}

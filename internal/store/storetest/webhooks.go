package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// webhookTests cover store.WebhookStore: the outbox written with status
// changes, attempts and leases, secrets, idempotency records.
var webhookTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store, w store.Store)
}{
	{"WebhookOutboxWithStatusChanges", testWebhookOutbox},
	{"WebhookOutboxLostUpdateWritesNothing", testWebhookOutboxConflict},
	{"WebhookAttempts", testWebhookAttempts},
	{"WebhookGoneStopsEndpoint", testWebhookGone},
	{"WebhookRequeue", testWebhookRequeue},
	{"WebhookClaimConcurrent", testWebhookClaimConcurrent},
	{"WebhookClaimSkipsEndpointsAndTenants", testWebhookClaimSkips},
	{"WebhookSecretRotation", testWebhookSecret},
	{"Idempotency", testIdempotency},
	{"IdempotencyConcurrentBegin", testIdempotencyConcurrent},
}

func callbackTask(id, url string) *task.Task {
	tk := newTask(id)
	tk.Request.CallbackURL = url
	tk.Request.KeyID = "key-1"
	return tk
}

func testWebhookOutbox(t *testing.T, s store.Store, w store.Store) {
	ctx := t.Context()
	create(t, s, newTask("cgt-silent"), callbackTask("cgt-hook", "https://example.com/hook"))

	msgs, err := w.ListWebhookMessages(ctx, "cgt-silent")
	require.NoError(t, err)
	require.Empty(t, msgs, "no callback_url, no events")

	msgs, err = w.ListWebhookMessages(ctx, "cgt-hook")
	require.NoError(t, err)
	require.Len(t, msgs, 1, "creating is the first event (queued)")
	m := msgs[0]
	require.Regexp(t, `^msg_`, m.ID)
	require.Equal(t, task.StatusQueued, m.Status)
	require.Equal(t, store.WebhookPending, m.State)
	require.Equal(t, "key-1", m.KeyID)
	require.Equal(t, "tenant-a", m.Tenant)
	require.Equal(t, "ark", m.Dialect)
	require.Equal(t, "https://example.com/hook", m.URL)
	require.EqualValues(t, 1, m.TaskVersion)
	require.NotNil(t, m.NextAttemptAt)
	require.True(t, m.NextAttemptAt.Equal(msTime(base)), "due right away (at the change)")
	require.Empty(t, m.History)

	// A write that keeps the status (progress, lease) is no event; a status change is.
	tk := get(t, s, "cgt-hook")
	tk.Progress = 10
	require.NoError(t, s.UpdateTask(ctx, tk))
	tk.Status = task.StatusRunning
	tk.UpdatedAt = base.Add(time.Second)
	require.NoError(t, s.UpdateTask(ctx, tk))
	tk.Progress = 50
	require.NoError(t, s.UpdateTask(ctx, tk))

	msgs, err = w.ListWebhookMessages(ctx, "cgt-hook")
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	require.Equal(t, task.StatusRunning, msgs[1].Status)
	require.EqualValues(t, 3, msgs[1].TaskVersion)
	var snap task.Task
	require.NoError(t, json.Unmarshal(msgs[1].Snapshot, &snap))
	require.Equal(t, task.StatusRunning, snap.Status)
	require.Equal(t, 10, snap.Progress, "the snapshot is the task as written with the change")
	require.Equal(t, "https://example.com/hook", snap.Request.CallbackURL)

	due, err := w.NextWebhookDue(ctx)
	require.NoError(t, err)
	require.True(t, due.Equal(msTime(base)))
}

func testWebhookOutboxConflict(t *testing.T, s store.Store, w store.Store) {
	ctx := t.Context()
	create(t, s, callbackTask("cgt-race", "https://example.com/hook"))
	a, b := get(t, s, "cgt-race"), get(t, s, "cgt-race")
	a.Status = task.StatusCancelled
	require.NoError(t, s.UpdateTask(ctx, a))
	b.Status = task.StatusRunning
	require.ErrorIs(t, s.UpdateTask(ctx, b), store.ErrConflict)

	msgs, err := w.ListWebhookMessages(ctx, "cgt-race")
	require.NoError(t, err)
	require.Len(t, msgs, 2, "the losing write records no event")
	require.Equal(t, task.StatusCancelled, msgs[1].Status)
}

func claimAll(t *testing.T, w store.Store, owner string, now time.Time) []*store.WebhookMessage {
	t.Helper()
	ms, err := w.ClaimWebhooks(t.Context(), owner, now, time.Minute, 100, store.WebhookSkip{})
	require.NoError(t, err)
	return ms
}

func testWebhookAttempts(t *testing.T, s store.Store, w store.Store) {
	ctx := t.Context()
	create(t, s, callbackTask("cgt-a", "https://example.com/a"))
	now := base.Add(time.Second)

	got := claimAll(t, w, "w1", now)
	require.Len(t, got, 1)
	m := got[0]
	require.Equal(t, "w1", m.LeaseOwner)
	require.Empty(t, claimAll(t, w, "w2", now), "a leased message is not handed out twice")

	// First attempt fails: pending again, due in 5 s.
	next := now.Add(5 * time.Second)
	m.Attempts, m.State, m.NextAttemptAt = 1, store.WebhookPending, &next
	m.LastStatusCode, m.LastError, m.UpdatedAt = 500, "HTTP 500", now
	a1 := store.WebhookAttempt{N: 1, StartedAt: now, Duration: 42 * time.Millisecond, StatusCode: 500,
		Error: "HTTP 500", ResponseBody: "oops"}
	require.ErrorIs(t, w.RecordWebhookAttempt(ctx, "w2", m, a1), store.ErrConflict, "only the lease holder writes the state")
	require.NoError(t, w.RecordWebhookAttempt(ctx, "w1", m, a1))

	require.Empty(t, claimAll(t, w, "w1", now.Add(4*time.Second)), "not due yet")
	got = claimAll(t, w, "w1", next)
	require.Len(t, got, 1)
	m = got[0]
	require.Equal(t, 1, m.Attempts)
	require.Equal(t, 500, m.LastStatusCode)

	later := next.Add(time.Second)
	m.Attempts, m.State, m.NextAttemptAt, m.DeliveredAt = 2, store.WebhookDelivered, nil, &later
	m.LastStatusCode, m.LastError, m.UpdatedAt = 204, "", later
	require.NoError(t, w.RecordWebhookAttempt(ctx, "w1", m,
		store.WebhookAttempt{N: 2, StartedAt: later, Duration: time.Millisecond, StatusCode: 204}))

	msgs, err := w.ListWebhookMessages(ctx, "cgt-a")
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	m = msgs[0]
	require.Equal(t, store.WebhookDelivered, m.State)
	require.Nil(t, m.NextAttemptAt)
	require.True(t, m.DeliveredAt.Equal(msTime(later)))
	require.Empty(t, m.LeaseOwner)
	require.Len(t, m.History, 2)
	require.Equal(t, 500, m.History[0].StatusCode)
	require.Equal(t, "oops", m.History[0].ResponseBody)
	require.Equal(t, 42*time.Millisecond, m.History[0].Duration)
	require.Equal(t, 204, m.History[1].StatusCode)
	require.Empty(t, claimAll(t, w, "w1", later.Add(time.Hour)))
	due, err := w.NextWebhookDue(ctx)
	require.NoError(t, err)
	require.True(t, due.IsZero())
}

func testWebhookGone(t *testing.T, s store.Store, w store.Store) {
	ctx := t.Context()
	other := callbackTask("cgt-g3", "https://example.com/other")
	create(t, s, callbackTask("cgt-g1", "https://example.com/gone"), callbackTask("cgt-g2", "https://example.com/gone"), other)
	now := base.Add(time.Second)
	ms := claimAll(t, w, "w", now)
	require.Len(t, ms, 3)
	var first *store.WebhookMessage
	for _, m := range ms {
		if m.TaskID == "cgt-g1" {
			first = m
		}
	}
	first.Attempts, first.State, first.NextAttemptAt, first.LastStatusCode, first.UpdatedAt = 1, store.WebhookGone, nil, 410, now
	require.NoError(t, w.RecordWebhookAttempt(ctx, "w", first, store.WebhookAttempt{N: 1, StartedAt: now, StatusCode: 410}))

	for id, want := range map[string]store.WebhookState{"cgt-g1": store.WebhookGone, "cgt-g2": store.WebhookGone, "cgt-g3": store.WebhookPending} {
		msgs, err := w.ListWebhookMessages(ctx, id)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		require.Equal(t, want, msgs[0].State, id)
	}
}

func testWebhookRequeue(t *testing.T, s store.Store, w store.Store) {
	ctx := t.Context()
	create(t, s, callbackTask("cgt-r", "https://example.com/r"))
	now := base.Add(time.Minute)
	m := claimAll(t, w, "w", now)[0]
	m.Attempts, m.State, m.NextAttemptAt, m.UpdatedAt = 8, store.WebhookFailed, nil, now
	require.NoError(t, w.RecordWebhookAttempt(ctx, "w", m, store.WebhookAttempt{N: 8, StartedAt: now, Error: "timeout"}))
	require.Empty(t, claimAll(t, w, "w", now.Add(time.Hour)))

	_, err := w.RequeueWebhookMessage(ctx, "cgt-other", m.ID, now)
	require.ErrorIs(t, err, store.ErrNotFound, "a message is addressed through its own task")
	_, err = w.RequeueWebhookMessage(ctx, "cgt-r", "msg_nope", now)
	require.ErrorIs(t, err, store.ErrNotFound)

	again := now.Add(2 * time.Hour)
	r, err := w.RequeueWebhookMessage(ctx, "cgt-r", m.ID, again)
	require.NoError(t, err)
	require.Equal(t, store.WebhookPending, r.State)
	require.Equal(t, 8, r.Attempts, "attempts keep counting")
	got := claimAll(t, w, "w", again)
	require.Len(t, got, 1)
	require.Equal(t, m.ID, got[0].ID, "the same webhook-id")
}

func testWebhookClaimConcurrent(t *testing.T, s store.Store, w store.Store) {
	for _, id := range []string{"cgt-c1", "cgt-c2", "cgt-c3", "cgt-c4", "cgt-c5", "cgt-c6"} {
		create(t, s, callbackTask(id, "https://example.com/c"))
	}
	now := base.Add(time.Second)
	seen := make(chan string, 100)
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			ms, err := w.ClaimWebhooks(t.Context(), "w"+string(rune('a'+i)), now, time.Minute, 3, store.WebhookSkip{})
			for _, m := range ms {
				seen <- m.ID
			}
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
	close(seen)
	got := map[string]bool{}
	for id := range seen {
		require.False(t, got[id], "message %s claimed twice", id)
		got[id] = true
	}
	require.Len(t, got, 6)
}

func testWebhookSecret(t *testing.T, s store.Store, w store.Store) {
	ctx := t.Context()
	sec, err := w.WebhookSecret(ctx, "key-1", "whsec_first", base)
	require.NoError(t, err)
	require.Equal(t, "whsec_first", sec.Secret)
	require.Equal(t, []string{"whsec_first"}, sec.Secrets(base))
	sec, err = w.WebhookSecret(ctx, "key-1", "whsec_ignored", base)
	require.NoError(t, err)
	require.Equal(t, "whsec_first", sec.Secret, "the first secret stays")

	other, err := w.WebhookSecret(ctx, "key-2", "whsec_two", base)
	require.NoError(t, err)
	require.Equal(t, "whsec_two", other.Secret, "secrets are per key")

	at := base.Add(time.Hour)
	sec, err = w.RotateWebhookSecret(ctx, "key-1", "whsec_second", at, 24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, "whsec_second", sec.Secret)
	require.Equal(t, "whsec_first", sec.Previous)
	require.Equal(t, []string{"whsec_second", "whsec_first"}, sec.Secrets(at.Add(time.Hour)), "both during the overlap")
	require.Equal(t, []string{"whsec_second"}, sec.Secrets(at.Add(25*time.Hour)), "only the new one after it")
	again, err := w.WebhookSecret(ctx, "key-1", "whsec_x", at)
	require.NoError(t, err)
	require.Equal(t, sec.Secret, again.Secret)
	require.Equal(t, sec.Previous, again.Previous)
	require.True(t, again.PreviousUntil.Equal(msTime(at.Add(24*time.Hour))))

	fresh, err := w.RotateWebhookSecret(ctx, "key-3", "whsec_new", at, time.Hour)
	require.NoError(t, err)
	require.Equal(t, []string{"whsec_new"}, fresh.Secrets(at))
}

func testIdempotency(t *testing.T, s store.Store, w store.Store) {
	ctx := t.Context()
	now := base
	rec := func(key, fp string, at time.Time) *store.IdempotencyRecord {
		return &store.IdempotencyRecord{KeyID: "key-1", Key: key, Fingerprint: fp, CreatedAt: at,
			LockedUntil: at.Add(time.Minute), ExpiresAt: at.Add(24 * time.Hour)}
	}
	got, err := w.BeginIdempotency(ctx, rec("k1", "fp1", now), now)
	require.NoError(t, err)
	require.Nil(t, got, "a new key begins")

	got, err = w.BeginIdempotency(ctx, rec("k1", "fp1", now), now.Add(time.Second))
	require.NoError(t, err)
	require.NotNil(t, got)
	require.False(t, got.Done, "the first request is still running")

	other := rec("k1", "fp1", now)
	other.KeyID = "key-2"
	got, err = w.BeginIdempotency(ctx, other, now)
	require.NoError(t, err)
	require.Nil(t, got, "keys are scoped per API key")

	done := rec("k1", "fp1", now)
	done.Done, done.StatusCode, done.ContentType, done.Body = true, 200, "application/json", []byte(`{"id":"cgt-1"}`)
	require.NoError(t, w.CompleteIdempotency(ctx, done))
	got, err = w.BeginIdempotency(ctx, rec("k1", "fp2", now), now.Add(time.Hour))
	require.NoError(t, err)
	require.NotNil(t, got)
	require.True(t, got.Done)
	require.Equal(t, "fp1", got.Fingerprint)
	require.Equal(t, 200, got.StatusCode)
	require.Equal(t, "application/json", got.ContentType)
	require.Equal(t, `{"id":"cgt-1"}`, string(got.Body))

	// After 24 h the key is free again.
	late := now.Add(25 * time.Hour)
	got, err = w.BeginIdempotency(ctx, rec("k1", "fp3", late), late)
	require.NoError(t, err)
	require.Nil(t, got)

	// An unfinished record whose lock passed was abandoned: it is taken over.
	_, err = w.BeginIdempotency(ctx, rec("k2", "fp", now), now)
	require.NoError(t, err)
	got, err = w.BeginIdempotency(ctx, rec("k2", "fp", now.Add(2*time.Minute)), now.Add(2*time.Minute))
	require.NoError(t, err)
	require.Nil(t, got)

	// Released records can be begun again at once.
	require.NoError(t, w.ReleaseIdempotency(ctx, "key-1", "k2"))
	got, err = w.BeginIdempotency(ctx, rec("k2", "fp", now.Add(2*time.Minute)), now.Add(2*time.Minute))
	require.NoError(t, err)
	require.Nil(t, got)

	err = w.CompleteIdempotency(ctx, rec("k-missing", "fp", now))
	require.True(t, errors.Is(err, store.ErrNotFound), "got %v", err)

	n, err := w.DeleteExpiredIdempotency(ctx, now.Add(48*time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "k1 of key-2 and k2; k1 of key-1 was begun again at +25 h")
}

// Several instances receiving the same Idempotency-Key at once: exactly one
// goes on, the others see its record.
func testIdempotencyConcurrent(t *testing.T, s store.Store, w store.Store) {
	const callers = 8
	now := base
	got := make([]*store.IdempotencyRecord, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			rec := &store.IdempotencyRecord{KeyID: "key-1", Key: "same", Fingerprint: "fp", CreatedAt: now,
				LockedUntil: now.Add(time.Minute), ExpiresAt: now.Add(24 * time.Hour)}
			got[i], errs[i] = w.BeginIdempotency(context.Background(), rec, now)
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	began := 0
	for _, r := range got {
		if r == nil {
			began++
		} else {
			require.False(t, r.Done)
		}
	}
	require.Equal(t, 1, began, "exactly one caller begins the request")
}

// A claim leaves out the receivers (scheme, host and port, whatever the path
// and query) and the tenants it is told to skip.
func testWebhookClaimSkips(t *testing.T, s store.Store, w store.Store) {
	ctx := t.Context()
	a1, a2 := callbackTask("cgt-k1", "https://Slow.example.com/hook?n=1"), callbackTask("cgt-k2", "https://slow.example.com:443/other?n=2")
	b := callbackTask("cgt-k3", "http://fast.example.com/hook")
	b.Tenant = "tb"
	c := callbackTask("cgt-k4", "http://other.example.com:8080/x")
	c.Tenant = "tc"
	create(t, s, a1, a2, b, c)
	now := base.Add(time.Second)
	require.Equal(t, "https://slow.example.com:443", store.WebhookEndpoint(a1.Request.CallbackURL))
	require.Equal(t, store.WebhookEndpoint(a1.Request.CallbackURL), store.WebhookEndpoint(a2.Request.CallbackURL))
	require.Equal(t, "http://fast.example.com:80", store.WebhookEndpoint(b.Request.CallbackURL))

	ms, err := w.ClaimWebhooks(ctx, "w", now, time.Minute, 100,
		store.WebhookSkip{Endpoints: []string{"https://slow.example.com:443"}, Tenants: []string{"tc"}})
	require.NoError(t, err)
	require.Len(t, ms, 1, "messages to a busy receiver and of a busy tenant are left for later")
	require.Equal(t, "cgt-k3", ms[0].TaskID)
	require.Equal(t, "http://fast.example.com:80", ms[0].Endpoint)
	rest := claimAll(t, w, "w", now)
	require.Len(t, rest, 3)
	for _, m := range rest {
		require.Equal(t, store.WebhookEndpoint(m.URL), m.Endpoint)
	}
}

package store

import (
	"context"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// WebhookStore is the webhook outbox and the signing secrets.
//
// The outbox rule (outboxEvent, kept by DB for every driver): CreateTask, and
// UpdateTask when the stored status changes, record a WebhookMessage for the
// task in the same transaction as the write, if the task has a
// Request.CallbackURL. So a status change is never committed without its
// event, whoever wrote it (the scheduler, a cancel, another instance) and
// wherever the process dies.
type WebhookStore interface {
	WebhookQueries
	// RecordWebhookAttempt appends the attempt a (none when a.N is 0) and writes m's
	// State, Attempts, NextAttemptAt, LastStatusCode, LastError, DeliveredAt and
	// UpdatedAt, releasing the lease, in one transaction. ErrConflict (and nothing
	// written) if owner no longer holds the lease. When m.State is
	// WebhookGone every other pending message to the same KeyID and URL is
	// marked gone too: the receiver said the endpoint is no more.
	RecordWebhookAttempt(ctx context.Context, owner string, m *WebhookMessage, a WebhookAttempt) error
}

// WebhookQueries are the webhook methods without a rule.
type WebhookQueries interface {
	// ClaimWebhooks leases up to limit pending messages whose NextAttemptAt <= now
	// and whose lease is free or expired, oldest due first, leaving out messages
	// to the endpoints and of the tenants in skip (those this instance is
	// already as busy with as it may be).
	ClaimWebhooks(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip WebhookSkip) ([]*WebhookMessage, error)
	// NextWebhookDue returns the earliest NextAttemptAt of a pending message (zero if none).
	NextWebhookDue(ctx context.Context) (time.Time, error)
	// ListWebhookMessages returns a task's messages, oldest first, each with its Attempts.
	ListWebhookMessages(ctx context.Context, taskID string) ([]*WebhookMessage, error)
	// RequeueWebhookMessage makes a message of taskID pending again, due at now,
	// whatever its state (a manual retry). ErrNotFound if there is no such message.
	RequeueWebhookMessage(ctx context.Context, taskID, id string, now time.Time) (*WebhookMessage, error)

	// WebhookSecret returns the signing secrets of an API key, storing init as
	// its secret first if it has none.
	WebhookSecret(ctx context.Context, keyID, init string, now time.Time) (WebhookSecret, error)
	// RotateWebhookSecret makes next the key's secret; the old one stays valid
	// (messages are signed with both) until now+overlap.
	RotateWebhookSecret(ctx context.Context, keyID, next string, now time.Time, overlap time.Duration) (WebhookSecret, error)
}

// IdempotencyStore keeps the answers of requests sent with an Idempotency-Key.
type IdempotencyStore interface {
	// BeginIdempotency starts a request under rec's (KeyID, Key). When a live
	// record exists (ExpiresAt > now) it is returned and nothing is written, unless
	// it is unfinished and its LockedUntil passed (the first request died): then
	// rec takes it over. A nil record means rec was stored and the caller goes on.
	BeginIdempotency(ctx context.Context, rec *IdempotencyRecord, now time.Time) (*IdempotencyRecord, error)
	// CompleteIdempotency stores the answer of a begun request (Done, StatusCode, ContentType, Body).
	CompleteIdempotency(ctx context.Context, rec *IdempotencyRecord) error
	// ReleaseIdempotency forgets an unfinished record, so the key can be used again
	// (the request failed in a way worth retrying).
	ReleaseIdempotency(ctx context.Context, keyID, key string) error
	// DeleteExpiredIdempotency removes records whose ExpiresAt <= now and says how many.
	DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error)
}

// WebhookSkip is what a claim of webhook messages leaves out.
type WebhookSkip struct {
	Endpoints []string // WebhookEndpoint values
	Tenants   []string
}

// WebhookEndpoint names the receiver of a callback URL: its scheme, host and
// port ("https://example.com:443"), the default port spelled out, so that
// URLs differing only in path or query share one receiver's limits. An
// unparseable URL is its own endpoint.
func WebhookEndpoint(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return rawURL
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	return scheme + "://" + net.JoinHostPort(host, port)
}

// WebhookState is where a message is in its delivery.
type WebhookState string

const (
	WebhookPending   WebhookState = "pending"
	WebhookDelivered WebhookState = "delivered"
	WebhookFailed    WebhookState = "failed"  // retries exhausted, or a permanent refusal
	WebhookGone      WebhookState = "gone"    // the receiver answered 410 Gone
	WebhookSkipped   WebhookState = "skipped" // the task's dialect sends no event for this status
)

// WebhookMessage is one event to deliver to a task's callback_url.
type WebhookMessage struct {
	ID      string // the webhook-id: "msg_…", the same on every attempt
	TaskID  string
	Tenant  string
	KeyID   string // the API key whose secret signs it
	Dialect string // the payload is rendered in the shape of this dialect
	URL     string
	// Endpoint is WebhookEndpoint(URL): per-receiver limits count by it.
	Endpoint    string
	Status      task.Status // the status this event announces
	TaskVersion int64
	// Snapshot is the task as written with the change (JSON of task.Task).
	Snapshot []byte

	State          WebhookState
	Attempts       int
	NextAttemptAt  *time.Time
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeliveredAt    *time.Time

	LeaseOwner string
	LeaseUntil *time.Time

	// History is filled by ListWebhookMessages, oldest attempt first.
	History []WebhookAttempt
}

// WebhookAttempt is one POST of a message.
type WebhookAttempt struct {
	N          int
	StartedAt  time.Time
	Duration   time.Duration
	StatusCode int    // 0 when no HTTP answer came
	Error      string // why it did not count as delivered; "" for a 2xx
	// ResponseBody is the start of the receiver's answer (for debugging).
	ResponseBody string
	Manual       bool // sent because of a manual retry
}

// WebhookSecret is an API key's signing secrets.
type WebhookSecret struct {
	KeyID  string
	Secret string // "whsec_…"
	// Previous is the secret before the last rotation, signed with too until PreviousUntil.
	Previous      string
	PreviousUntil *time.Time
	CreatedAt     time.Time
	RotatedAt     *time.Time
}

// Secrets returns the secrets to sign with at now: the current one, and the
// previous one while it is still valid.
func (w WebhookSecret) Secrets(now time.Time) []string {
	s := []string{w.Secret}
	if w.Previous != "" && w.PreviousUntil != nil && now.Before(*w.PreviousUntil) {
		s = append(s, w.Previous)
	}
	return s
}

// IdempotencyRecord is what is kept of a request sent with an Idempotency-Key.
type IdempotencyRecord struct {
	KeyID       string // the API key (scope)
	Key         string // the client's Idempotency-Key
	Fingerprint string // of method, path and body: the same key with another body is an error
	Done        bool
	StatusCode  int
	ContentType string
	Body        []byte
	CreatedAt   time.Time
	LockedUntil time.Time
	ExpiresAt   time.Time
}

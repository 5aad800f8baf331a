package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

var _ store.WebhookStore = (*Store)(nil)

const webhookColumns = `id, task_id, tenant, key_id, dialect, url, status, task_version, snapshot_json,
	state, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at, delivered_at,
	lease_owner, lease_until`

// webhookDue must match webhook_messages_due_idx's WHERE term.
const webhookDue = `state = 'pending'`

// addWebhookArgs adds the parameters of enqueueWebhookSQL but msg_version
// (the task's version after the write, which the caller knows).
func addWebhookArgs(args pgx.NamedArgs, t *task.Task) error {
	snap := ""
	if t.Request.CallbackURL != "" {
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("webhook snapshot: %w", err)
		}
		snap = string(b)
	}
	at := t.UpdatedAt
	if at.IsZero() {
		at = time.Now()
	}
	args["msg_id"] = newMessageID()
	args["key_id"] = t.Request.KeyID
	args["snapshot"] = snap
	args["msg_at"] = toMillis(at)
	return nil
}

// newMessageID returns a webhook-id in the Standard Webhooks style.
func newMessageID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}

// text makes s storable in a text column: PostgreSQL refuses NUL and invalid
// UTF-8, and a receiver's answer may hold both. Refusing it would leave the
// attempt unrecorded and the message stuck.
func text(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

func scanMessage(r pgx.Row) (*store.WebhookMessage, error) {
	var (
		m                      store.WebhookMessage
		status, state, snap    string
		next, delivered, lease *int64
		created, updated       int64
	)
	if err := r.Scan(&m.ID, &m.TaskID, &m.Tenant, &m.KeyID, &m.Dialect, &m.URL, &status, &m.TaskVersion, &snap,
		&state, &m.Attempts, &next, &m.LastStatusCode, &m.LastError, &created, &updated, &delivered,
		&m.LeaseOwner, &lease); err != nil {
		return nil, err
	}
	m.Status, m.State, m.Snapshot = task.Status(status), store.WebhookState(state), []byte(snap)
	m.NextAttemptAt, m.DeliveredAt, m.LeaseUntil = timePtr(next), timePtr(delivered), timePtr(lease)
	m.CreatedAt, m.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &m, nil
}

func scanMessages(rows pgx.Rows) ([]*store.WebhookMessage, error) {
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.WebhookMessage, error) { return scanMessage(r) })
	if ms == nil {
		ms = []*store.WebhookMessage{}
	}
	return ms, err
}

// ClaimWebhooks implements store.WebhookStore, with SKIP LOCKED like ClaimDue.
func (s *Store) ClaimWebhooks(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip []string) ([]*store.WebhookMessage, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("postgres: claim webhooks: lease must be positive, got %s", lease)
	}
	if limit < 1 {
		return []*store.WebhookMessage{}, nil
	}
	if skip == nil {
		skip = []string{} // NULL would make the NOT term NULL, excluding everything
	}
	rows, err := s.pool.Query(ctx, `WITH due AS (
		SELECT id AS due_id FROM webhook_messages
		WHERE `+webhookDue+` AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
			AND NOT (url = ANY(@skip))
		ORDER BY next_attempt_at, id
		LIMIT @limit
		FOR UPDATE SKIP LOCKED
	)
	UPDATE webhook_messages SET lease_owner = @owner, lease_until = @until
	FROM due WHERE id = due.due_id
	RETURNING `+webhookColumns, pgx.NamedArgs{
		"owner": owner, "until": toMillis(now.Add(lease)), "now": toMillis(now), "limit": limit, "skip": skip,
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim webhooks: %w", err)
	}
	ms, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim webhooks: %w", err)
	}
	return ms, nil
}

// NextWebhookDue implements store.WebhookStore.
func (s *Store) NextWebhookDue(ctx context.Context) (time.Time, error) {
	var next *int64
	if err := s.pool.QueryRow(ctx, `SELECT MIN(next_attempt_at) FROM webhook_messages WHERE `+webhookDue).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("postgres: next webhook due: %w", err)
	}
	if next == nil {
		return time.Time{}, nil
	}
	return fromMillis(*next), nil
}

// RecordWebhookAttempt implements store.WebhookStore.
func (s *Store) RecordWebhookAttempt(ctx context.Context, owner string, m *store.WebhookMessage, a store.WebhookAttempt) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_attempts
			(message_id, n, started_at, duration_ms, status_code, error, response_body, manual)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (message_id, n) DO NOTHING`,
			m.ID, a.N, toMillis(a.StartedAt), a.Duration.Milliseconds(), a.StatusCode, text(a.Error), text(a.ResponseBody), a.Manual); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE webhook_messages SET state = $1, attempts = $2, next_attempt_at = $3,
			last_status_code = $4, last_error = $5, updated_at = $6, delivered_at = $7, lease_owner = '', lease_until = NULL
			WHERE id = $8 AND lease_owner = $9`,
			string(m.State), m.Attempts, nullMillis(m.NextAttemptAt), m.LastStatusCode, text(m.LastError),
			toMillis(m.UpdatedAt), nullMillis(m.DeliveredAt), m.ID, owner)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrConflict
		}
		if m.State == store.WebhookGone {
			_, err = tx.Exec(ctx, `UPDATE webhook_messages SET state = 'gone', next_attempt_at = NULL,
				last_error = 'the endpoint answered 410 Gone to message ' || $1, updated_at = $2
				WHERE key_id = $3 AND url = $4 AND `+webhookDue+` AND id <> $1`,
				m.ID, toMillis(m.UpdatedAt), m.KeyID, m.URL)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: record webhook attempt %s: %w", m.ID, err)
	}
	return nil
}

// ListWebhookMessages implements store.WebhookStore.
func (s *Store) ListWebhookMessages(ctx context.Context, taskID string) ([]*store.WebhookMessage, error) {
	// One snapshot for the messages and their attempts.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("postgres: list webhooks of %s: %w", taskID, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	rows, err := tx.Query(ctx, `SELECT `+webhookColumns+` FROM webhook_messages
		WHERE task_id = $1 ORDER BY created_at, task_version, id`, taskID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list webhooks of %s: %w", taskID, err)
	}
	ms, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: list webhooks of %s: %w", taskID, err)
	}
	if len(ms) == 0 {
		return ms, nil
	}
	byID := make(map[string]*store.WebhookMessage, len(ms))
	for _, m := range ms {
		m.History = []store.WebhookAttempt{}
		byID[m.ID] = m
	}
	arows, err := tx.Query(ctx, `SELECT a.message_id, a.n, a.started_at, a.duration_ms, a.status_code,
		a.error, a.response_body, a.manual
		FROM webhook_attempts a JOIN webhook_messages m ON m.id = a.message_id
		WHERE m.task_id = $1 ORDER BY a.message_id, a.n`, taskID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list webhook attempts of %s: %w", taskID, err)
	}
	var (
		id           string
		a            store.WebhookAttempt
		started, dur int64
	)
	_, err = pgx.ForEachRow(arows, []any{&id, &a.N, &started, &dur, &a.StatusCode, &a.Error, &a.ResponseBody, &a.Manual}, func() error {
		a.StartedAt, a.Duration = fromMillis(started), time.Duration(dur)*time.Millisecond
		if m := byID[id]; m != nil {
			m.History = append(m.History, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list webhook attempts of %s: %w", taskID, err)
	}
	return ms, nil
}

// RequeueWebhookMessage implements store.WebhookStore.
func (s *Store) RequeueWebhookMessage(ctx context.Context, taskID, id string, now time.Time) (*store.WebhookMessage, error) {
	m, err := scanMessage(s.pool.QueryRow(ctx, `UPDATE webhook_messages
		SET state = 'pending', next_attempt_at = $1, updated_at = $1
		WHERE id = $2 AND task_id = $3 RETURNING `+webhookColumns, toMillis(now), id, taskID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: requeue webhook %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: requeue webhook %s: %w", id, err)
	}
	return m, nil
}

const secretColumns = `key_id, secret, previous_secret, previous_until, created_at, rotated_at`

func scanSecret(r pgx.Row) (store.WebhookSecret, error) {
	var (
		w              store.WebhookSecret
		until, rotated *int64
		created        int64
	)
	if err := r.Scan(&w.KeyID, &w.Secret, &w.Previous, &until, &created, &rotated); err != nil {
		return store.WebhookSecret{}, err
	}
	w.PreviousUntil, w.RotatedAt, w.CreatedAt = timePtr(until), timePtr(rotated), fromMillis(created)
	return w, nil
}

// WebhookSecret implements store.WebhookStore. Like Setting, the first
// caller's init wins, across instances too.
func (s *Store) WebhookSecret(ctx context.Context, keyID, init string, now time.Time) (store.WebhookSecret, error) {
	const get = `SELECT ` + secretColumns + ` FROM webhook_secrets WHERE key_id = $1`
	w, err := scanSecret(s.pool.QueryRow(ctx, get, keyID))
	if errors.Is(err, pgx.ErrNoRows) {
		w, err = scanSecret(s.pool.QueryRow(ctx, `INSERT INTO webhook_secrets (`+secretColumns+`)
			VALUES ($1, $2, '', NULL, $3, NULL) ON CONFLICT (key_id) DO NOTHING RETURNING `+secretColumns,
			keyID, init, toMillis(now)))
		if errors.Is(err, pgx.ErrNoRows) { // a concurrent caller stored it first
			w, err = scanSecret(s.pool.QueryRow(ctx, get, keyID))
		}
	}
	if err != nil {
		return w, fmt.Errorf("postgres: webhook secret: %w", err)
	}
	return w, nil
}

// RotateWebhookSecret implements store.WebhookStore.
func (s *Store) RotateWebhookSecret(ctx context.Context, keyID, next string, now time.Time, overlap time.Duration) (store.WebhookSecret, error) {
	// A key that never had a secret gets next without a previous one.
	w, err := scanSecret(s.pool.QueryRow(ctx, `INSERT INTO webhook_secrets (`+secretColumns+`)
		VALUES ($1, $2, '', NULL, $3, NULL)
		ON CONFLICT (key_id) DO UPDATE SET previous_secret = webhook_secrets.secret, secret = excluded.secret,
			previous_until = $4, rotated_at = $3
		RETURNING `+secretColumns,
		keyID, next, toMillis(now), toMillis(now.Add(overlap))))
	if err != nil {
		return w, fmt.Errorf("postgres: rotate webhook secret: %w", err)
	}
	return w, nil
}

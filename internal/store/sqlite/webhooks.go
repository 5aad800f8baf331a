package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

var _ store.WebhookStore = (*Store)(nil)

const webhookColumns = `id, task_id, tenant, key_id, dialect, url, status, task_version, snapshot_json,
	state, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at, delivered_at,
	lease_owner, lease_until`

// webhookDue must match webhook_messages_due_idx's WHERE term.
const webhookDue = `state = 'pending'`

// enqueueWebhook records the event of t's status change inside the writing
// transaction (see store.WebhookStore). version is the task's version after
// the write.
func enqueueWebhook(ctx context.Context, tx *sql.Tx, t *task.Task, version int64) error {
	if t.Request.CallbackURL == "" {
		return nil
	}
	snap, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("webhook snapshot: %w", err)
	}
	at := t.UpdatedAt
	if at.IsZero() {
		at = time.Now()
	}
	ms := toMillis(at)
	_, err = tx.ExecContext(ctx, `INSERT INTO webhook_messages (`+webhookColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, 0, '', ?, ?, NULL, '', NULL)`,
		newMessageID(), t.ID, t.Tenant, t.Request.KeyID, t.Dialect, t.Request.CallbackURL, string(t.Status),
		version, string(snap), ms, ms, ms)
	if err != nil {
		return fmt.Errorf("enqueue webhook: %w", err)
	}
	return nil
}

// newMessageID returns a webhook-id in the Standard Webhooks style.
func newMessageID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}

func scanMessage(r rowScanner) (*store.WebhookMessage, error) {
	var (
		m                      store.WebhookMessage
		status, state, snap    string
		next, delivered, lease sql.NullInt64
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

func scanMessages(rows *sql.Rows) ([]*store.WebhookMessage, error) {
	defer rows.Close()
	out := []*store.WebhookMessage{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

// ClaimWebhooks implements store.WebhookStore.
func (s *Store) ClaimWebhooks(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip []string) ([]*store.WebhookMessage, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("sqlite: claim webhooks: lease must be positive, got %s", lease)
	}
	if limit < 1 {
		return []*store.WebhookMessage{}, nil
	}
	args := []any{sql.Named("owner", owner), sql.Named("until", toMillis(now.Add(lease))),
		sql.Named("now", toMillis(now)), sql.Named("limit", limit)}
	notBusy := ""
	if len(skip) > 0 {
		names := make([]string, len(skip))
		for i, u := range skip {
			names[i] = ":skip" + strconv.Itoa(i) // named like the rest: mixing in ? would renumber them
			args = append(args, sql.Named(names[i][1:], u))
		}
		notBusy = " AND url NOT IN (" + strings.Join(names, ", ") + ")"
	}
	var ms []*store.WebhookMessage
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE webhook_messages SET lease_owner = :owner, lease_until = :until
		WHERE id IN (
			SELECT id FROM webhook_messages
			WHERE `+webhookDue+` AND next_attempt_at <= :now AND (lease_until IS NULL OR lease_until <= :now)`+notBusy+`
			ORDER BY next_attempt_at, id LIMIT :limit)
		RETURNING `+webhookColumns, args...)
		if err != nil {
			return err
		}
		ms, err = scanMessages(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim webhooks: %w", err)
	}
	return ms, nil
}

// NextWebhookDue implements store.WebhookStore.
func (s *Store) NextWebhookDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := s.read.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM webhook_messages WHERE `+webhookDue).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("sqlite: next webhook due: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return fromMillis(next.Int64), nil
}

// RecordWebhookAttempt implements store.WebhookStore.
func (s *Store) RecordWebhookAttempt(ctx context.Context, owner string, m *store.WebhookMessage, a store.WebhookAttempt) error {
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if a.N > 0 { // 0: no attempt was made (a skipped message)
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts
				(message_id, n, started_at, duration_ms, status_code, error, response_body, manual)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (message_id, n) DO NOTHING`,
				m.ID, a.N, toMillis(a.StartedAt), a.Duration.Milliseconds(), a.StatusCode, a.Error, a.ResponseBody, a.Manual); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE webhook_messages SET state = ?, attempts = ?, next_attempt_at = ?,
			last_status_code = ?, last_error = ?, updated_at = ?, delivered_at = ?, lease_owner = '', lease_until = NULL
			WHERE id = ? AND lease_owner = ?`,
			string(m.State), m.Attempts, nullMillis(m.NextAttemptAt), m.LastStatusCode, m.LastError,
			toMillis(m.UpdatedAt), nullMillis(m.DeliveredAt), m.ID, owner)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrConflict
		}
		if m.State == store.WebhookGone {
			_, err = tx.ExecContext(ctx, `UPDATE webhook_messages SET state = 'gone', next_attempt_at = NULL,
				last_error = 'the endpoint answered 410 Gone to message ' || ?, updated_at = ?
				WHERE key_id = ? AND url = ? AND `+webhookDue+` AND id <> ?`,
				m.ID, toMillis(m.UpdatedAt), m.KeyID, m.URL, m.ID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: record webhook attempt %s: %w", m.ID, err)
	}
	return nil
}

// ListWebhookMessages implements store.WebhookStore.
func (s *Store) ListWebhookMessages(ctx context.Context, taskID string) ([]*store.WebhookMessage, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhook_messages
		WHERE task_id = ? ORDER BY created_at, task_version, id`, taskID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list webhooks of %s: %w", taskID, err)
	}
	ms, err := scanMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list webhooks of %s: %w", taskID, err)
	}
	if len(ms) == 0 {
		return ms, nil
	}
	byID := make(map[string]*store.WebhookMessage, len(ms))
	for _, m := range ms {
		m.History = []store.WebhookAttempt{}
		byID[m.ID] = m
	}
	arows, err := s.read.QueryContext(ctx, `SELECT a.message_id, a.n, a.started_at, a.duration_ms, a.status_code,
		a.error, a.response_body, a.manual
		FROM webhook_attempts a JOIN webhook_messages m ON m.id = a.message_id
		WHERE m.task_id = ? ORDER BY a.message_id, a.n`, taskID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list webhook attempts of %s: %w", taskID, err)
	}
	defer arows.Close()
	for arows.Next() {
		var (
			id           string
			a            store.WebhookAttempt
			started, dur int64
		)
		if err := arows.Scan(&id, &a.N, &started, &dur, &a.StatusCode, &a.Error, &a.ResponseBody, &a.Manual); err != nil {
			return nil, fmt.Errorf("sqlite: list webhook attempts of %s: %w", taskID, err)
		}
		a.StartedAt, a.Duration = fromMillis(started), time.Duration(dur)*time.Millisecond
		if m := byID[id]; m != nil {
			m.History = append(m.History, a)
		}
	}
	if err := arows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list webhook attempts of %s: %w", taskID, err)
	}
	return ms, nil
}

// RequeueWebhookMessage implements store.WebhookStore.
func (s *Store) RequeueWebhookMessage(ctx context.Context, taskID, id string, now time.Time) (*store.WebhookMessage, error) {
	var m *store.WebhookMessage
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		m, err = scanMessage(tx.QueryRowContext(ctx, `UPDATE webhook_messages
			SET state = 'pending', next_attempt_at = ?, updated_at = ?
			WHERE id = ? AND task_id = ? RETURNING `+webhookColumns, toMillis(now), toMillis(now), id, taskID))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: requeue webhook %s: %w", id, err)
	}
	return m, nil
}

const secretColumns = `key_id, secret, previous_secret, previous_until, created_at, rotated_at`

func scanSecret(r rowScanner) (store.WebhookSecret, error) {
	var (
		w              store.WebhookSecret
		until, rotated sql.NullInt64
		created        int64
	)
	if err := r.Scan(&w.KeyID, &w.Secret, &w.Previous, &until, &created, &rotated); err != nil {
		return store.WebhookSecret{}, err
	}
	w.PreviousUntil, w.RotatedAt, w.CreatedAt = timePtr(until), timePtr(rotated), fromMillis(created)
	return w, nil
}

// WebhookSecret implements store.WebhookStore.
func (s *Store) WebhookSecret(ctx context.Context, keyID, init string, now time.Time) (store.WebhookSecret, error) {
	w, err := scanSecret(s.read.QueryRowContext(ctx, `SELECT `+secretColumns+` FROM webhook_secrets WHERE key_id = ?`, keyID))
	if err == nil {
		return w, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("sqlite: webhook secret: %w", err)
	}
	err = s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_secrets (`+secretColumns+`)
			VALUES (?, ?, '', NULL, ?, NULL) ON CONFLICT (key_id) DO NOTHING`, keyID, init, toMillis(now)); err != nil {
			return err
		}
		w, err = scanSecret(tx.QueryRowContext(ctx, `SELECT `+secretColumns+` FROM webhook_secrets WHERE key_id = ?`, keyID))
		return err
	})
	if err != nil {
		return w, fmt.Errorf("sqlite: webhook secret: %w", err)
	}
	return w, nil
}

// RotateWebhookSecret implements store.WebhookStore.
func (s *Store) RotateWebhookSecret(ctx context.Context, keyID, next string, now time.Time, overlap time.Duration) (store.WebhookSecret, error) {
	var w store.WebhookSecret
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// A key that never had a secret gets next without a previous one.
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_secrets (`+secretColumns+`)
			VALUES (?, ?, '', NULL, ?, NULL)
			ON CONFLICT (key_id) DO UPDATE SET previous_secret = secret, secret = excluded.secret,
				previous_until = ?, rotated_at = ?`,
			keyID, next, toMillis(now), toMillis(now.Add(overlap)), toMillis(now)); err != nil {
			return err
		}
		var err error
		w, err = scanSecret(tx.QueryRowContext(ctx, `SELECT `+secretColumns+` FROM webhook_secrets WHERE key_id = ?`, keyID))
		return err
	})
	if err != nil {
		return w, fmt.Errorf("sqlite: rotate webhook secret: %w", err)
	}
	return w, nil
}

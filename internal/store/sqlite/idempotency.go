package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/seedgate/seedgate/internal/store"
)

const idemColumns = `key_id, idem_key, fingerprint, done, status_code, content_type, body, created_at, locked_until, expires_at`

func scanIdem(r rowScanner) (*store.IdempotencyRecord, error) {
	var (
		rec                    store.IdempotencyRecord
		created, locked, expir int64
	)
	if err := r.Scan(&rec.KeyID, &rec.Key, &rec.Fingerprint, &rec.Done, &rec.StatusCode, &rec.ContentType, &rec.Body,
		&created, &locked, &expir); err != nil {
		return nil, err
	}
	rec.CreatedAt, rec.LockedUntil, rec.ExpiresAt = fromMillis(created), fromMillis(locked), fromMillis(expir)
	return &rec, nil
}

// BeginIdempotency implements store.WebhookStore.
func (s *Store) BeginIdempotency(ctx context.Context, rec *store.IdempotencyRecord, now time.Time) (*store.IdempotencyRecord, error) {
	var existing *store.IdempotencyRecord
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, err := scanIdem(tx.QueryRowContext(ctx, `SELECT `+idemColumns+` FROM idempotency_keys
			WHERE key_id = ? AND idem_key = ?`, rec.KeyID, rec.Key))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case cur.ExpiresAt.After(now) && (cur.Done || cur.LockedUntil.After(now)):
			existing = cur
			return nil
		}
		// New, expired, or abandoned by a request that died: (re)start it.
		_, err = tx.ExecContext(ctx, `INSERT INTO idempotency_keys (`+idemColumns+`)
			VALUES (?, ?, ?, 0, 0, '', x'', ?, ?, ?)
			ON CONFLICT (key_id, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, done = 0,
				status_code = 0, content_type = '', body = x'', created_at = excluded.created_at,
				locked_until = excluded.locked_until, expires_at = excluded.expires_at`,
			rec.KeyID, rec.Key, rec.Fingerprint, toMillis(rec.CreatedAt), toMillis(rec.LockedUntil), toMillis(rec.ExpiresAt))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin idempotency: %w", err)
	}
	return existing, nil
}

// CompleteIdempotency implements store.WebhookStore.
func (s *Store) CompleteIdempotency(ctx context.Context, rec *store.IdempotencyRecord) error {
	body := rec.Body
	if body == nil {
		body = []byte{}
	}
	var n int64
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET done = 1, status_code = ?, content_type = ?, body = ?
		WHERE key_id = ? AND idem_key = ? AND fingerprint = ?`,
			rec.StatusCode, rec.ContentType, body, rec.KeyID, rec.Key, rec.Fingerprint)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: complete idempotency: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: complete idempotency: %w", store.ErrNotFound)
	}
	return nil
}

// ReleaseIdempotency implements store.WebhookStore.
func (s *Store) ReleaseIdempotency(ctx context.Context, keyID, key string) error {
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE key_id = ? AND idem_key = ? AND done = 0`, keyID, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: release idempotency: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotency implements store.WebhookStore.
func (s *Store) DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= ?`, toMillis(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired idempotency keys: %w", err)
	}
	return res.RowsAffected()
}

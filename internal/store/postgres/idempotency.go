package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seedgate/seedgate/internal/store"
)

const idemColumns = `key_id, idem_key, fingerprint, done, status_code, content_type, body, created_at, locked_until, expires_at`

func scanIdem(r pgx.Row) (*store.IdempotencyRecord, error) {
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

// BeginIdempotency implements store.WebhookStore. The claim is one statement:
// the insert takes a new key, and takes over an expired or abandoned record,
// while a live record makes it do nothing. Two instances beginning the same
// key at once therefore never both go on (ON CONFLICT waits for the other's
// insert and then sees it live).
func (s *Store) BeginIdempotency(ctx context.Context, rec *store.IdempotencyRecord, now time.Time) (*store.IdempotencyRecord, error) {
	for range 5 {
		tag, err := s.pool.Exec(ctx, `INSERT INTO idempotency_keys AS k (`+idemColumns+`)
			VALUES (@key_id, @key, @fingerprint, false, 0, '', '', @created_at, @locked_until, @expires_at)
			ON CONFLICT (key_id, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, done = false,
				status_code = 0, content_type = '', body = '', created_at = excluded.created_at,
				locked_until = excluded.locked_until, expires_at = excluded.expires_at
			WHERE NOT (k.expires_at > @now AND (k.done OR k.locked_until > @now))`,
			pgx.NamedArgs{
				"key_id": rec.KeyID, "key": rec.Key, "fingerprint": rec.Fingerprint,
				"created_at": toMillis(rec.CreatedAt), "locked_until": toMillis(rec.LockedUntil),
				"expires_at": toMillis(rec.ExpiresAt), "now": toMillis(now),
			})
		if err != nil {
			return nil, fmt.Errorf("postgres: begin idempotency: %w", err)
		}
		if tag.RowsAffected() == 1 {
			return nil, nil
		}
		cur, err := scanIdem(s.pool.QueryRow(ctx, `SELECT `+idemColumns+` FROM idempotency_keys
			WHERE key_id = $1 AND idem_key = $2`, rec.KeyID, rec.Key))
		if errors.Is(err, pgx.ErrNoRows) {
			continue // released meanwhile: try again
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: begin idempotency: %w", err)
		}
		return cur, nil
	}
	return nil, fmt.Errorf("postgres: begin idempotency: the key keeps changing: %w", store.ErrConflict)
}

// CompleteIdempotency implements store.WebhookStore.
func (s *Store) CompleteIdempotency(ctx context.Context, rec *store.IdempotencyRecord) error {
	body := rec.Body
	if body == nil {
		body = []byte{}
	}
	tag, err := s.pool.Exec(ctx, `UPDATE idempotency_keys SET done = true, status_code = $1, content_type = $2, body = $3
		WHERE key_id = $4 AND idem_key = $5 AND fingerprint = $6`,
		rec.StatusCode, text(rec.ContentType), body, rec.KeyID, rec.Key, rec.Fingerprint)
	if err != nil {
		return fmt.Errorf("postgres: complete idempotency: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: complete idempotency: %w", store.ErrNotFound)
	}
	return nil
}

// ReleaseIdempotency implements store.WebhookStore.
func (s *Store) ReleaseIdempotency(ctx context.Context, keyID, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE key_id = $1 AND idem_key = $2 AND NOT done`,
		keyID, key); err != nil {
		return fmt.Errorf("postgres: release idempotency: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotency implements store.WebhookStore.
func (s *Store) DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, toMillis(now))
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

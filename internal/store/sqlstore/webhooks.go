package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

const webhookColumns = `id, task_id, tenant, key_id, dialect, url, status, task_version, snapshot_json,
	state, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at, delivered_at,
	lease_owner, lease_until, endpoint`

var (
	insertMessageSQL = `INSERT INTO webhook_messages (` + webhookColumns + `) VALUES (` + params(1, 20) + `)`
	insertFileSQL    = `INSERT INTO files (` + fileColumns + `) VALUES (` + params(1, 15) + `)`
)

// WebhookDue must match the WHERE term of the index on pending messages.
const WebhookDue = `state = 'pending'`

func scanMessage(r Row) (*store.WebhookMessage, error) {
	var (
		m                      store.WebhookMessage
		status, state, snap    string
		next, delivered, lease *int64
		created, updated       int64
	)
	if err := r.Scan(&m.ID, &m.TaskID, &m.Tenant, &m.KeyID, &m.Dialect, &m.URL, &status, &m.TaskVersion, &snap,
		&state, &m.Attempts, &next, &m.LastStatusCode, &m.LastError, &created, &updated, &delivered,
		&m.LeaseOwner, &lease, &m.Endpoint); err != nil {
		return nil, err
	}
	if m.Endpoint == "" { // written before the column existed
		m.Endpoint = store.WebhookEndpoint(m.URL)
	}
	m.Status, m.State, m.Snapshot = task.Status(status), store.WebhookState(state), []byte(snap)
	m.NextAttemptAt, m.DeliveredAt, m.LeaseUntil = timePtr(next), timePtr(delivered), timePtr(lease)
	m.CreatedAt, m.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &m, nil
}

// InsertWebhookMessage implements store.Executor.
func (c Conn) InsertWebhookMessage(ctx context.Context, m *store.WebhookMessage) error {
	_, err := c.Q.Exec(ctx, insertMessageSQL,
		m.ID, m.TaskID, m.Tenant, m.KeyID, m.Dialect, m.URL, string(m.Status), m.TaskVersion, string(m.Snapshot),
		string(m.State), m.Attempts, nullMillis(m.NextAttemptAt), m.LastStatusCode, m.LastError,
		toMillis(m.CreatedAt), toMillis(m.UpdatedAt), nullMillis(m.DeliveredAt), m.LeaseOwner, nullMillis(m.LeaseUntil),
		m.Endpoint)
	if err != nil {
		return fmt.Errorf("enqueue webhook: %w", err)
	}
	return nil
}

// InsertWebhookAttempt implements store.Executor.
func (c Conn) InsertWebhookAttempt(ctx context.Context, id string, a store.WebhookAttempt) error {
	_, err := c.Q.Exec(ctx, `INSERT INTO webhook_attempts
		(message_id, n, started_at, duration_ms, status_code, error, response_body, manual)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_id, n) DO NOTHING`,
		id, a.N, toMillis(a.StartedAt), a.Duration.Milliseconds(), a.StatusCode, a.Error, a.ResponseBody, a.Manual)
	return err
}

// FinishWebhookMessage implements store.Executor.
func (c Conn) FinishWebhookMessage(ctx context.Context, owner string, m *store.WebhookMessage) (bool, error) {
	n, err := c.Q.Exec(ctx, `UPDATE webhook_messages SET state = $1, attempts = $2, next_attempt_at = $3,
		last_status_code = $4, last_error = $5, updated_at = $6, delivered_at = $7, lease_owner = '', lease_until = NULL
		WHERE id = $8 AND lease_owner = $9`,
		string(m.State), m.Attempts, nullMillis(m.NextAttemptAt), m.LastStatusCode, m.LastError,
		toMillis(m.UpdatedAt), nullMillis(m.DeliveredAt), m.ID, owner)
	return n == 1, err
}

// GoneWebhookEndpoint implements store.Executor.
func (c Conn) GoneWebhookEndpoint(ctx context.Context, keyID, url, except, lastError string, at time.Time) error {
	_, err := c.Q.Exec(ctx, `UPDATE webhook_messages SET state = 'gone', next_attempt_at = NULL, last_error = $1, updated_at = $2
		WHERE key_id = $3 AND url = $4 AND `+WebhookDue+` AND id <> $5`,
		lastError, toMillis(at), keyID, url, except)
	return err
}

// ClaimWebhooksSQL is ClaimWebhooks' claim: $1 owner, $2 lease end, $3 now,
// $4 limit, $5 endpoints and $6 tenants to skip.
func (c Conn) ClaimWebhooksSQL() string {
	return c.D.Claim("webhook_messages", `lease_owner = $1, lease_until = $2`,
		WebhookDue+` AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)`+
			` AND NOT (`+c.D.InList("endpoint", "$5")+`) AND NOT (`+c.D.InList("tenant", "$6")+`)`,
		"next_attempt_at, id", "$4", webhookColumns)
}

// ClaimWebhooks implements store.WebhookQueries.
func (c Conn) ClaimWebhooks(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip store.WebhookSkip) ([]*store.WebhookMessage, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("claim webhooks: lease must be positive, got %s", lease)
	}
	if limit < 1 {
		return []*store.WebhookMessage{}, nil
	}
	var ms []*store.WebhookMessage
	err := c.Q.Write(ctx, func(q Querier) error {
		rows, err := q.Query(ctx, c.ClaimWebhooksSQL(), owner, toMillis(now.Add(lease)), toMillis(now), limit,
			c.D.List(skip.Endpoints), c.D.List(skip.Tenants))
		ms, err = collect(rows, err, scanMessage)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhooks: %w", err)
	}
	return ms, nil
}

// NextWebhookDue implements store.WebhookQueries.
func (c Conn) NextWebhookDue(ctx context.Context) (time.Time, error) {
	return c.minTime(ctx, `SELECT MIN(next_attempt_at) FROM webhook_messages WHERE `+WebhookDue)
}

// ListWebhookMessages implements store.WebhookQueries.
func (c Conn) ListWebhookMessages(ctx context.Context, taskID string) ([]*store.WebhookMessage, error) {
	var ms []*store.WebhookMessage
	err := c.Q.ReadTx(ctx, func(q Querier) error { // one snapshot for the messages and their attempts
		rows, err := q.Query(ctx, `SELECT `+webhookColumns+` FROM webhook_messages
			WHERE task_id = $1 ORDER BY created_at, task_version, id`, taskID)
		if ms, err = collect(rows, err, scanMessage); err != nil || len(ms) == 0 {
			return err
		}
		byID := make(map[string]*store.WebhookMessage, len(ms))
		for _, m := range ms {
			m.History = []store.WebhookAttempt{}
			byID[m.ID] = m
		}
		rows, err = q.Query(ctx, `SELECT a.message_id, a.n, a.started_at, a.duration_ms, a.status_code,
			a.error, a.response_body, a.manual
			FROM webhook_attempts a JOIN webhook_messages m ON m.id = a.message_id
			WHERE m.task_id = $1 ORDER BY a.message_id, a.n`, taskID)
		_, err = collect(rows, err, func(r Row) (bool, error) {
			var (
				id           string
				a            store.WebhookAttempt
				started, dur int64
			)
			if err := r.Scan(&id, &a.N, &started, &dur, &a.StatusCode, &a.Error, &a.ResponseBody, &a.Manual); err != nil {
				return false, err
			}
			a.StartedAt, a.Duration = fromMillis(started), time.Duration(dur)*time.Millisecond
			if m := byID[id]; m != nil {
				m.History = append(m.History, a)
			}
			return true, nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list webhooks of %s: %w", taskID, err)
	}
	return ms, nil
}

// RequeueWebhookMessage implements store.WebhookQueries.
func (c Conn) RequeueWebhookMessage(ctx context.Context, taskID, id string, now time.Time) (*store.WebhookMessage, error) {
	m, err := scanMessage(c.Q.QueryRow(ctx, `UPDATE webhook_messages SET state = 'pending', next_attempt_at = $1, updated_at = $1
		WHERE id = $2 AND task_id = $3 RETURNING `+webhookColumns, toMillis(now), id, taskID))
	if err != nil {
		return nil, fmt.Errorf("requeue webhook %s: %w", id, err)
	}
	return m, nil
}

const secretColumns = `key_id, secret, previous_secret, previous_until, created_at, rotated_at`

func scanSecret(r Row) (store.WebhookSecret, error) {
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

// WebhookSecret implements store.WebhookQueries. The first caller's init
// wins, across instances too.
func (c Conn) WebhookSecret(ctx context.Context, keyID, init string, now time.Time) (store.WebhookSecret, error) {
	var w store.WebhookSecret
	err := c.getOrInit(ctx,
		func() (err error) {
			w, err = scanSecret(c.Q.QueryRow(ctx, `SELECT `+secretColumns+` FROM webhook_secrets WHERE key_id = $1`, keyID))
			return err
		},
		`INSERT INTO webhook_secrets (`+secretColumns+`) VALUES ($1, $2, '', NULL, $3, NULL) ON CONFLICT (key_id) DO NOTHING`,
		keyID, init, toMillis(now))
	if err != nil {
		return w, fmt.Errorf("webhook secret: %w", err)
	}
	return w, nil
}

// getOrInit reads with get; when there is nothing, it runs init (an insert
// that does nothing on conflict) and reads again: a concurrent inserter's
// value is read then.
func (c Conn) getOrInit(ctx context.Context, get func() error, init string, args ...any) error {
	err := get()
	if !notFound(err) {
		return err
	}
	if _, err := c.Q.Exec(ctx, init, args...); err != nil {
		return err
	}
	return get()
}

// RotateWebhookSecret implements store.WebhookQueries. A key that never had
// a secret gets next without a previous one.
func (c Conn) RotateWebhookSecret(ctx context.Context, keyID, next string, now time.Time, overlap time.Duration) (store.WebhookSecret, error) {
	w, err := scanSecret(c.Q.QueryRow(ctx, `INSERT INTO webhook_secrets (`+secretColumns+`)
		VALUES ($1, $2, '', NULL, $3, NULL)
		ON CONFLICT (key_id) DO UPDATE SET previous_secret = webhook_secrets.secret, secret = excluded.secret,
			previous_until = $4, rotated_at = $3
		RETURNING `+secretColumns, keyID, next, toMillis(now), toMillis(now.Add(overlap))))
	if err != nil {
		return w, fmt.Errorf("rotate webhook secret: %w", err)
	}
	return w, nil
}

// Setting implements store.SettingStore: the first caller's init wins;
// every caller gets the same value.
func (c Conn) Setting(ctx context.Context, key, init string) (string, error) {
	var value string
	err := c.getOrInit(ctx,
		func() error { return c.Q.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value) },
		`INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, init)
	if err != nil {
		return "", fmt.Errorf("setting %q: %w", key, err)
	}
	return value, nil
}

const idemColumns = `key_id, idem_key, fingerprint, done, status_code, content_type, body, created_at, locked_until, expires_at`

func scanIdem(r Row) (*store.IdempotencyRecord, error) {
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

// BeginIdempotency implements store.IdempotencyStore. The claim is one
// statement: the insert takes a new key, and takes over an expired or
// abandoned record, while a live record makes it do nothing. Two instances
// beginning the same key at once therefore never both go on (ON CONFLICT
// waits for the other's insert and then sees it live).
func (c Conn) BeginIdempotency(ctx context.Context, rec *store.IdempotencyRecord, now time.Time) (*store.IdempotencyRecord, error) {
	for range 5 {
		n, err := c.Q.Exec(ctx, `INSERT INTO idempotency_keys AS k (`+idemColumns+`)
			VALUES ($1, $2, $3, false, 0, '', $4, $5, $6, $7)
			ON CONFLICT (key_id, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, done = false,
				status_code = 0, content_type = '', body = excluded.body, created_at = excluded.created_at,
				locked_until = excluded.locked_until, expires_at = excluded.expires_at
			WHERE NOT (k.expires_at > $8 AND (k.done OR k.locked_until > $8))`,
			rec.KeyID, rec.Key, rec.Fingerprint, []byte{}, toMillis(rec.CreatedAt), toMillis(rec.LockedUntil),
			toMillis(rec.ExpiresAt), toMillis(now))
		if err != nil {
			return nil, fmt.Errorf("begin idempotency: %w", err)
		}
		if n == 1 {
			return nil, nil
		}
		cur, err := scanIdem(c.Q.QueryRow(ctx, `SELECT `+idemColumns+` FROM idempotency_keys
			WHERE key_id = $1 AND idem_key = $2`, rec.KeyID, rec.Key))
		if notFound(err) {
			continue // released meanwhile: try again
		}
		if err != nil {
			return nil, fmt.Errorf("begin idempotency: %w", err)
		}
		return cur, nil
	}
	return nil, fmt.Errorf("begin idempotency: the key keeps changing: %w", store.ErrConflict)
}

// CompleteIdempotency implements store.IdempotencyStore.
func (c Conn) CompleteIdempotency(ctx context.Context, rec *store.IdempotencyRecord) error {
	body := rec.Body
	if body == nil {
		body = []byte{}
	}
	err := changed(c.Q.Exec(ctx, `UPDATE idempotency_keys SET done = true, status_code = $1, content_type = $2, body = $3
		WHERE key_id = $4 AND idem_key = $5 AND fingerprint = $6`,
		rec.StatusCode, rec.ContentType, body, rec.KeyID, rec.Key, rec.Fingerprint))
	if err != nil {
		return fmt.Errorf("complete idempotency: %w", err)
	}
	return nil
}

// ReleaseIdempotency implements store.IdempotencyStore.
func (c Conn) ReleaseIdempotency(ctx context.Context, keyID, key string) error {
	if _, err := c.Q.Exec(ctx, `DELETE FROM idempotency_keys WHERE key_id = $1 AND idem_key = $2 AND NOT done`, keyID, key); err != nil {
		return fmt.Errorf("release idempotency: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotency implements store.IdempotencyStore.
func (c Conn) DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error) {
	n, err := c.Q.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, toMillis(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	return n, nil
}

const fileColumns = `id, tenant, kind, purpose, name, content_type, size, sha256,
	width, height, duration, blob_key, task_id, created_at, expired_at`

func scanFile(r Row) (*task.File, error) {
	var (
		f       task.File
		created int64
		expired *int64
	)
	if err := r.Scan(&f.ID, &f.Tenant, &f.Kind, &f.Purpose, &f.Name, &f.ContentType, &f.Size, &f.SHA256,
		&f.Width, &f.Height, &f.Duration, &f.BlobKey, &f.TaskID, &created, &expired); err != nil {
		return nil, err
	}
	f.CreatedAt, f.ExpiredAt = fromMillis(created), timePtr(expired)
	return &f, nil
}

// CreateFile implements store.FileQueries. ErrConflict if the id exists.
func (c Conn) CreateFile(ctx context.Context, f *task.File) error {
	if f == nil || f.ID == "" {
		return fmt.Errorf("create file: a file with an id is required")
	}
	_, err := c.Q.Exec(ctx, insertFileSQL,
		f.ID, f.Tenant, f.Kind, f.Purpose, f.Name, f.ContentType, f.Size, f.SHA256,
		f.Width, f.Height, f.Duration, f.BlobKey, f.TaskID, toMillis(f.CreatedAt), nullMillis(f.ExpiredAt))
	if err != nil {
		return fmt.Errorf("create file %s: %w", f.ID, err)
	}
	return nil
}

// DeleteFile implements store.FileQueries and store.Executor.
func (c Conn) DeleteFile(ctx context.Context, id string) error {
	if err := changed(c.Q.Exec(ctx, `DELETE FROM files WHERE id = $1`, id)); err != nil {
		return fmt.Errorf("delete file %s: %w", id, err)
	}
	return nil
}

// GetFile implements store.FileQueries and store.Executor.
func (c Conn) GetFile(ctx context.Context, id string) (*task.File, error) {
	f, err := scanFile(c.Q.QueryRow(ctx, `SELECT `+fileColumns+` FROM files WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get file %s: %w", id, err)
	}
	return f, nil
}

// TaskFiles implements store.Executor.
func (c Conn) TaskFiles(ctx context.Context, taskID string) ([]*task.File, error) {
	rows, err := c.Q.Query(ctx, `SELECT `+fileColumns+` FROM files WHERE task_id = $1 AND task_id <> '' ORDER BY id`, taskID)
	fs, err := collect(rows, err, scanFile)
	if err != nil {
		return nil, fmt.Errorf("files of task %s: %w", taskID, err)
	}
	return fs, nil
}

// FileNamed implements store.Executor. A task names a file through its
// URL, which holds the id; ids are random enough that a substring match is
// exact.
func (c Conn) FileNamed(ctx context.Context, tenant, fileID string) (bool, error) {
	var n int
	err := c.Q.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM tasks
		WHERE tenant = $1 AND request_json LIKE $2 ESCAPE '!' LIMIT 1) named`, tenant, "%"+likeEscape(fileID)+"%").Scan(&n)
	if err != nil {
		return false, fmt.Errorf("is file %s named by a task: %w", fileID, err)
	}
	return n > 0, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// ExpireResultFiles implements store.Executor.
func (c Conn) ExpireResultFiles(ctx context.Context, before, at time.Time, limit int) ([]*task.File, error) {
	rows, err := c.Q.Query(ctx, `UPDATE files SET expired_at = $1 WHERE id IN (
		SELECT id FROM files WHERE task_id <> '' AND expired_at IS NULL AND created_at < $2
		ORDER BY created_at, id LIMIT $3) AND expired_at IS NULL
		RETURNING `+fileColumns, toMillis(at), toMillis(before), limit)
	fs, err := collect(rows, err, scanFile)
	if err != nil {
		return nil, fmt.Errorf("expire results: %w", err)
	}
	return fs, nil
}

// TrashBlob implements store.Executor.
func (c Conn) TrashBlob(ctx context.Context, key string, at time.Time) error {
	_, err := c.Q.Exec(ctx, `INSERT INTO blob_trash (blob_key, created_at) VALUES ($1, $2)
		ON CONFLICT (blob_key) DO NOTHING`, key, toMillis(at))
	if err != nil {
		return fmt.Errorf("trash blob %s: %w", key, err)
	}
	return nil
}

// TrashedBlobs implements store.FileQueries.
func (c Conn) TrashedBlobs(ctx context.Context, limit int) ([]string, error) {
	rows, err := c.Q.Query(ctx, `SELECT blob_key FROM blob_trash ORDER BY created_at, blob_key LIMIT $1`, limit)
	keys, err := collect(rows, err, func(r Row) (string, error) {
		var k string
		return k, r.Scan(&k)
	})
	if err != nil {
		return nil, fmt.Errorf("trashed blobs: %w", err)
	}
	return keys, nil
}

// ForgetTrashedBlob implements store.FileQueries.
func (c Conn) ForgetTrashedBlob(ctx context.Context, key string) error {
	if _, err := c.Q.Exec(ctx, `DELETE FROM blob_trash WHERE blob_key = $1`, key); err != nil {
		return fmt.Errorf("forget trashed blob %s: %w", key, err)
	}
	return nil
}

// StorageUsed implements store.FileQueries.
func (c Conn) StorageUsed(ctx context.Context, tenant string) (int64, error) {
	var n int64
	err := c.Q.QueryRow(ctx, `SELECT CAST(COALESCE(SUM(size), 0) AS bigint) FROM files WHERE tenant = $1 AND expired_at IS NULL`, tenant).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage used by %q: %w", tenant, err)
	}
	return n, nil
}

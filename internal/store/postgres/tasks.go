package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// taskColumns is the column list every task query reads, in scanTask's order.
const taskColumns = `id, tenant, dialect, model, model_alias, status,
	request_json, result_json, usage_json, error_json,
	provider, upstream_id, dispatched_at, attempts,
	created_at, updated_at, started_at, finished_at, expires_at, next_check_at,
	progress, version, lease_owner, lease_until, channel, upstream_key`

// liveStatus selects non-terminal tasks. It must match tasks_due_idx's WHERE
// term, and the statuses task.Status.Terminal names (a test checks both).
const liveStatus = `status NOT IN ('succeeded', 'failed', 'cancelled', 'expired')`

const insertTaskSQL = `INSERT INTO tasks (` + taskColumns + `, prompt_lower) VALUES (
	@id, @tenant, @dialect, @model, @model_alias, @status,
	@request_json, @result_json, @usage_json, @error_json,
	@provider, @upstream_id, @dispatched_at, @attempts,
	@created_at, @updated_at, @started_at, @finished_at, @expires_at, @next_check_at,
	@progress, @version, @lease_owner, @lease_until, @channel, @upstream_key, @prompt_lower)`

// createTaskSQL inserts the task and, in the same statement (so in the same
// transaction), its first webhook event when it has a callback URL (the
// outbox rule of store.WebhookStore), and announces it (see Listen).
const createTaskSQL = `WITH inserted AS (
	` + insertTaskSQL + `
	RETURNING id
), hook AS (
	` + enqueueWebhookSQL + ` FROM inserted WHERE @callback_url <> ''
), notified AS (
	SELECT pg_notify('` + notifyChannel + `', @notify_payload)::text AS n FROM inserted
)
SELECT count(n) FROM notified`

// enqueueWebhookSQL records a webhook event; the statements using it add the
// FROM … WHERE that decides whether there is one.
const enqueueWebhookSQL = `INSERT INTO webhook_messages (` + webhookColumns + `)
SELECT @msg_id, @id, @tenant, @key_id, @dialect, @callback_url, @status, @msg_version, @snapshot,
	'pending', 0, @msg_at, 0, '', @msg_at, @msg_at, NULL, '', NULL`

// updateTaskSQL writes every field but id and created_at, conditional on the
// version; records the webhook event when the status changes (old locks the
// row and reads the status before the write); and tells a lost race from a
// missing row, all in one statement. (EXISTS reads the statement's snapshot,
// from before the update.)
const updateTaskSQL = `WITH old AS (
	SELECT status AS old_status, progress AS old_progress, updated_at AS old_updated_at
	FROM tasks WHERE id = @id AND version = @version FOR UPDATE
), updated AS (
	UPDATE tasks SET
		tenant = @tenant, dialect = @dialect, model = @model, model_alias = @model_alias, status = @status,
		request_json = @request_json, result_json = @result_json, usage_json = @usage_json, error_json = @error_json,
		provider = @provider, upstream_id = @upstream_id, dispatched_at = @dispatched_at, attempts = @attempts,
		updated_at = @updated_at, started_at = @started_at, finished_at = @finished_at,
		expires_at = @expires_at, next_check_at = @next_check_at,
		progress = @progress, version = version + 1, lease_owner = @lease_owner, lease_until = @lease_until,
		channel = @channel, upstream_key = @upstream_key, prompt_lower = @prompt_lower
	FROM old
	WHERE id = @id AND version = @version
	RETURNING old_status, old_progress, old_updated_at
), hook AS (
	` + enqueueWebhookSQL + ` FROM updated WHERE @callback_url <> '' AND old_status <> @status
), notified AS (
	-- Visible changes only: lease and schedule bookkeeping is nobody's news.
	SELECT pg_notify('` + notifyChannel + `', @notify_payload)::text AS n FROM updated
	WHERE old_status <> @status OR old_progress <> @progress OR old_updated_at <> @updated_at
)
SELECT (SELECT count(*) FROM updated), EXISTS (SELECT 1 FROM tasks WHERE id = @id), (SELECT count(n) FROM notified)`

// claimSQL picks the due ids and leases them in one statement. SKIP LOCKED
// lets concurrent claimers (other workers, other instances) pass over rows
// another claim is taking instead of queueing behind it; a row whose claim
// committed meanwhile is re-checked against the WHERE and left out.
const claimSQL = `WITH due AS (
	SELECT id AS due_id FROM tasks
	WHERE ` + liveStatus + `
		AND next_check_at <= @now
		AND (lease_until IS NULL OR lease_until <= @now)
	ORDER BY next_check_at, id
	LIMIT @limit
	FOR UPDATE SKIP LOCKED
)
UPDATE tasks SET lease_owner = @owner, lease_until = @until, version = tasks.version + 1
FROM due WHERE tasks.id = due.due_id
RETURNING ` + taskColumns

const nextDueSQL = `SELECT MIN(next_check_at) FROM tasks WHERE ` + liveStatus

// storedError keeps task.Error's RetryAfter, which its JSON form leaves out.
type storedError struct {
	*task.Error
	RetryAfter int `json:"retry_after,omitempty"`
}

// taskArgs returns the named parameters of insertTaskSQL and updateTaskSQL.
func taskArgs(t *task.Task, version int64) (pgx.NamedArgs, error) {
	request, err := json.Marshal(t.Request)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	result, err := nullJSON(t.Result)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	usage, err := nullJSON(t.Usage)
	if err != nil {
		return nil, fmt.Errorf("encode usage: %w", err)
	}
	var taskErr *string
	if t.Error != nil {
		taskErr, err = nullJSON(&storedError{Error: t.Error, RetryAfter: t.Error.RetryAfter})
		if err != nil {
			return nil, fmt.Errorf("encode error: %w", err)
		}
	}
	args := pgx.NamedArgs{
		"id":            t.ID,
		"tenant":        t.Tenant,
		"dialect":       t.Dialect,
		"model":         t.Model,
		"model_alias":   t.ModelAlias,
		"status":        string(t.Status),
		"request_json":  string(request),
		"result_json":   result,
		"usage_json":    usage,
		"error_json":    taskErr,
		"provider":      t.Provider,
		"upstream_id":   t.UpstreamID,
		"dispatched_at": nullMillis(t.DispatchedAt),
		"attempts":      t.Attempts,
		"created_at":    toMillis(t.CreatedAt),
		"updated_at":    toMillis(t.UpdatedAt),
		"started_at":    nullMillis(t.StartedAt),
		"finished_at":   nullMillis(t.FinishedAt),
		"expires_at":    toMillis(t.ExpiresAt),
		"next_check_at": nullMillis(t.NextCheckAt),
		"progress":      t.Progress,
		"version":       version,
		"lease_owner":   t.LeaseOwner,
		"lease_until":   nullMillis(t.LeaseUntil),
		"channel":       t.Channel,
		"upstream_key":  t.UpstreamKey,
		"prompt_lower":  searchable(t.Request.Prompt),
		"callback_url":  t.Request.CallbackURL,
	}
	if err := addWebhookArgs(args, t); err != nil {
		return nil, err
	}
	return args, nil
}

// searchable is the prompt as search matches it: lower-cased, and without NUL
// characters, which PostgreSQL text cannot hold (the prompt itself travels
// JSON-escaped in request_json and keeps them).
func searchable(prompt string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(strings.ToLower(prompt), "\x00", ""), "\uFFFD")
}

// nullJSON encodes v, or NULL when v is a nil pointer.
func nullJSON[T any](v *T) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// decodeJSON decodes s into a new T, or returns nil for NULL.
func decodeJSON[T any](s *string) (*T, error) {
	if s == nil {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal([]byte(*s), v); err != nil {
		return nil, err
	}
	return v, nil
}

// scanTask reads one row of taskColumns.
func scanTask(r pgx.Row) (*task.Task, error) {
	var (
		t                                          task.Task
		status, request                            string
		result, usage, taskErr                     *string
		dispatched, started, finished, next, lease *int64
		created, updated, expires                  int64
	)
	if err := r.Scan(
		&t.ID, &t.Tenant, &t.Dialect, &t.Model, &t.ModelAlias, &status,
		&request, &result, &usage, &taskErr,
		&t.Provider, &t.UpstreamID, &dispatched, &t.Attempts,
		&created, &updated, &started, &finished, &expires, &next,
		&t.Progress, &t.Version, &t.LeaseOwner, &lease, &t.Channel, &t.UpstreamKey,
	); err != nil {
		return nil, err
	}
	t.Status = task.Status(status)
	if err := json.Unmarshal([]byte(request), &t.Request); err != nil {
		return nil, fmt.Errorf("task %s: decode request: %w", t.ID, err)
	}
	var err error
	if t.Result, err = decodeJSON[task.Result](result); err != nil {
		return nil, fmt.Errorf("task %s: decode result: %w", t.ID, err)
	}
	if t.Usage, err = decodeJSON[task.Usage](usage); err != nil {
		return nil, fmt.Errorf("task %s: decode usage: %w", t.ID, err)
	}
	if taskErr != nil {
		se := storedError{Error: &task.Error{}}
		if err := json.Unmarshal([]byte(*taskErr), &se); err != nil {
			return nil, fmt.Errorf("task %s: decode error: %w", t.ID, err)
		}
		se.Error.RetryAfter = se.RetryAfter
		t.Error = se.Error
	}
	t.DispatchedAt = timePtr(dispatched)
	t.CreatedAt = fromMillis(created)
	t.UpdatedAt = fromMillis(updated)
	t.StartedAt = timePtr(started)
	t.FinishedAt = timePtr(finished)
	t.ExpiresAt = fromMillis(expires)
	t.NextCheckAt = timePtr(next)
	t.LeaseUntil = timePtr(lease)
	return &t, nil
}

// scanTasks reads and closes rows.
func scanTasks(rows pgx.Rows) ([]*task.Task, error) {
	tasks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*task.Task, error) { return scanTask(r) })
	if err != nil {
		return nil, err
	}
	if tasks == nil {
		tasks = []*task.Task{}
	}
	return tasks, nil
}

// CreateTask inserts t with Version 1 and sets t.Version. ErrConflict if the id exists.
func (s *Store) CreateTask(ctx context.Context, t *task.Task) error {
	if t == nil || t.ID == "" {
		return errors.New("postgres: create task: a task with an id is required")
	}
	args, err := taskArgs(t, 1)
	if err != nil {
		return fmt.Errorf("postgres: create task %s: %w", t.ID, err)
	}
	args["msg_version"] = int64(1)
	args["notify_payload"] = s.notifyPayload(t.ID)
	if _, err := s.pool.Exec(ctx, createTaskSQL, args); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("postgres: create task %s: %w", t.ID, store.ErrConflict)
		}
		return fmt.Errorf("postgres: create task %s: %w", t.ID, err)
	}
	t.Version = 1
	return nil
}

// GetTask returns the task, or ErrNotFound.
func (s *Store) GetTask(ctx context.Context, id string) (*task.Task, error) {
	t, err := scanTask(s.pool.QueryRow(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: get task %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get task %s: %w", id, err)
	}
	return t, nil
}

// UpdateTask writes every field of t but ID and CreatedAt if the stored version
// equals t.Version, then bumps t.Version. ErrConflict if the version moved,
// ErrNotFound if the task is gone.
func (s *Store) UpdateTask(ctx context.Context, t *task.Task) error {
	if t == nil {
		return errors.New("postgres: update task: nil task")
	}
	args, err := taskArgs(t, t.Version)
	if err != nil {
		return fmt.Errorf("postgres: update task %s: %w", t.ID, err)
	}
	args["msg_version"] = t.Version + 1
	args["notify_payload"] = s.notifyPayload(t.ID)
	var (
		n, notified int64
		exists      bool
	)
	if t.Status.Terminal() {
		// The charge rule of store.AccountStore: the task's charge settles in
		// the transaction that writes its terminal status.
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, updateTaskSQL, args).Scan(&n, &exists, &notified); err != nil || n != 1 {
				return err
			}
			return settleCharge(ctx, tx, t)
		})
	} else {
		err = s.pool.QueryRow(ctx, updateTaskSQL, args).Scan(&n, &exists, &notified)
	}
	if err != nil {
		return fmt.Errorf("postgres: update task %s: %w", t.ID, err)
	}
	switch {
	case n == 1:
		t.Version++
		return nil
	case exists:
		return fmt.Errorf("postgres: update task %s: %w", t.ID, store.ErrConflict)
	}
	return fmt.Errorf("postgres: update task %s: %w", t.ID, store.ErrNotFound)
}

// DeleteTask removes the task, or returns ErrNotFound.
func (s *Store) DeleteTask(ctx context.Context, id string) error {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM tasks WHERE id = $1`, id)
		if n = tag.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return releaseCharge(ctx, tx, id, time.Now()) // a live task's reservation goes back
	})
	if err != nil {
		return fmt.Errorf("postgres: delete task %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("postgres: delete task %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// ExtendLease moves owner's lease on a task; see store.Store.
func (s *Store) ExtendLease(ctx context.Context, id, owner string, until time.Time) error {
	var n int64
	var exists bool
	err := s.pool.QueryRow(ctx, `WITH extended AS (
		UPDATE tasks SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 RETURNING 1
	) SELECT (SELECT count(*) FROM extended), EXISTS (SELECT 1 FROM tasks WHERE id = $2)`,
		toMillis(until), id, owner).Scan(&n, &exists)
	switch {
	case err != nil:
		return fmt.Errorf("postgres: extend lease %s: %w", id, err)
	case n == 1:
		return nil
	case !exists:
		return fmt.Errorf("postgres: extend lease %s: %w", id, store.ErrNotFound)
	}
	return fmt.Errorf("postgres: extend lease %s: not held by %s: %w", id, owner, store.ErrConflict)
}

// ClaimDue leases up to limit due, non-terminal, unleased (or lease-expired)
// tasks to owner until now+lease, bumping their versions. The tasks come back
// in NextCheckAt order (then ID). A limit below 1 claims nothing.
func (s *Store) ClaimDue(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*task.Task, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("postgres: claim: lease must be positive, got %s", lease)
	}
	if limit < 1 {
		return []*task.Task{}, nil
	}
	rows, err := s.pool.Query(ctx, claimSQL, pgx.NamedArgs{
		"owner": owner,
		"until": toMillis(now.Add(lease)),
		"now":   toMillis(now),
		"limit": limit,
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	tasks, err := scanTasks(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	// RETURNING promises no order.
	slices.SortFunc(tasks, func(a, b *task.Task) int {
		return cmp.Or(a.NextCheckAt.Compare(*b.NextCheckAt), strings.Compare(a.ID, b.ID))
	})
	return tasks, nil
}

// NextDue returns the earliest NextCheckAt among non-terminal tasks, leased or
// not, or the zero time when there is none.
func (s *Store) NextDue(ctx context.Context) (time.Time, error) {
	var next *int64
	if err := s.pool.QueryRow(ctx, nextDueSQL).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("postgres: next due: %w", err)
	}
	if next == nil {
		return time.Time{}, nil
	}
	return fromMillis(*next), nil
}

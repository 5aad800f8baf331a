package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

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
// term character for character, and the statuses task.Status.Terminal names
// (a test checks both).
const liveStatus = `status NOT IN ('succeeded', 'failed', 'cancelled', 'expired')`

const insertTaskSQL = `INSERT INTO tasks (` + taskColumns + `, prompt_lower) VALUES (
	:id, :tenant, :dialect, :model, :model_alias, :status,
	:request_json, :result_json, :usage_json, :error_json,
	:provider, :upstream_id, :dispatched_at, :attempts,
	:created_at, :updated_at, :started_at, :finished_at, :expires_at, :next_check_at,
	:progress, :version, :lease_owner, :lease_until, :channel, :upstream_key, :prompt_lower)`

// updateTaskSQL writes every field but id and created_at (which places the
// task in list order for good), conditional on the version.
const updateTaskSQL = `UPDATE tasks SET
	tenant = :tenant, dialect = :dialect, model = :model, model_alias = :model_alias, status = :status,
	request_json = :request_json, result_json = :result_json, usage_json = :usage_json, error_json = :error_json,
	provider = :provider, upstream_id = :upstream_id, dispatched_at = :dispatched_at, attempts = :attempts,
	updated_at = :updated_at, started_at = :started_at, finished_at = :finished_at,
	expires_at = :expires_at, next_check_at = :next_check_at,
	progress = :progress, version = version + 1, lease_owner = :lease_owner, lease_until = :lease_until,
	channel = :channel, upstream_key = :upstream_key, prompt_lower = :prompt_lower
WHERE id = :id AND version = :version`

// claimSQL is river's SQLite claim: pick the due ids and lease them in one
// statement, which SQLite runs under its single write lock.
const claimSQL = `UPDATE tasks SET lease_owner = :owner, lease_until = :until, version = version + 1
WHERE id IN (
	SELECT id FROM tasks
	WHERE ` + liveStatus + `
		AND next_check_at <= :now
		AND (lease_until IS NULL OR lease_until <= :now)
	ORDER BY next_check_at, id
	LIMIT :limit
)
RETURNING ` + taskColumns

const nextDueSQL = `SELECT MIN(next_check_at) FROM tasks WHERE ` + liveStatus

// storedError keeps task.Error's RetryAfter, which its JSON form leaves out.
type storedError struct {
	*task.Error
	RetryAfter int `json:"retry_after,omitempty"`
}

// taskArgs returns the named parameters of insertTaskSQL and updateTaskSQL.
func taskArgs(t *task.Task, version int64) ([]any, error) {
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
	var taskErr sql.NullString
	if t.Error != nil {
		taskErr, err = nullJSON(&storedError{Error: t.Error, RetryAfter: t.Error.RetryAfter})
		if err != nil {
			return nil, fmt.Errorf("encode error: %w", err)
		}
	}
	return []any{
		sql.Named("id", t.ID),
		sql.Named("tenant", t.Tenant),
		sql.Named("dialect", t.Dialect),
		sql.Named("model", t.Model),
		sql.Named("model_alias", t.ModelAlias),
		sql.Named("status", string(t.Status)),
		sql.Named("request_json", string(request)),
		sql.Named("result_json", result),
		sql.Named("usage_json", usage),
		sql.Named("error_json", taskErr),
		sql.Named("provider", t.Provider),
		sql.Named("upstream_id", t.UpstreamID),
		sql.Named("dispatched_at", nullMillis(t.DispatchedAt)),
		sql.Named("attempts", t.Attempts),
		sql.Named("created_at", toMillis(t.CreatedAt)),
		sql.Named("updated_at", toMillis(t.UpdatedAt)),
		sql.Named("started_at", nullMillis(t.StartedAt)),
		sql.Named("finished_at", nullMillis(t.FinishedAt)),
		sql.Named("expires_at", toMillis(t.ExpiresAt)),
		sql.Named("next_check_at", nullMillis(t.NextCheckAt)),
		sql.Named("progress", t.Progress),
		sql.Named("version", version),
		sql.Named("lease_owner", t.LeaseOwner),
		sql.Named("lease_until", nullMillis(t.LeaseUntil)),
		sql.Named("channel", t.Channel),
		sql.Named("upstream_key", t.UpstreamKey),
		sql.Named("prompt_lower", strings.ToLower(t.Request.Prompt)),
	}, nil
}

// nullJSON encodes v, or NULL when v is a nil pointer.
func nullJSON[T any](v *T) (sql.NullString, error) {
	if v == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// decodeJSON decodes s into a new T, or returns nil for NULL.
func decodeJSON[T any](s sql.NullString) (*T, error) {
	if !s.Valid {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal([]byte(s.String), v); err != nil {
		return nil, err
	}
	return v, nil
}

type rowScanner interface{ Scan(dest ...any) error }

// scanTask reads one row of taskColumns.
func scanTask(r rowScanner) (*task.Task, error) {
	var (
		t                                          task.Task
		status, request                            string
		result, usage, taskErr                     sql.NullString
		dispatched, started, finished, next, lease sql.NullInt64
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
	if taskErr.Valid {
		se := storedError{Error: &task.Error{}}
		if err := json.Unmarshal([]byte(taskErr.String), &se); err != nil {
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

// CreateTask inserts t with Version 1 and sets t.Version. ErrConflict if the id exists.
func (s *Store) CreateTask(ctx context.Context, t *task.Task) error {
	if t == nil || t.ID == "" {
		return errors.New("sqlite: create task: a task with an id is required")
	}
	args, err := taskArgs(t, 1)
	if err != nil {
		return fmt.Errorf("sqlite: create task %s: %w", t.ID, err)
	}
	err = s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return insertTask(ctx, tx, t, args) })
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("sqlite: create task %s: %w", t.ID, store.ErrConflict)
		}
		return fmt.Errorf("sqlite: create task %s: %w", t.ID, err)
	}
	t.Version = 1
	return nil
}

// insertTask inserts t (args: taskArgs(t, 1)) and its first webhook event.
func insertTask(ctx context.Context, tx *sql.Tx, t *task.Task, args []any) error {
	if _, err := tx.ExecContext(ctx, insertTaskSQL, args...); err != nil {
		return err
	}
	return enqueueWebhook(ctx, tx, t, 1) // the first status is an event too (store.WebhookStore)
}

// GetTask returns the task, or ErrNotFound.
func (s *Store) GetTask(ctx context.Context, id string) (*task.Task, error) {
	t, err := scanTask(s.read.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: get task %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get task %s: %w", id, err)
	}
	return t, nil
}

// UpdateTask writes every field of t but ID and CreatedAt if the stored version
// equals t.Version, then bumps t.Version. ErrConflict if the version moved,
// ErrNotFound if the task is gone.
func (s *Store) UpdateTask(ctx context.Context, t *task.Task) error {
	if t == nil {
		return errors.New("sqlite: update task: nil task")
	}
	args, err := taskArgs(t, t.Version)
	if err != nil {
		return fmt.Errorf("sqlite: update task %s: %w", t.ID, err)
	}
	err = s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// The status before the write decides whether it is a webhook event;
		// no row here means the version moved, and the update below says so.
		var before string
		err := tx.QueryRowContext(ctx, `SELECT status FROM tasks WHERE id = ? AND version = ?`, t.ID, t.Version).Scan(&before)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := tx.ExecContext(ctx, updateTaskSQL, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			if t.Status.Terminal() { // the charge rule of store.AccountStore
				if err := settleCharge(ctx, tx, t); err != nil {
					return err
				}
			}
			if before != string(t.Status) {
				return enqueueWebhook(ctx, tx, t, t.Version+1)
			}
			return nil
		}
		// Nothing matched: tell a moved version from a missing task.
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM tasks WHERE id = ?)`, t.ID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return store.ErrConflict
		}
		return store.ErrNotFound
	})
	if err != nil {
		return fmt.Errorf("sqlite: update task %s: %w", t.ID, err)
	}
	t.Version++
	return nil
}

// DeleteTask removes the task, or returns ErrNotFound.
func (s *Store) DeleteTask(ctx context.Context, id string) error {
	var n int64
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tasks WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return releaseCharge(ctx, tx, id, time.Now()) // a live task's reservation goes back
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete task %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: delete task %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// ExtendLease moves owner's lease on a task; see store.Store.
func (s *Store) ExtendLease(ctx context.Context, id, owner string, until time.Time) error {
	var n int64
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tasks SET lease_until = ? WHERE id = ? AND lease_owner = ?`,
			toMillis(until), id, owner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: extend lease %s: %w", id, err)
	}
	if n == 1 {
		return nil
	}
	if _, err := s.GetTask(ctx, id); err != nil {
		return fmt.Errorf("sqlite: extend lease %s: %w", id, err)
	}
	return fmt.Errorf("sqlite: extend lease %s: not held by %s: %w", id, owner, store.ErrConflict)
}

// ClaimDue leases up to limit due, non-terminal, unleased (or lease-expired)
// tasks to owner until now+lease, bumping their versions. The tasks come back
// in NextCheckAt order (then ID). A limit below 1 claims nothing.
func (s *Store) ClaimDue(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*task.Task, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("sqlite: claim: lease must be positive, got %s", lease)
	}
	if limit < 1 {
		return []*task.Task{}, nil
	}
	var tasks []*task.Task
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, claimSQL,
			sql.Named("owner", owner),
			sql.Named("until", toMillis(now.Add(lease))),
			sql.Named("now", toMillis(now)),
			sql.Named("limit", limit),
		)
		if err != nil {
			return err
		}
		tasks, err = scanTasks(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	// RETURNING promises no order.
	slices.SortFunc(tasks, func(a, b *task.Task) int {
		return cmp.Or(a.NextCheckAt.Compare(*b.NextCheckAt), strings.Compare(a.ID, b.ID))
	})
	return tasks, nil
}

// scanTasks reads and closes rows.
func scanTasks(rows *sql.Rows) ([]*task.Task, error) {
	defer rows.Close()
	tasks := []*task.Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return tasks, rows.Close()
}

// NextDue returns the earliest NextCheckAt among non-terminal tasks, leased or
// not, or the zero time when there is none.
func (s *Store) NextDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := s.read.QueryRowContext(ctx, nextDueSQL).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("sqlite: next due: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return fromMillis(next.Int64), nil
}

package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

var errNotFound = store.ErrNotFound

// TaskColumns is the column list every task query reads, in ScanTask's order.
const TaskColumns = `id, tenant, dialect, model, model_alias, status,
	request_json, result_json, usage_json, error_json,
	provider, upstream_id, dispatched_at, attempts,
	created_at, updated_at, started_at, finished_at, expires_at, next_check_at,
	progress, version, lease_owner, lease_until, channel, upstream_key, trace_parent`

// LiveStatus selects non-terminal tasks. It must match the WHERE term of
// the indexes on live tasks character for character, and the statuses
// task.Status.Terminal names (the adapters' tests check both).
const LiveStatus = `status NOT IN ('succeeded', 'failed', 'cancelled', 'expired')`

// TaskArgCount is how many parameters TaskArgs makes (TaskColumns, then the
// columns kept for lookups only: writtenColumns).
const TaskArgCount = 29

// writtenColumns are written with every task but never read back: copies of
// request fields that queries select on (prompt_lower: Go's Unicode
// lower-casing for the search; request_id: the seedance dialect's lookup,
// indexed, where reading the JSON would scan a tenant's every task).
const writtenColumns = `, prompt_lower, request_id`

// InsertTaskSQL inserts a task from TaskArgs (the version parameter is 1).
var InsertTaskSQL = `INSERT INTO tasks (` + TaskColumns + writtenColumns + `) VALUES (` + params(1, TaskArgCount) + `)`

// UpdateTaskSQL writes every field of TaskArgs but id and created_at (which
// places the task in list order for good), conditional on the version, and
// bumps it.
var UpdateTaskSQL = func() string {
	cols := strings.Split(strings.Join(strings.Fields(TaskColumns+writtenColumns), " "), ", ")
	set := make([]string, 0, len(cols))
	for i, c := range cols {
		switch c {
		case "id", "created_at":
		case "version":
			set = append(set, "version = version + 1")
		default:
			set = append(set, c+" = $"+strconv.Itoa(i+1))
		}
	}
	// $15 (created_at) is not written, but PostgreSQL refuses a parameter
	// no term refers to: the last term only names its type.
	return `UPDATE tasks SET ` + strings.Join(set, ", ") + ` WHERE id = $1 AND version = $22 AND CAST($15 AS bigint) IS NOT NULL`
}()

// Parameter numbers in TaskArgs that queries refer to.
const (
	TaskArgStatus    = "$6"
	TaskArgUpdatedAt = "$16"
	TaskArgProgress  = "$21"
	TaskArgVersion   = "$22"
)

// params is "$from, …, $to".
func params(from, to int) string {
	ps := make([]string, 0, to-from+1)
	for i := from; i <= to; i++ {
		ps = append(ps, "$"+strconv.Itoa(i))
	}
	return strings.Join(ps, ", ")
}

// storedError keeps task.Error's RetryAfter, which its JSON form leaves out.
type storedError struct {
	*task.Error
	RetryAfter int `json:"retry_after,omitempty"`
}

// TaskArgs are the parameters of InsertTaskSQL and UpdateTaskSQL, with
// version as the version parameter.
func TaskArgs(t *task.Task, version int64) ([]any, error) {
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
		if taskErr, err = nullJSON(&storedError{Error: t.Error, RetryAfter: t.Error.RetryAfter}); err != nil {
			return nil, fmt.Errorf("encode error: %w", err)
		}
	}
	return []any{
		t.ID, t.Tenant, t.Dialect, t.Model, t.ModelAlias, string(t.Status),
		string(request), result, usage, taskErr,
		t.Provider, t.UpstreamID, nullMillis(t.DispatchedAt), t.Attempts,
		toMillis(t.CreatedAt), toMillis(t.UpdatedAt), nullMillis(t.StartedAt), nullMillis(t.FinishedAt),
		toMillis(t.ExpiresAt), nullMillis(t.NextCheckAt),
		t.Progress, version, t.LeaseOwner, nullMillis(t.LeaseUntil), t.Channel, t.UpstreamKey, t.TraceParent,
		strings.ToLower(t.Request.Prompt), t.Request.RequestID,
	}, nil
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

// ScanTask reads one row of TaskColumns.
func ScanTask(r Row) (*task.Task, error) {
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
		&t.Progress, &t.Version, &t.LeaseOwner, &lease, &t.Channel, &t.UpstreamKey, &t.TraceParent,
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
	t.DispatchedAt, t.StartedAt, t.FinishedAt = timePtr(dispatched), timePtr(started), timePtr(finished)
	t.CreatedAt, t.UpdatedAt, t.ExpiresAt = fromMillis(created), fromMillis(updated), fromMillis(expires)
	t.NextCheckAt, t.LeaseUntil = timePtr(next), timePtr(lease)
	return &t, nil
}

// InsertTask implements store.Executor.
func (c Conn) InsertTask(ctx context.Context, t *task.Task) error {
	args, err := TaskArgs(t, 1)
	if err != nil {
		return err
	}
	_, err = c.Q.Exec(ctx, InsertTaskSQL, args...)
	return err
}

// UpdateTaskIfVersion implements store.Executor: the status is read (and
// the row locked) first, then the conditional update.
func (c Conn) UpdateTaskIfVersion(ctx context.Context, t *task.Task) (task.Status, error) {
	args, err := TaskArgs(t, t.Version)
	if err != nil {
		return "", err
	}
	var before string
	err = c.Q.QueryRow(ctx, `SELECT status FROM tasks WHERE id = $1 AND version = $2`+c.D.ForUpdate, t.ID, t.Version).Scan(&before)
	if notFound(err) {
		return "", c.missing(ctx, t.ID)
	}
	if err != nil {
		return "", err
	}
	if _, err := c.Q.Exec(ctx, UpdateTaskSQL, args...); err != nil {
		return "", err
	}
	return task.Status(before), nil
}

// missing tells a moved version (ErrConflict) from a missing task.
func (c Conn) missing(ctx context.Context, id string) error {
	var exists bool
	if err := c.Q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tasks WHERE id = $1)`, id).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return store.ErrConflict
	}
	return store.ErrNotFound
}

// DeleteTaskRow implements store.Executor.
func (c Conn) DeleteTaskRow(ctx context.Context, id string) error {
	return changed(c.Q.Exec(ctx, `DELETE FROM tasks WHERE id = $1`, id))
}

// GetTask implements store.TaskQueries.
func (c Conn) GetTask(ctx context.Context, id string) (*task.Task, error) {
	t, err := ScanTask(c.Q.QueryRow(ctx, `SELECT `+TaskColumns+` FROM tasks WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get task %s: %w", id, err)
	}
	return t, nil
}

// ExtendLease implements store.TaskQueries.
func (c Conn) ExtendLease(ctx context.Context, id, owner string, until time.Time) error {
	n, err := c.Q.Exec(ctx, `UPDATE tasks SET lease_until = $1 WHERE id = $2 AND lease_owner = $3`, toMillis(until), id, owner)
	if err == nil && n == 0 {
		if err = c.missing(ctx, id); err == store.ErrConflict {
			err = fmt.Errorf("not held by %s: %w", owner, err)
		}
	}
	if err != nil {
		return fmt.Errorf("extend lease %s: %w", id, err)
	}
	return nil
}

// NextDue implements store.TaskQueries.
func (c Conn) NextDue(ctx context.Context) (time.Time, error) {
	return c.minTime(ctx, `SELECT MIN(next_check_at) FROM tasks WHERE `+LiveStatus)
}

func (c Conn) minTime(ctx context.Context, query string) (time.Time, error) {
	var next *int64
	if err := c.Q.QueryRow(ctx, query).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next due: %w", err)
	}
	if next == nil {
		return time.Time{}, nil
	}
	return fromMillis(*next), nil
}

const claimSet = `lease_owner = $1, lease_until = $2, version = version + 1`

const claimWhere = LiveStatus + ` AND next_check_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)`

// ClaimSQL and ClaimChecksSQL are the claims of ClaimDue and
// ClaimDueChecks: $1 owner, $2 lease end, $3 now, $4 limit, $5 providers.
func (c Conn) ClaimSQL() string {
	return c.D.Claim("tasks", claimSet, claimWhere, "next_check_at, id", "$4", TaskColumns)
}

func (c Conn) ClaimChecksSQL() string {
	return c.D.Claim("tasks", claimSet, claimWhere+` AND upstream_id <> '' AND `+c.D.InList("provider", "$5"),
		"next_check_at, id", "$4", TaskColumns)
}

// ClaimDue implements store.TaskQueries.
func (c Conn) ClaimDue(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*task.Task, error) {
	return c.claim(ctx, c.ClaimSQL(), owner, now, lease, limit)
}

// ClaimDueChecks implements store.UpstreamStore.
func (c Conn) ClaimDueChecks(ctx context.Context, owner string, now time.Time, lease time.Duration, providers []string, limit int) ([]*task.Task, error) {
	if len(providers) == 0 {
		limit = 0
	}
	return c.claim(ctx, c.ClaimChecksSQL(), owner, now, lease, limit, c.D.List(providers))
}

func (c Conn) claim(ctx context.Context, query, owner string, now time.Time, lease time.Duration, limit int, more ...any) ([]*task.Task, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("claim: lease must be positive, got %s", lease)
	}
	if limit < 1 {
		return []*task.Task{}, nil
	}
	args := append([]any{owner, toMillis(now.Add(lease)), toMillis(now), limit}, more...)
	var tasks []*task.Task
	err := c.Q.Write(ctx, func(q Querier) error {
		rows, err := q.Query(ctx, query, args...)
		tasks, err = collect(rows, err, ScanTask)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	// RETURNING promises no order.
	slices.SortFunc(tasks, func(a, b *task.Task) int {
		return cmp.Or(a.NextCheckAt.Compare(*b.NextCheckAt), strings.Compare(a.ID, b.ID))
	})
	return tasks, nil
}

// KeyLoadSQL lists the live tasks holding an upstream key: $1 provider, $2 model.
const KeyLoadSQL = `SELECT id, channel, upstream_key FROM tasks
WHERE ` + LiveStatus + ` AND upstream_key <> '' AND provider = $1 AND model = $2`

// KeyLoad implements store.UpstreamStore.
func (c Conn) KeyLoad(ctx context.Context, provider, model string) ([]store.KeySlot, error) {
	rows, err := c.Q.Query(ctx, KeyLoadSQL, provider, model)
	out, err := collect(rows, err, func(r Row) (store.KeySlot, error) {
		var k store.KeySlot
		return k, r.Scan(&k.TaskID, &k.Channel, &k.UpstreamKey)
	})
	if err != nil {
		return nil, fmt.Errorf("key load: %w", err)
	}
	return out, nil
}

// MakeDue implements store.UpstreamStore.
func (c Conn) MakeDue(ctx context.Context, ids []string, at, now time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	n, err := c.Q.Exec(ctx, `UPDATE tasks SET next_check_at = $2, version = version + 1
		WHERE `+c.D.InList("id", "$1")+` AND `+LiveStatus+`
			AND (next_check_at IS NULL OR next_check_at > $2)
			AND (lease_until IS NULL OR lease_until <= $3)`,
		c.D.List(ids), toMillis(at), toMillis(now))
	if err != nil {
		return 0, fmt.Errorf("make due: %w", err)
	}
	return int(n), nil
}

var _ store.Executor = Conn{}

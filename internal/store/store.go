// Package store defines the one storage interface seedgate runs on, Store,
// and keeps the rules of what a write touches.
//
// The layers, top down:
//   - store (this package): Store and its domain types; DB, the Store over a
//     Driver, which holds the rules — the webhook outbox of a status change,
//     the settling or release of a task's charge, admission (in-flight limit,
//     balance), balance adjustments, gone webhook endpoints — and runs them in
//     the driver's transaction through its Executor (driver.go).
//   - store/sqlstore: the SQL both engines read the same ($n parameters,
//     which SQLite accepts too) and the encoding of the columns.
//   - store/sqlite, store/postgres: the drivers — connections, transactions
//     (SQLite's group commit; PostgreSQL's row and advisory locks) and the few
//     queries each engine spells its own way (claims, list filters, NOTIFY).
//   - store/storetest: the contract, one suite run against both drivers.
//
// A new query goes into sqlstore when both engines read it alike, else into
// each driver (a Dialect spelling or an overriding method), with its case in
// storetest; a new rule goes into DB over Executor methods.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// Sentinel errors: adapters turn driver errors into these at their edge.
var (
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a conditional write lost (the row's version moved, or the id exists).
	ErrConflict = errors.New("store: conflict")
)

// Store is the durable state of the gateway: every implementation implements
// all of it (store.New over a Driver; see driver.go). Tasks double as the
// work queue: ClaimDue hands due tasks to one scheduler instance at a time
// under a lease.
type Store interface {
	TaskStore
	FileStore
	UpstreamStore
	WebhookStore
	IdempotencyStore
	AccountStore
	SettingStore
	StatsQueries
	InstanceStore
	AssetStore
	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// TaskStore holds tasks. The rules of CreateTask, UpdateTask and DeleteTask
// (the webhook outbox and the charge of the task) are written once, in this
// package, above the drivers.
type TaskStore interface {
	TaskQueries
	// CreateTask inserts t (Version becomes 1), and its first webhook event
	// (see WebhookStore). ErrConflict if the id exists.
	CreateTask(ctx context.Context, t *task.Task) error
	// UpdateTask writes every mutable field of t if the stored Version equals t.Version,
	// then bumps t.Version. ErrConflict if the version moved; ErrNotFound if gone.
	// Lease fields are written as given (the scheduler clears them to release).
	// A status change records a webhook event, a terminal status settles the
	// task's charge (see AccountStore), in the same transaction.
	UpdateTask(ctx context.Context, t *task.Task) error
	// DeleteTask removes a task for good (a dialect's DELETE of a finished
	// task), releasing its open charge, with its result files and those of
	// uploads, the task's inputs, that no other task of their tenant names;
	// their blobs go to the trash (FileStore) in the same transaction.
	// ErrNotFound if there is no task.
	DeleteTask(ctx context.Context, id string, uploads ...string) error
}

// TaskQueries are the task methods without a rule: a driver's plain queries.
type TaskQueries interface {
	// GetTask returns the task, or ErrNotFound.
	GetTask(ctx context.Context, id string) (*task.Task, error)
	// ListTasks returns a page of tasks, newest first (CreatedAt desc, ID desc).
	ListTasks(ctx context.Context, f TaskFilter) (TaskPage, error)
	// ClaimDue leases up to limit non-terminal tasks whose NextCheckAt <= now and whose
	// lease is free or expired, setting LeaseOwner=owner and LeaseUntil=now+lease.
	// Two concurrent callers never receive the same task while a lease is live.
	ClaimDue(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*task.Task, error)
	// ExtendLease moves the lease of a task held by owner to until, without bumping
	// Version (the holder's pending write stays valid). ErrConflict if owner no longer
	// holds it; ErrNotFound if the task is gone.
	ExtendLease(ctx context.Context, id, owner string, until time.Time) error
	// NextDue returns the earliest NextCheckAt among non-terminal tasks (zero time if none),
	// so the scheduler can sleep exactly until there is work.
	NextDue(ctx context.Context) (time.Time, error)
}

// FileStore holds the records of uploaded and produced files, and the trash
// of blobs to remove.
//
// The trash rule (kept by DB): a file row removed by DeleteTask, or a result
// expired by ExpireResults, puts its blob key in the trash in the same
// transaction; whoever empties the trash deletes the blob first and forgets
// the key after, so a crash leaves work to redo, never an orphan, and two
// instances deleting one blob do no harm.
type FileStore interface {
	FileQueries
	// ExpireResults marks expired (ExpiredAt = at), and trashes the blobs
	// of, up to limit result files (TaskID set) created before before, oldest
	// first; it returns them.
	ExpireResults(ctx context.Context, before, at time.Time, limit int) ([]*task.File, error)
}

// FileQueries are the file methods without a rule.
type FileQueries interface {
	// CreateFile records an uploaded or produced file. GetFile returns it or ErrNotFound.
	CreateFile(ctx context.Context, f *task.File) error
	GetFile(ctx context.Context, id string) (*task.File, error)
	// DeleteFile removes a file's record (an upload whose request then failed), or ErrNotFound.
	DeleteFile(ctx context.Context, id string) error
	// StorageUsed is the size of the tenant's files whose content is kept
	// (uploads and unexpired results).
	StorageUsed(ctx context.Context, tenant string) (int64, error)
	// TrashedBlobs returns up to limit blob keys waiting in the trash, oldest first.
	TrashedBlobs(ctx context.Context, limit int) ([]string, error)
	// ForgetTrashedBlob takes key out of the trash (its blob is deleted); no error if it is not there.
	ForgetTrashedBlob(ctx context.Context, key string) error
}

// SettingStore holds settings every instance must agree on.
type SettingStore interface {
	// Setting returns the value stored under key, storing init first if there is none
	// (so several instances agree on e.g. the URL-signing secret).
	Setting(ctx context.Context, key, init string) (string, error)
}

// TaskFilter selects tasks for ListTasks. Zero fields do not filter.
type TaskFilter struct {
	Tenant   *string // nil: any tenant; otherwise exactly this tenant ("" included)
	Statuses []task.Status
	Model    string // canonical id
	Dialect  string
	IDs      []string
	// ServiceTier selects tasks whose normalized request has this service tier (Ark's filter.service_tier).
	ServiceTier string
	// RequestID selects the task created by this gateway request id (Request.RequestID):
	// the seedance dialect's clients know a task by it.
	RequestID string
	// Prompt substring search (case-insensitive), for the console.
	Search string
	// CreatedAfter/Before bound CreatedAt (inclusive after, exclusive before).
	CreatedAfter, CreatedBefore time.Time

	// Paging: either Offset (page_num style) or After (keyset: tasks older than this id).
	Limit  int
	Offset int
	After  string
	// Asc reverses the order (oldest first); used by the OpenAI dialect's order=asc.
	Asc bool
	// CountTotal asks for TaskPage.Total (costs a COUNT query).
	CountTotal bool
}

// TaskPage is one page of ListTasks.
type TaskPage struct {
	Tasks   []*task.Task
	Total   int  // only when TaskFilter.CountTotal
	HasMore bool // more tasks beyond this page
}

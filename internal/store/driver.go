package store

import (
	"context"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// Driver is what a database engine provides (store/sqlite, store/postgres):
// its plain queries, and transactions in which the rules of DB run through an
// Executor. A driver decides nothing about what is written: which rows a
// status change, an admission or a delete touches is DB's business.
type Driver interface {
	Queries
	// InTx runs fn in one write transaction and commits it when fn returns
	// nil; an error from fn rolls back everything fn wrote. fn must use only
	// the ctx and the Executor it is given.
	InTx(ctx context.Context, fn func(ctx context.Context, x Executor) error) error
	Ping(ctx context.Context) error
	Close() error
}

// Queries are the methods of Store that hold no rule: each is one query (or a
// few, in one snapshot), written by the driver.
type Queries interface {
	TaskQueries
	FileQueries
	UpstreamStore
	WebhookQueries
	IdempotencyStore
	AccountQueries
	SettingStore
	StatsQueries
	InstanceQueries
	AssetQueries
}

// Executor is the statements the rules of DB are made of, run inside a
// Driver's transaction. Reads that a decision rests on lock what they read
// (SELECT … FOR UPDATE on PostgreSQL; SQLite's one writer serializes), so the
// rules hold with concurrent writers in several processes.
type Executor interface {
	// InsertTask inserts t with Version 1. ErrConflict if the id exists.
	InsertTask(ctx context.Context, t *task.Task) error
	// UpdateTaskIfVersion writes every field of t but ID and CreatedAt, and
	// bumps the version, if the stored version is t.Version; it returns the
	// status the task had before. ErrConflict if the version moved,
	// ErrNotFound if the task is gone.
	UpdateTaskIfVersion(ctx context.Context, t *task.Task) (before task.Status, err error)
	// DeleteTaskRow removes the task's row, or returns ErrNotFound.
	DeleteTaskRow(ctx context.Context, id string) error

	// GetTask, GetFile and DeleteFile are the queries' inside the transaction.
	GetTask(ctx context.Context, id string) (*task.Task, error)
	GetFile(ctx context.Context, id string) (*task.File, error)
	DeleteFile(ctx context.Context, id string) error
	// TaskFiles returns the result files of a task (TaskID = taskID).
	TaskFiles(ctx context.Context, taskID string) ([]*task.File, error)
	// FileNamed reports whether a task of tenant names fileID in its request.
	FileNamed(ctx context.Context, tenant, fileID string) (bool, error)
	// ExpireResultFiles sets ExpiredAt = at on up to limit unexpired result
	// files created before before, oldest first, and returns them.
	ExpireResultFiles(ctx context.Context, before, at time.Time, limit int) ([]*task.File, error)
	// TrashBlob puts a blob key in the trash (once).
	TrashBlob(ctx context.Context, key string, at time.Time) error
	// GetAsset and AssetMirrors are the queries' inside the transaction;
	// DeleteAssetRows removes an asset's row and its mirrors' (ErrNotFound
	// if there is no asset).
	GetAsset(ctx context.Context, id string) (*Asset, error)
	AssetMirrors(ctx context.Context, assetID string) ([]*AssetMirror, error)
	DeleteAssetRows(ctx context.Context, id string) error

	// InsertWebhookMessage appends m to the outbox.
	InsertWebhookMessage(ctx context.Context, m *WebhookMessage) error
	// InsertWebhookAttempt records attempt a of message id (kept once per N).
	InsertWebhookAttempt(ctx context.Context, id string, a WebhookAttempt) error
	// FinishWebhookMessage writes m's delivery fields and releases its lease
	// if owner holds it; false (nothing written) if it does not.
	FinishWebhookMessage(ctx context.Context, owner string, m *WebhookMessage) (bool, error)
	// GoneWebhookEndpoint marks gone, with lastError, the pending messages to
	// keyID and url but except.
	GoneWebhookEndpoint(ctx context.Context, keyID, url, except, lastError string, at time.Time) error

	// LockOpenCharges counts the open charges of an API key, holding the key's
	// admission lock until the transaction ends (two admissions never both
	// count the same free slot).
	LockOpenCharges(ctx context.Context, keyID string) (int, error)
	// OpenCharge returns the task's open charge, locked, or ErrNotFound.
	OpenCharge(ctx context.Context, taskID string) (*Charge, error)
	// InsertCharge stores c.
	InsertCharge(ctx context.Context, c *Charge) error
	// CloseCharge ends the open charge of taskID: its state, usage and cost.
	CloseCharge(ctx context.Context, taskID, state string, tokens, amount int64, at time.Time) error
	// UnholdCharges marks the tenant's open charges as not held by a balance.
	UnholdCharges(ctx context.Context, tenant string) error
	// InsertLedger appends e, setting e.ID.
	InsertLedger(ctx context.Context, e *LedgerEntry) error

	// EnsureTenant creates the tenant's row (no limits, no balance) if it has none.
	EnsureTenant(ctx context.Context, id string, at time.Time) error
	// TenantBalance returns the tenant's balance, its row locked; nil when the
	// tenant has no balance (or no row).
	TenantBalance(ctx context.Context, id string) (*int64, error)
	// AddBalance adds delta to the tenant's balance and returns the new one;
	// nil (nothing written) when the tenant has no balance. With orZero a
	// tenant without a balance starts from 0.
	AddBalance(ctx context.Context, id string, delta int64, orZero bool, at time.Time) (*int64, error)
	// RemoveBalance makes the tenant unlimited by a balance.
	RemoveBalance(ctx context.Context, id string, at time.Time) error
	// GetTenant is AccountQueries.GetTenant inside the transaction.
	GetTenant(ctx context.Context, id string) (*Tenant, error)

	// StaleInstances returns, locked, the instances whose last heartbeat is
	// before before.
	StaleInstances(ctx context.Context, before time.Time) ([]string, error)
	// ReleaseLeases frees the leases the owners hold on live tasks (bumping
	// their version, so a holder that is still running cannot write its step)
	// and on pending webhook messages, and says how many; nil owners: every
	// lease.
	ReleaseLeases(ctx context.Context, owners []string) (int64, error)
	// DeleteInstances forgets the instances ids.
	DeleteInstances(ctx context.Context, ids []string) error
}

package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/task"
)

// Options tune a DB.
type Options struct {
	// Now stamps the writes whose time the caller does not give (the release
	// of a deleted task's charge). Nil: time.Now.
	Now func() time.Time
	// Observer, when set, hears of every write transaction and what it
	// wrote (observe.go); a GroupCommitObserver also of SQLite's group commits.
	Observer Observer
}

// DB is the Store over a Driver: the driver's queries, and the rules that
// decide what a write touches — the webhook outbox, the charge of a task,
// admission, balances, gone endpoints — written once, here, and run inside
// the driver's transaction.
type DB struct {
	Driver
	now func() time.Time
	obs Observer // nil: none
}

var _ Store = (*DB)(nil)

// New returns the Store of d.
func New(d Driver, o Options) *DB {
	return &DB{Driver: d, now: baseservice.Now(o.Now), obs: o.Observer}
}

// CreateTask implements TaskStore.
func (db *DB) CreateTask(ctx context.Context, t *task.Task) error {
	if t == nil || t.ID == "" {
		return errors.New("store: create task: a task with an id is required")
	}
	msg, err := db.outboxEvent(t, 1)
	if err != nil {
		return fmt.Errorf("store: create task %s: %w", t.ID, err)
	}
	err = db.InTx(ctx, func(ctx context.Context, x Executor) error { return insertTask(ctx, x, t, msg) })
	if err != nil {
		return fmt.Errorf("store: create task %s: %w", t.ID, err)
	}
	t.Version = 1
	return nil
}

// insertTask writes a new task and its first event (msg, nil when none).
func insertTask(ctx context.Context, x Executor, t *task.Task, msg *WebhookMessage) error {
	if err := x.InsertTask(ctx, t); err != nil {
		return err
	}
	if msg != nil {
		return x.InsertWebhookMessage(ctx, msg)
	}
	return nil
}

// UpdateTask implements TaskStore.
func (db *DB) UpdateTask(ctx context.Context, t *task.Task) error {
	if t == nil {
		return errors.New("store: update task: nil task")
	}
	// The event is made ready outside the transaction (SQLite's one writer
	// should not wait on JSON encoding); it is written only if the status
	// the update replaces differs.
	msg, err := db.outboxEvent(t, t.Version+1)
	if err != nil {
		return fmt.Errorf("store: update task %s: %w", t.ID, err)
	}
	err = db.InTx(ctx, func(ctx context.Context, x Executor) error {
		before, err := x.UpdateTaskIfVersion(ctx, t)
		if err != nil {
			return err
		}
		if t.Status.Terminal() {
			if err := db.settleCharge(ctx, x, t); err != nil {
				return err
			}
		}
		if msg != nil && before != t.Status {
			return x.InsertWebhookMessage(ctx, msg)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: update task %s: %w", t.ID, err)
	}
	t.Version++
	return nil
}

// DeleteTask implements TaskStore: the row goes, a live task's reservation
// goes back to its tenant, and its files go (the trash rule of FileStore).
func (db *DB) DeleteTask(ctx context.Context, id string, uploads ...string) error {
	err := db.InTx(ctx, func(ctx context.Context, x Executor) error {
		now := db.now()
		t, err := x.GetTask(ctx, id)
		if err != nil {
			return err
		}
		if err := x.DeleteTaskRow(ctx, id); err != nil {
			return err
		}
		if err := db.deleteTaskFiles(ctx, x, t, uploads, now); err != nil {
			return err
		}
		c, err := x.OpenCharge(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return closeCharge(ctx, x, c, ChargeReleased, 0, 0, now)
	})
	if err != nil {
		return fmt.Errorf("store: delete task %s: %w", id, err)
	}
	return nil
}

// deleteTaskFiles removes, after t's row, its result files and the uploads
// of its tenant among uploads that no remaining task of the tenant names, and
// trashes their blobs.
func (db *DB) deleteTaskFiles(ctx context.Context, x Executor, t *task.Task, uploads []string, at time.Time) error {
	files, err := x.TaskFiles(ctx, t.ID)
	if err != nil {
		return fmt.Errorf("files of the task: %w", err)
	}
	for _, fid := range uploads {
		f, err := x.GetFile(ctx, fid)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if f.TaskID != "" || f.Tenant != t.Tenant {
			continue // another task's result, or another tenant's file
		}
		named, err := x.FileNamed(ctx, f.Tenant, f.ID)
		if err != nil {
			return err
		}
		if !named {
			files = append(files, f)
		}
	}
	for _, f := range files {
		if err := x.DeleteFile(ctx, f.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if f.BlobKey != "" && f.ExpiredAt == nil {
			if err := x.TrashBlob(ctx, f.BlobKey, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// ExpireResults implements FileStore.
func (db *DB) ExpireResults(ctx context.Context, before, at time.Time, limit int) ([]*task.File, error) {
	var files []*task.File
	err := db.InTx(ctx, func(ctx context.Context, x Executor) error {
		var err error
		if files, err = x.ExpireResultFiles(ctx, before, at, limit); err != nil {
			return err
		}
		for _, f := range files {
			if err := x.TrashBlob(ctx, f.BlobKey, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: expire results: %w", err)
	}
	return files, nil
}

// outboxEvent is the webhook event of t's status at version (nil when t has
// no callback URL): the outbox rule of WebhookStore.
func (db *DB) outboxEvent(t *task.Task, version int64) (*WebhookMessage, error) {
	if t.Request.CallbackURL == "" {
		return nil, nil
	}
	snap, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("webhook snapshot: %w", err)
	}
	at := db.stamp(t.UpdatedAt)
	return &WebhookMessage{
		ID: newMessageID(), TaskID: t.ID, Tenant: t.Tenant, KeyID: t.Request.KeyID, Dialect: t.Dialect,
		URL: t.Request.CallbackURL, Endpoint: WebhookEndpoint(t.Request.CallbackURL), Status: t.Status, TaskVersion: version, Snapshot: snap,
		State: WebhookPending, NextAttemptAt: &at, CreatedAt: at, UpdatedAt: at,
	}, nil
}

// stamp is at, or now when at is zero.
func (db *DB) stamp(at time.Time) time.Time {
	if at.IsZero() {
		return db.now()
	}
	return at
}

// newMessageID returns a webhook-id in the Standard Webhooks style.
func newMessageID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}

// settleCharge ends t's open charge, if it has one, as t's terminal status
// says: the charge rule of AccountStore.
func (db *DB) settleCharge(ctx context.Context, x Executor, t *task.Task) error {
	c, err := x.OpenCharge(ctx, t.ID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("settle charge: %w", err)
	}
	state, tokens, amount := c.Settle(t)
	return closeCharge(ctx, x, c, state, tokens, amount, db.stamp(t.UpdatedAt))
}

// closeCharge writes the end of an open charge: its state, the balance (the
// reservation back, the cost taken) and the ledger entry.
func closeCharge(ctx context.Context, x Executor, c *Charge, state string, tokens, amount int64, at time.Time) error {
	if err := x.CloseCharge(ctx, c.TaskID, state, tokens, amount, at); err != nil {
		return fmt.Errorf("close charge: %w", err)
	}
	e := &LedgerEntry{At: at, Tenant: c.Tenant, Kind: LedgerSettle, TaskID: c.TaskID, KeyID: c.KeyID,
		Model: c.Model, Tokens: tokens, Amount: amount, Unit: c.Unit, Actor: "gateway"}
	if state == ChargeReleased {
		e.Kind, e.Amount = LedgerRelease, c.Reserved
	}
	if c.Held {
		// nil: the tenant was made unlimited meanwhile, nothing to give back.
		bal, err := x.AddBalance(ctx, c.Tenant, c.Reserved-amount, false, at)
		if err != nil {
			return fmt.Errorf("close charge: %w", err)
		}
		if bal != nil {
			e.Delta, e.Balance = c.Reserved-amount, bal
		}
	}
	if err := x.InsertLedger(ctx, e); err != nil {
		return fmt.Errorf("close charge: %w", err)
	}
	return nil
}

// AdmitTask implements AccountStore.
func (db *DB) AdmitTask(ctx context.Context, t *task.Task, c *Charge, maxInFlight int) error {
	if t == nil || t.ID == "" || c == nil {
		return errors.New("store: admit task: a task with an id and a charge are required")
	}
	msg, err := db.outboxEvent(t, 1)
	if err != nil {
		return fmt.Errorf("store: admit task %s: %w", t.ID, err)
	}
	c.TaskID, c.State, c.Held = t.ID, ChargeOpen, false
	err = db.InTx(ctx, func(ctx context.Context, x Executor) error {
		c.Held = false // a retried transaction starts over
		if maxInFlight > 0 {
			n, err := x.LockOpenCharges(ctx, c.KeyID)
			if err != nil {
				return err
			}
			if n >= maxInFlight {
				return &InFlightError{InFlight: n, Limit: maxInFlight}
			}
		}
		bal, err := x.TenantBalance(ctx, c.Tenant)
		if err != nil {
			return err
		}
		entry := &LedgerEntry{At: c.CreatedAt, Tenant: c.Tenant, Kind: LedgerReserve, TaskID: t.ID, KeyID: c.KeyID,
			Model: c.Model, Tokens: c.EstimateTokens, Amount: c.Reserved, Unit: c.Unit, Actor: c.KeyID}
		if bal != nil {
			if *bal < c.Reserved || *bal <= 0 {
				return &BalanceError{Balance: *bal, Needed: c.Reserved}
			}
			after, err := x.AddBalance(ctx, c.Tenant, -c.Reserved, false, c.CreatedAt)
			if err != nil {
				return err
			}
			c.Held, entry.Delta, entry.Balance = true, -c.Reserved, after
		}
		if err := insertTask(ctx, x, t, msg); err != nil {
			return err
		}
		if err := x.InsertCharge(ctx, c); err != nil {
			return err
		}
		return x.InsertLedger(ctx, entry)
	})
	if err != nil {
		c.Held = false
		if errors.Is(err, ErrTooManyInFlight) || errors.Is(err, ErrInsufficientBalance) {
			db.refused(err)
			return err
		}
		return fmt.Errorf("store: admit task %s: %w", t.ID, err)
	}
	t.Version = 1
	return nil
}

// AdjustBalance implements AccountStore.
func (db *DB) AdjustBalance(ctx context.Context, id string, e *LedgerEntry, unlimited bool) (*Tenant, error) {
	var t *Tenant
	err := db.InTx(ctx, func(ctx context.Context, x Executor) error {
		if err := x.EnsureTenant(ctx, id, e.At); err != nil {
			return err
		}
		e.Tenant = id
		if unlimited {
			if err := x.RemoveBalance(ctx, id, e.At); err != nil {
				return err
			}
			// Open reservations no longer came from a balance: settling them
			// must not credit a balance set up later.
			if err := x.UnholdCharges(ctx, id); err != nil {
				return err
			}
			e.Kind, e.Delta, e.Balance = LedgerUnlimited, 0, nil
		} else {
			bal, err := x.AddBalance(ctx, id, e.Amount, true, e.At)
			if err != nil {
				return err
			}
			e.Kind, e.Delta, e.Balance = LedgerTopUp, e.Amount, bal
		}
		if err := x.InsertLedger(ctx, e); err != nil {
			return err
		}
		var err error
		t, err = x.GetTenant(ctx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: tenant %q balance: %w", id, err)
	}
	return t, nil
}

// RecordWebhookAttempt implements WebhookStore.
func (db *DB) RecordWebhookAttempt(ctx context.Context, owner string, m *WebhookMessage, a WebhookAttempt) error {
	err := db.InTx(ctx, func(ctx context.Context, x Executor) error {
		if a.N > 0 { // 0: no attempt was made (a skipped message)
			if err := x.InsertWebhookAttempt(ctx, m.ID, a); err != nil {
				return err
			}
		}
		held, err := x.FinishWebhookMessage(ctx, owner, m)
		if err != nil {
			return err
		}
		if !held {
			return ErrConflict
		}
		if m.State == WebhookGone {
			return x.GoneWebhookEndpoint(ctx, m.KeyID, m.URL, m.ID,
				"the endpoint answered 410 Gone to message "+m.ID, m.UpdatedAt)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record webhook attempt %s: %w", m.ID, err)
	}
	return nil
}

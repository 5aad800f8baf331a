package store

import (
	"context"
	"errors"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// Observer is told what the store's write transactions did (package metrics
// counts it): every transaction's latency, and, once a transaction has
// committed, what it wrote. Calls come from the writing goroutine, after the
// commit and before the write returns: they must be quick.
type Observer interface {
	// Transaction: one write transaction ended after d (err nil: committed).
	Transaction(d time.Duration, err error)
	// TaskCreated: t was inserted.
	TaskCreated(t *task.Task)
	// TaskFinished: t's status changed to a terminal one.
	TaskFinished(t *task.Task)
	// Ledger: e was appended to the ledger (reserve, settle, release, top-up).
	Ledger(e *LedgerEntry)
	// WebhookAttempt: an attempt at m was recorded; m holds the state it led to.
	WebhookAttempt(m *WebhookMessage, a WebhookAttempt)
	// Refused: an admission was refused ("in_flight", "balance").
	Refused(reason string)
}

// GroupCommitObserver is an Observer that is also told how many writes each
// group commit of store/sqlite committed together.
type GroupCommitObserver interface {
	GroupCommit(writes int)
}

// InTx runs fn in the driver's transaction (Driver.InTx), telling the
// observer what it wrote once it has committed.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, x Executor) error) error {
	if db.obs == nil {
		return db.Driver.InTx(ctx, fn)
	}
	seen := new(observed)
	start := time.Now()
	err := db.Driver.InTx(ctx, func(ctx context.Context, x Executor) error {
		seen.reset(x) // a retried transaction starts over
		return fn(ctx, seen)
	})
	db.obs.Transaction(time.Since(start), err)
	if err == nil {
		seen.report(db.obs)
	}
	return err
}

// refused tells the observer about an admission the rules refused.
func (db *DB) refused(err error) {
	if db.obs == nil {
		return
	}
	switch {
	case errors.Is(err, ErrTooManyInFlight):
		db.obs.Refused("in_flight")
	case errors.Is(err, ErrInsufficientBalance):
		db.obs.Refused("balance")
	}
}

// observed is an Executor that notes the writes an Observer hears of. Its
// lists start in arrays of its own: a transaction costs one allocation.
type observed struct {
	Executor
	created, finished []*task.Task
	ledger            []*LedgerEntry
	attempt           *WebhookAttempt
	messages          []*WebhookMessage

	tasks   [2]*task.Task
	entries [2]*LedgerEntry
}

func (o *observed) reset(x Executor) {
	o.Executor, o.attempt, o.messages = x, nil, nil
	o.created, o.finished, o.ledger = o.tasks[:0:1], o.tasks[1:1:2], o.entries[:0]
}

func (o *observed) InsertTask(ctx context.Context, t *task.Task) error {
	err := o.Executor.InsertTask(ctx, t)
	if err == nil {
		o.created = append(o.created, t)
	}
	return err
}

func (o *observed) UpdateTaskIfVersion(ctx context.Context, t *task.Task) (task.Status, error) {
	before, err := o.Executor.UpdateTaskIfVersion(ctx, t)
	if err == nil && !before.Terminal() && t.Status.Terminal() {
		o.finished = append(o.finished, t)
	}
	return before, err
}

func (o *observed) InsertLedger(ctx context.Context, e *LedgerEntry) error {
	err := o.Executor.InsertLedger(ctx, e)
	if err == nil {
		o.ledger = append(o.ledger, e)
	}
	return err
}

func (o *observed) InsertWebhookAttempt(ctx context.Context, id string, a WebhookAttempt) error {
	err := o.Executor.InsertWebhookAttempt(ctx, id, a)
	if err == nil {
		o.attempt = &a
	}
	return err
}

func (o *observed) FinishWebhookMessage(ctx context.Context, owner string, m *WebhookMessage) (bool, error) {
	held, err := o.Executor.FinishWebhookMessage(ctx, owner, m)
	if err == nil && held && o.attempt != nil {
		o.messages = append(o.messages, m)
	}
	return held, err
}

func (o *observed) report(obs Observer) {
	for _, t := range o.created {
		obs.TaskCreated(t)
	}
	for _, t := range o.finished {
		obs.TaskFinished(t)
	}
	for _, e := range o.ledger {
		obs.Ledger(e)
	}
	for _, m := range o.messages {
		obs.WebhookAttempt(m, *o.attempt)
	}
}

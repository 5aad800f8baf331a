package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
)

// Group commit. With synchronous=FULL every commit waits for the WAL to reach
// the disk (an fsync: milliseconds), and SQLite has one writer, so committing
// each write on its own caps the gateway at a few hundred writes a second
// however fast the statements are. Instead one goroutine runs the write
// transactions of every caller waiting at that moment inside ONE transaction,
// each in a savepoint of its own, and commits them together: one fsync for
// the lot. A caller's write is acknowledged only after that commit, so
// durability is unchanged; a caller whose function fails is rolled back to its
// savepoint alone, and the others still commit.

// maxBatch bounds the writes committed together, so a batch's latency stays
// a few milliseconds.
const maxBatch = 256

var errClosed = errors.New("sqlite: store closed")

type writeReq struct {
	ctx   context.Context
	fn    func(ctx context.Context, tx *sql.Tx) error
	state atomic.Int32 // reqQueued → reqTaken (the writer runs it) or reqAbandoned (the caller gave up first)
	done  chan error
}

const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

// inWriteTx runs fn in a write transaction (IMMEDIATE, on the writer
// connection), possibly together with other callers' functions, and returns
// once the transaction that holds fn's writes has committed, or fn's error.
//
// fn must use tx and the ctx it is given only: the ctx is the caller's without
// its cancellation, because interrupting a statement would roll back the
// other callers' writes too. The caller's ctx bounds the wait to be started;
// once started, fn runs to the end. Touching s.write inside fn would wait
// forever (the writer pool has one connection).
func (s *Driver) inWriteTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.quit:
		return errClosed
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		return <-r.done // already running: its outcome is the answer
	case <-s.loopDone: // closed meanwhile, maybe before the writer saw it
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return errClosed
		}
		return <-r.done
	}
}

// writeLoop is the one goroutine that writes: it takes every waiting write
// (up to maxBatch) and commits them in one transaction.
func (s *Driver) writeLoop() {
	defer close(s.loopDone)
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case r := <-s.writes:
			batch = append(batch[:0], r)
		case <-s.quit:
			s.failQueued()
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.commitBatch(batch)
		clear(batch)
	}
}

// failQueued answers the writes still queued at Close.
func (s *Driver) failQueued() {
	for {
		select {
		case r := <-s.writes:
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				r.done <- errClosed
			}
		default:
			return
		}
	}
}

func (s *Driver) commitBatch(batch []*writeReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqQueued, reqTaken) {
			live = append(live, r)
		}
	}
	switch len(live) {
	case 0:
		return
	case 1: // alone: no savepoint needed
		r := live[0]
		r.done <- s.commitOne(r)
		return
	}
	errs := make([]error, len(live))
	failAll := func(err error) {
		for _, r := range live {
			r.done <- err
		}
	}
	tx, err := s.write.BeginTx(context.Background(), nil)
	if err != nil {
		failAll(err)
		return
	}
	for i, r := range live {
		ctx := context.WithoutCancel(r.ctx)
		if _, err := tx.ExecContext(ctx, `SAVEPOINT w`); err != nil {
			_ = tx.Rollback()
			failAll(err)
			return
		}
		if errs[i] = run(ctx, tx, r.fn); errs[i] != nil {
			// Undo this caller's writes only. If SQLite rolled the whole
			// transaction back on its own (an I/O error, say), the savepoint
			// is gone and nothing of the batch may be reported written.
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO w`); err != nil {
				_ = tx.Rollback()
				failAll(fmt.Errorf("batched write: %w (after %w)", err, errs[i]))
				return
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE w`); err != nil {
			_ = tx.Rollback()
			failAll(fmt.Errorf("batched write: %w", err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(err)
		return
	}
	s.committed(len(live))
	for i, r := range live {
		r.done <- errs[i]
	}
}

func (s *Driver) commitOne(r *writeReq) error {
	ctx := context.WithoutCancel(r.ctx)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := run(ctx, tx, r.fn); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.committed(1)
	return nil
}

// committed counts a commit of n writes.
func (s *Driver) committed(n int) {
	s.commits.Add(1)
	if g := s.grouped.Load(); g != nil {
		(*g).GroupCommit(n)
	}
}

// run calls fn, turning a panic into an error so the writer goroutine survives it.
func run(ctx context.Context, tx *sql.Tx, fn func(ctx context.Context, tx *sql.Tx) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("sqlite: write panicked: %v", v)
		}
	}()
	return fn(ctx, tx)
}

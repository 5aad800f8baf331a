// Package sqlstore holds the SQL that reads the same on SQLite and
// PostgreSQL — plain SELECT, INSERT, UPDATE and upserts with $n parameters,
// which SQLite takes as the nth argument — and the columns' encoding, so the
// two adapters (store/sqlite, store/postgres) write neither twice. An adapter
// gives a Conn its connection (a Querier) and the few spellings that differ
// (a Dialect), and overrides the methods whose SQL is its own.
//
// Conn implements store.Queries (a Conn on the adapter's pool) and
// store.Executor (a Conn on a transaction). It holds no rule: the rules are
// store.DB's.
package sqlstore

import (
	"context"
	"errors"
	"time"
)

// Querier runs statements on one engine. The adapter maps the engine's
// errors at this edge: no row is store.ErrNotFound, a unique violation
// store.ErrConflict (errors.Is).
type Querier interface {
	// Exec runs a statement and says how many rows it changed.
	Exec(ctx context.Context, sql string, args ...any) (int64, error)
	// QueryRow runs a statement returning at most one row; the error, if
	// any, comes from Scan.
	QueryRow(ctx context.Context, sql string, args ...any) Row
	// Query runs a statement returning rows. Outside a transaction it must
	// only read.
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	// ReadTx runs fn with one snapshot for all its reads (inside a
	// transaction, fn gets the transaction).
	ReadTx(ctx context.Context, fn func(q Querier) error) error
	// Write runs fn on a Querier whose Query may write (a claim's UPDATE …
	// RETURNING): outside a transaction SQLite runs it on its one writer.
	Write(ctx context.Context, fn func(q Querier) error) error
}

// Row is one row of a result.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result being read.
type Rows interface {
	Row
	Next() bool
	Err() error
	Close()
}

// Dialect is what differs between the engines' spellings.
type Dialect struct {
	// ForUpdate ends a SELECT whose rows a decision rests on: " FOR UPDATE"
	// where writers run concurrently, "" where one writer serializes them.
	ForUpdate string
	// LockKey, when set, takes a lock on the key $1 until the transaction ends.
	LockKey string
	// InList is the condition "col is one of the list in parameter p"; List
	// turns a list into that parameter.
	InList func(col, p string) string
	List   func(vs []string) any
	// JSONText is the text of a top-level field of a JSON text column.
	JSONText func(col, field string) string
	// Contains is "the text column col holds the text of parameter p".
	Contains func(col, p string) string
	// Claim leases rows: it returns the statement that sets set on up to
	// limit rows of table matching where, in order, and returns returning.
	Claim func(table, set, where, order, limit, returning string) string
}

// Conn is the portable SQL on one Querier.
type Conn struct {
	Q Querier
	D *Dialect
}

// notFound reports whether err says no row matched.
func notFound(err error) bool { return errors.Is(err, errNotFound) }

// toMillis is how every time is stored: Unix milliseconds, truncated.
func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// ToMillis is the time encoding, for the adapters' own queries.
func ToMillis(t time.Time) int64 { return toMillis(t) }

func nullMillis(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	ms := toMillis(*t)
	return &ms
}

func timePtr(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := fromMillis(*ms)
	return &t
}

// collect reads every row of rows with scan.
func collect[T any](rows Rows, err error, scan func(Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// changed turns a count of changed rows into store.ErrNotFound when it is 0.
func changed(n int64, err error) error {
	if err == nil && n == 0 {
		return errNotFound
	}
	return err
}

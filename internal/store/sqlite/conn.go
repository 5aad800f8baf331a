package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlstore"
)

// dialect is how SQLite spells what differs from PostgreSQL. Its one writer
// serializes write transactions, so reads need no row locks.
var dialect = sqlstore.Dialect{
	InList: func(col, p string) string { return col + " IN (SELECT value FROM json_each(" + p + "))" },
	List: func(vs []string) any {
		if vs == nil {
			vs = []string{} // null would be one NULL element
		}
		b, _ := json.Marshal(vs) // a []string always encodes
		return string(b)
	},
	JSONText: func(col, field string) string { return "json_extract(" + col + ", '$." + field + "')" },
	// instr, not LIKE: the search text is matched literally.
	Contains: func(col, p string) string { return "instr(" + col + ", " + p + ") > 0" },
	// river's SQLite claim: pick the due ids and lease them in one
	// statement, which SQLite runs under its single write lock.
	Claim: func(table, set, where, order, limit, returning string) string {
		return `UPDATE ` + table + ` SET ` + set + ` WHERE id IN (SELECT id FROM ` + table +
			` WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ` + limit + `) RETURNING ` + returning
	},
}

// InTx implements store.Driver: fn runs in a write transaction of the group
// commit (see inWriteTx).
func (s *Driver) InTx(ctx context.Context, fn func(ctx context.Context, x store.Executor) error) error {
	return s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return fn(ctx, sqlstore.Conn{Q: txQ{tx}, D: &dialect})
	})
}

// mapErr turns driver errors into the store's sentinels.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case isUniqueViolation(err):
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// isUniqueViolation reports whether err is a primary key or unique constraint failure.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE)
}

type row struct{ r *sql.Row }

func (r row) Scan(dest ...any) error { return mapErr(r.r.Scan(dest...)) }

type rows struct{ *sql.Rows }

func (r rows) Scan(dest ...any) error { return mapErr(r.Rows.Scan(dest...)) }
func (r rows) Err() error             { return mapErr(r.Rows.Err()) }
func (r rows) Close()                 { _ = r.Rows.Close() }

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func exec(ctx context.Context, q querier, query string, args []any) (int64, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}

func query(ctx context.Context, q querier, query string, args []any) (sqlstore.Rows, error) {
	rs, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	return rows{rs}, nil
}

// txQ is a write transaction's Querier.
type txQ struct{ tx *sql.Tx }

func (q txQ) Exec(ctx context.Context, stmt string, args ...any) (int64, error) {
	return exec(ctx, q.tx, stmt, args)
}
func (q txQ) QueryRow(ctx context.Context, stmt string, args ...any) sqlstore.Row {
	return row{q.tx.QueryRowContext(ctx, stmt, args...)}
}
func (q txQ) Query(ctx context.Context, stmt string, args ...any) (sqlstore.Rows, error) {
	return query(ctx, q.tx, stmt, args)
}
func (q txQ) ReadTx(_ context.Context, fn func(sqlstore.Querier) error) error { return fn(q) }
func (q txQ) Write(_ context.Context, fn func(sqlstore.Querier) error) error  { return fn(q) }

// auto is the Querier outside a transaction: reads (SELECT) on the read
// pool, everything else in a write transaction of its own through the group
// commit.
type auto struct{ s *Driver }

func (q auto) Exec(ctx context.Context, stmt string, args ...any) (n int64, err error) {
	err = q.s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n, err = exec(ctx, tx, stmt, args)
		return err
	})
	return n, err
}

func (q auto) QueryRow(ctx context.Context, stmt string, args ...any) sqlstore.Row {
	if strings.HasPrefix(stmt, "SELECT") {
		return row{q.s.read.QueryRowContext(ctx, stmt, args...)}
	}
	return writeRow{q.s, ctx, stmt, args}
}

func (q auto) Query(ctx context.Context, stmt string, args ...any) (sqlstore.Rows, error) {
	return query(ctx, q.s.read, stmt, args)
}

func (q auto) ReadTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	tx, err := q.s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	return fn(txQ{tx})
}

func (q auto) Write(ctx context.Context, fn func(sqlstore.Querier) error) error {
	return q.s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return fn(txQ{tx}) })
}

// writeRow is a statement returning a row that writes (… RETURNING): it
// runs in a write transaction when scanned.
type writeRow struct {
	s    *Driver
	ctx  context.Context
	sql  string
	args []any
}

func (r writeRow) Scan(dest ...any) error {
	return r.s.inWriteTx(r.ctx, func(ctx context.Context, tx *sql.Tx) error {
		return mapErr(tx.QueryRowContext(ctx, r.sql, r.args...).Scan(dest...))
	})
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate applies every embedded migration the database does not have yet.
// It is idempotent, and safe when several processes run it at once: all of it
// runs in one IMMEDIATE transaction, so a second process waits for the first
// (up to the busy timeout) and then finds nothing left to do.
func (s *Driver) Migrate(ctx context.Context) error {
	err := sqlstore.MigrateFS(ctx, migrationFiles, s.log, func(fn func(sqlstore.Querier) error) error {
		return s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return fn(txQ{tx}) })
	})
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// TakeRequest implements store.AccountQueries: one upsert that either counts
// the request or, when the window is full, matches nothing. A request counter
// need not survive a power cut, so its commit skips the fsync that every
// other commit makes (synchronous=NORMAL for this statement only): that is
// most of a commit's cost, and limited keys pay it on every request.
func (s *Driver) TakeRequest(ctx context.Context, keyID string, window time.Time, limit int) (bool, error) {
	conn, err := s.write.Conn(ctx) // the writer pool's one connection
	if err != nil {
		return false, fmt.Errorf("sqlite: take request of %s: %w", keyID, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return false, fmt.Errorf("sqlite: take request of %s: %w", keyID, err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); err != nil {
			// Never hand back a connection less durable than the DSN says: drop it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			s.log.Error("sqlite: restoring synchronous=FULL failed; connection dropped", "err", err)
		}
	}()
	var n int
	err = conn.QueryRowContext(ctx, `INSERT INTO rate_windows (key_id, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key_id) DO UPDATE SET
			count = CASE WHEN excluded.window_start > rate_windows.window_start THEN 1 ELSE rate_windows.count + 1 END,
			window_start = max(rate_windows.window_start, excluded.window_start)
		WHERE excluded.window_start > rate_windows.window_start OR rate_windows.count < $3
		RETURNING count`, keyID, sqlstore.ToMillis(window), limit).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: take request of %s: %w", keyID, err)
	}
	return true, nil
}

package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlstore"
	"github.com/seedgate/seedgate/internal/task"
)

// dialect is how PostgreSQL spells what differs from SQLite. Writers run
// concurrently (other connections, other instances): what a rule decides on
// is read FOR UPDATE.
var dialect = sqlstore.Dialect{
	ForUpdate: " FOR UPDATE",
	// Admissions of one key queue on this lock, so two of them never both
	// count the same free slot; settlements need no lock (they only free slots).
	LockKey: `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.' || $1, 0))`,
	InList:  func(col, p string) string { return col + " = ANY(" + p + ")" },
	List: func(vs []string) any {
		if vs == nil {
			return []string{} // NULL would make the term NULL
		}
		return vs
	},
	// A pattern, not a JSON operator: PostgreSQL's JSON types refuse to turn
	// a document holding "\u0000" (a prompt may) into text, failing the whole
	// query. Good for the fields filtered on: top-level strings the gateway
	// writes itself, without escapes (a prompt's quotes are escaped, so its
	// text never matches).
	JSONText: func(col, field string) string {
		return "substring(" + col + " from '\"" + field + "\":\"([^\"\\\\]*)\"')"
	},
	Contains: func(col, p string) string { return "strpos(" + col + ", " + p + ") > 0" },
	// SKIP LOCKED lets concurrent claimers (other workers, other instances)
	// pass over rows another claim is taking instead of queueing behind it; a
	// row whose claim committed meanwhile is re-checked against the WHERE and
	// left out.
	Claim: func(table, set, where, order, limit, returning string) string {
		return `WITH due AS (SELECT id AS due_id FROM ` + table + ` WHERE ` + where + ` ORDER BY ` + order +
			` LIMIT ` + limit + ` FOR UPDATE SKIP LOCKED) UPDATE ` + table + ` SET ` + set +
			` FROM due WHERE ` + table + `.id = due.due_id RETURNING ` + returning
	},
}

// InTx implements store.Driver.
func (s *Driver) InTx(ctx context.Context, fn func(ctx context.Context, x store.Executor) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(ctx, executor{Conn: sqlstore.Conn{Q: pq{tx}, D: &dialect}, s: s})
	})
}

// mapErr turns driver errors into the store's sentinels.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case isUniqueViolation(err):
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// isUniqueViolation reports whether err is a primary key or unique constraint failure.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// text makes s storable in a text column: PostgreSQL refuses NUL and invalid
// UTF-8, and a prompt or a receiver's answer may hold both. Refusing it would
// leave e.g. a webhook attempt unrecorded and the message stuck.
func text(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

// texts applies text to the string arguments.
func texts(args []any) []any {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = text(s)
		}
	}
	return args
}

type row struct{ r pgx.Row }

func (r row) Scan(dest ...any) error { return mapErr(r.r.Scan(dest...)) }

type rows struct{ pgx.Rows }

func (r rows) Scan(dest ...any) error { return mapErr(r.Rows.Scan(dest...)) }
func (r rows) Err() error             { return mapErr(r.Rows.Err()) }

// pgxQ is what the pool and a transaction share.
type pgxQ interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pq is the Querier of the pool or of a transaction.
type pq struct{ db pgxQ }

func (q pq) Exec(ctx context.Context, stmt string, args ...any) (int64, error) {
	tag, err := q.db.Exec(ctx, stmt, texts(args)...)
	return tag.RowsAffected(), mapErr(err)
}

func (q pq) QueryRow(ctx context.Context, stmt string, args ...any) sqlstore.Row {
	return row{q.db.QueryRow(ctx, stmt, texts(args)...)}
}

func (q pq) Query(ctx context.Context, stmt string, args ...any) (sqlstore.Rows, error) {
	rs, err := q.db.Query(ctx, stmt, texts(args)...)
	if err != nil {
		return nil, mapErr(err)
	}
	return rows{rs}, nil
}

func (q pq) ReadTx(ctx context.Context, fn func(sqlstore.Querier) error) error {
	pool, ok := q.db.(*pgxpool.Pool)
	if !ok { // in a transaction already
		return fn(q)
	}
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return fn(pq{tx})
}

func (q pq) Write(_ context.Context, fn func(sqlstore.Querier) error) error { return fn(q) }

// executor is the store.Executor in a transaction: sqlstore's, with the task
// writes that announce themselves (see Listen) in the same statement.
type executor struct {
	sqlstore.Conn
	s *Driver
}

// InsertTask implements store.Executor, and announces the task.
func (x executor) InsertTask(ctx context.Context, t *task.Task) error {
	args, err := sqlstore.TaskArgs(t, 1)
	if err != nil {
		return err
	}
	var n int64
	return x.Q.QueryRow(ctx, `WITH inserted AS (`+sqlstore.InsertTaskSQL+` RETURNING id),
		notified AS (SELECT pg_notify('`+notifyChannel+`', `+notifyArg+`)::text AS n FROM inserted)
		SELECT count(n) FROM notified`, append(args, x.s.notifyPayload(t.ID))...).Scan(&n)
}

// notifyArg is the parameter after TaskArgs': the announcement's payload.
var notifyArg = "$" + strconv.Itoa(sqlstore.TaskArgCount+1)

// updateTaskSQL is the conditional update of sqlstore.UpdateTaskSQL that
// also reads (and locks) the row's status before the write, announces a
// visible change (status, progress or update time: lease and schedule
// bookkeeping is nobody's news), and tells a lost race from a missing row,
// all in one statement. (EXISTS reads the statement's snapshot, from before
// the update.)
var updateTaskSQL = `WITH old AS (
	SELECT status AS old_status, progress AS old_progress, updated_at AS old_updated_at
	FROM tasks WHERE id = $1 AND version = ` + sqlstore.TaskArgVersion + ` FOR UPDATE
), updated AS (
	` + strings.Replace(sqlstore.UpdateTaskSQL, " WHERE ", " FROM old WHERE ", 1) + `
	RETURNING old_status, old_progress, old_updated_at
), notified AS (
	SELECT pg_notify('` + notifyChannel + `', ` + notifyArg + `)::text AS n FROM updated
	WHERE old_status <> ` + sqlstore.TaskArgStatus + ` OR old_progress <> ` + sqlstore.TaskArgProgress +
	` OR old_updated_at <> ` + sqlstore.TaskArgUpdatedAt + `
)
SELECT (SELECT old_status FROM updated), EXISTS (SELECT 1 FROM tasks WHERE id = $1), (SELECT count(n) FROM notified)`

// UpdateTaskIfVersion implements store.Executor, in one statement.
func (x executor) UpdateTaskIfVersion(ctx context.Context, t *task.Task) (task.Status, error) {
	args, err := sqlstore.TaskArgs(t, t.Version)
	if err != nil {
		return "", err
	}
	var (
		before   *string
		exists   bool
		notified int64
	)
	err = x.Q.QueryRow(ctx, updateTaskSQL, append(args, x.s.notifyPayload(t.ID))...).Scan(&before, &exists, &notified)
	switch {
	case err != nil:
		return "", err
	case before != nil:
		return task.Status(*before), nil
	case exists:
		return "", store.ErrConflict
	}
	return "", store.ErrNotFound
}

// The migrations are numbered like SQLite's (store/sqlite/migrations): the
// same number makes the same change in both engines.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate applies every embedded migration the schema does not have yet. It is
// idempotent and safe when several instances start at once: everything runs
// in one transaction (PostgreSQL's DDL is transactional) holding an advisory
// lock keyed by the schema, so the others wait and then find nothing to do.
func (s *Driver) Migrate(ctx context.Context) error {
	err := sqlstore.MigrateFS(ctx, migrationFiles, s.log, func(fn func(sqlstore.Querier) error) error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx,
				`SELECT pg_advisory_xact_lock(hashtextextended('seedgate.migrate.' || current_schema(), 0))`); err != nil {
				return err
			}
			return fn(pq{tx})
		})
	}, "schema", s.schema)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// TakeRequest implements store.AccountQueries: one upsert that either counts
// the request or, when the window is full, matches nothing. Concurrent
// upserts of one key take turns on its row, each seeing the other's count.
func (s *Driver) TakeRequest(ctx context.Context, keyID string, window time.Time, limit int) (bool, error) {
	var n int
	err := s.Q.QueryRow(ctx, `INSERT INTO rate_windows AS w (key_id, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key_id) DO UPDATE SET
			count = CASE WHEN excluded.window_start > w.window_start THEN 1 ELSE w.count + 1 END,
			window_start = greatest(w.window_start, excluded.window_start)
		WHERE excluded.window_start > w.window_start OR w.count < $3
		RETURNING count`, keyID, sqlstore.ToMillis(window), limit).Scan(&n)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: take request of %s: %w", keyID, err)
	}
	return true, nil
}

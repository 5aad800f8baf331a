// Package sqlite is the SQLite implementation of store.Store, on the pure-Go
// driver modernc.org/sqlite. It passes the shared suite in store/storetest.
//
// Times are stored as integer Unix milliseconds: every time.Time written is
// truncated to the millisecond, and times read back are in UTC. The schema is
// kept a straight translation away from PostgreSQL (bigint times, JSON text).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/seedgate/seedgate/internal/store"
)

// busyTimeout is how long a connection waits for another process's write lock
// before giving up with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Store is a store.Store on one SQLite database file.
//
// It keeps two pools: writes go through a single connection, so writers queue
// in Go (honouring their contexts) instead of failing with SQLITE_BUSY, and
// reads use several connections that WAL lets run beside the writer. Write
// transactions are committed in groups (groupcommit.go).
type Store struct {
	write *sql.DB
	read  *sql.DB
	log   *slog.Logger

	writes   chan *writeReq // to writeLoop
	quit     chan struct{}  // closed by Close
	loopDone chan struct{}
	closing  sync.Once
	commits  atomic.Int64 // write transactions committed (tests see the grouping)
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it and its parent directories if needed) the database
// at path and brings its schema up to date. path must name a file: an
// in-memory database would not be shared between the two pools.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open %q: a database file path is required", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}

	timeout := strconv.FormatInt(busyTimeout.Milliseconds(), 10)
	write, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_busy_timeout": {timeout},
		"_foreign_keys": {"1"},
		"_journal_mode": {"WAL"},
		// FULL syncs the WAL on every commit. NORMAL could lose the last
		// commits on power loss, and the gateway's idempotency rests on a
		// recorded dispatch or upstream id surviving a crash: losing one means
		// creating (and paying for) a video twice.
		"_synchronous": {"FULL"},
		// Read-modify-write transactions take the write lock up front, so two
		// writers never deadlock upgrading a read lock (SQLITE_BUSY at once,
		// busy_timeout or not).
		"_txlock": {"immediate"},
		// Group commit gives each write a savepoint, whose undo journal would
		// otherwise be a temporary file written on every change.
		"_pragma": {"temp_store(memory)"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	read, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_busy_timeout": {timeout},
		"_foreign_keys": {"1"},
		"_query_only":   {"1"},
	}))
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)

	s := &Store{write: write, read: read, log: logger,
		writes: make(chan *writeReq, maxBatch), quit: make(chan struct{}), loopDone: make(chan struct{})}
	go s.writeLoop()
	// Migrate also opens the writer connection first, which switches the file
	// to WAL before any reader connects.
	if err := s.Migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// dsn builds a file: URI; the path is escaped so '?' or '#' in it stay part of the name.
func dsn(absPath string, params url.Values) string {
	u := url.URL{Path: absPath}
	return "file:" + u.EscapedPath() + "?" + params.Encode()
}

// Ping checks both pools can reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close stops the writer (writes still queued fail) and closes both pools.
func (s *Store) Close() error {
	s.closing.Do(func() {
		close(s.quit)
		<-s.loopDone
	})
	return errors.Join(s.read.Close(), s.write.Close())
}

// Setting returns the value under key, storing init first if there is none.
// The first caller's init wins; every caller gets the same value.
func (s *Store) Setting(ctx context.Context, key, init string) (string, error) {
	var value string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&value)
	if err == nil {
		return value, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: setting %q: %w", key, err)
	}

	err = s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, init); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&value)
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: setting %q: %w", key, err)
	}
	return value, nil
}

// isUniqueViolation reports whether err is a primary key or unique constraint failure.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return true
	}
	return false
}

// toMillis is how every time is stored: Unix milliseconds, truncated.
func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: toMillis(*t), Valid: true}
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMillis(n.Int64)
	return &t
}

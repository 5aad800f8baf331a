// Package sqlite is the SQLite driver of store.Store, on the pure-Go driver
// modernc.org/sqlite: its connections, its write transactions (committed in
// groups, groupcommit.go) and the few queries SQLite spells its own way. The
// queries both engines share are store/sqlstore's; the rules are store.DB's.
// It passes the shared suite in store/storetest.
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

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlstore"
)

// busyTimeout is how long a connection waits for another process's write lock
// before giving up with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Driver is a store.Driver on one SQLite database file.
//
// It keeps two pools: writes go through a single connection, so writers queue
// in Go (honouring their contexts) instead of failing with SQLITE_BUSY, and
// reads use several connections that WAL lets run beside the writer. Write
// transactions are committed in groups (groupcommit.go).
type Driver struct {
	sqlstore.Conn // outside a transaction: reads on the read pool, writes through the writer
	write         *sql.DB
	read          *sql.DB
	log           *slog.Logger

	writes   chan *writeReq // to writeLoop
	quit     chan struct{}  // closed by Close
	loopDone chan struct{}
	closing  sync.Once
	commits  atomic.Int64 // write transactions committed (tests see the grouping)
	// grouped hears of each commit's number of writes (store.GroupCommitObserver; nil: none).
	grouped atomic.Pointer[store.GroupCommitObserver]
}

var _ store.Driver = (*Driver)(nil)

// Open opens (creating it and its parent directories if needed) the database
// at path, brings its schema up to date and returns the store on it. path
// must name a file: an in-memory database would not be shared between the
// two pools. o, when given, sets the store's options (the gateway's clock).
func Open(ctx context.Context, path string, logger *slog.Logger, o ...store.Options) (store.Store, error) {
	d, err := OpenDriver(ctx, path, logger)
	if err != nil {
		return nil, err
	}
	var opts store.Options
	if len(o) > 0 {
		opts = o[0]
	}
	if g, ok := opts.Observer.(store.GroupCommitObserver); ok {
		d.grouped.Store(&g)
	}
	return store.New(d, opts), nil
}

// OpenDriver is Open's driver, for store.New.
func OpenDriver(ctx context.Context, path string, logger *slog.Logger) (*Driver, error) {
	logger = baseservice.Logger(logger)
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

	d := &Driver{write: write, read: read, log: logger,
		writes: make(chan *writeReq, maxBatch), quit: make(chan struct{}), loopDone: make(chan struct{})}
	d.Conn = sqlstore.Conn{Q: auto{d}, D: &dialect}
	go d.writeLoop()
	// Migrate also opens the writer connection first, which switches the file
	// to WAL before any reader connects.
	if err := d.Migrate(ctx); err != nil {
		_ = d.Close()
		return nil, err
	}
	return d, nil
}

// dsn builds a file: URI; the path is escaped so '?' or '#' in it stay part of the name.
func dsn(absPath string, params url.Values) string {
	u := url.URL{Path: absPath}
	return "file:" + u.EscapedPath() + "?" + params.Encode()
}

// Ping checks both pools can reach the database.
func (s *Driver) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close stops the writer (writes still queued fail) and closes both pools.
func (s *Driver) Close() error {
	s.closing.Do(func() {
		close(s.quit)
		<-s.loopDone
	})
	return errors.Join(s.read.Close(), s.write.Close())
}

// Package postgres is the PostgreSQL driver of store.Store, on pgx's
// connection pool: its transactions and the few queries PostgreSQL spells its
// own way; the queries both engines share are store/sqlstore's, the rules
// store.DB's. It passes the shared suite in store/storetest, and lets several
// gateway instances share one database: claims use FOR UPDATE SKIP LOCKED,
// rows a rule decides on are locked, admissions of one key queue on an
// advisory lock, migrations run under another, and task changes are announced
// with NOTIFY (see Listen).
//
// The schema is the SQLite one translated: times are bigint Unix
// milliseconds (every time written is truncated to the millisecond and read
// back in UTC), JSON is text. The schema lives in the connection's
// search_path, so one database can hold several gateways (or test runs), each
// in its own schema: postgres://host/db?search_path=seedgate.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlstore"
)

// Driver is a store.Driver on a PostgreSQL database.
type Driver struct {
	sqlstore.Conn // on the pool
	pool          *pgxpool.Pool
	log           *slog.Logger
	// schema is the schema the tables live in (the first of search_path),
	// which NOTIFY payloads carry so that gateways in other schemas of the same
	// database ignore each other's changes.
	schema string
}

var _ store.Driver = (*Driver)(nil)

// Store is the store.Store on a PostgreSQL database, which also announces
// the changes of every instance sharing it (Listen).
type Store struct {
	*store.DB
	d *Driver
}

// Listen: see Driver.Listen.
func (s *Store) Listen(ctx context.Context, ready func(), changed func(id string)) error {
	return s.d.Listen(ctx, ready, changed)
}

// Schema is the schema the store's tables live in.
func (s *Store) Schema() string { return s.d.schema }

// IsURL reports whether s names a PostgreSQL database (postgres:// or postgresql://).
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// defaultMaxConns is the pool size when the URL does not set pool_max_conns:
// the scheduler's workers, their lease renewals, the HTTP handlers and the
// change listener all draw on it, so pgx's own default (max(4, CPUs)) is small.
func defaultMaxConns() int32 { return int32(max(16, 4*runtime.GOMAXPROCS(0))) }

// Open connects to the database at rawURL (pgx's URL or key=value form; pool
// settings such as pool_max_conns and any run-time parameter such as
// search_path may be given in it) and brings its schema up to date. o, when
// given, sets the store's options (the gateway's clock).
func Open(ctx context.Context, rawURL string, logger *slog.Logger, o ...store.Options) (*Store, error) {
	d, err := OpenDriver(ctx, rawURL, logger)
	if err != nil {
		return nil, err
	}
	var opts store.Options
	if len(o) > 0 {
		opts = o[0]
	}
	return &Store{DB: store.New(d, opts), d: d}, nil
}

// OpenDriver is Open's driver, for store.New.
func OpenDriver(ctx context.Context, rawURL string, logger *slog.Logger) (*Driver, error) {
	logger = baseservice.Logger(logger)
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		// pgx masks the password in its parse errors.
		return nil, fmt.Errorf("postgres: database URL: %w", err)
	}
	if !setsParam(rawURL, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns()
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "seedgate"
	}
	return OpenConfig(ctx, cfg, logger)
}

// OpenConfig is OpenDriver with a ready pool config.
func OpenConfig(ctx context.Context, cfg *pgxpool.Config, logger *slog.Logger) (*Driver, error) {
	logger = baseservice.Logger(logger)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Driver{pool: pool, log: logger}
	s.Conn = sqlstore.Conn{Q: pq{pool}, D: &dialect}
	var schema *string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect %s: %w", cfg.ConnConfig.Host, err)
	}
	if schema == nil {
		pool.Close()
		return nil, errors.New("postgres: no schema to use: the search_path names no existing schema (create it first)")
	}
	s.schema = *schema
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// setsParam reports whether the URL's query (or a key=value DSN) sets name.
func setsParam(raw, name string) bool {
	if IsURL(raw) {
		u, err := url.Parse(raw)
		return err == nil && u.Query().Has(name)
	}
	return strings.Contains(raw, name+"=")
}

// Ping checks the database is reachable.
func (s *Driver) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool (waiting for connections in use to be returned).
func (s *Driver) Close() error {
	s.pool.Close()
	return nil
}

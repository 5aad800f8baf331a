// Package postgres is the PostgreSQL implementation of store.Store, on pgx's
// connection pool. It passes the shared suite in store/storetest, and lets
// several gateway instances share one database: claims use FOR UPDATE SKIP
// LOCKED, migrations run under an advisory lock, and task changes are
// announced with NOTIFY (see Listen).
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
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/seedgate/seedgate/internal/store"
)

// Store is a store.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	// schema is the schema the tables live in (the first of search_path),
	// which NOTIFY payloads carry so that gateways in other schemas of the same
	// database ignore each other's changes.
	schema string
}

var _ store.Store = (*Store)(nil)

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
// search_path may be given in it) and brings its schema up to date.
func Open(ctx context.Context, rawURL string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
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

// OpenConfig is Open with a ready pool config.
func OpenConfig(ctx context.Context, cfg *pgxpool.Config, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool, log: logger}
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

// Schema is the schema the store's tables live in.
func (s *Store) Schema() string { return s.schema }

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool (waiting for connections in use to be returned).
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Setting returns the value under key, storing init first if there is none.
// The first caller's init wins; every caller gets the same value.
func (s *Store) Setting(ctx context.Context, key, init string) (string, error) {
	var value string
	err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value)
	if err == nil {
		return value, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("postgres: setting %q: %w", key, err)
	}
	// A concurrent inserter makes ON CONFLICT wait for it and then do nothing;
	// the SELECT after it (a new statement, a new snapshot) sees its value.
	err = s.pool.QueryRow(ctx,
		`INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value`,
		key, init).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value)
	}
	if err != nil {
		return "", fmt.Errorf("postgres: setting %q: %w", key, err)
	}
	return value, nil
}

// isUniqueViolation reports whether err is a primary key or unique constraint failure.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// toMillis is how every time is stored: Unix milliseconds, truncated.
func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

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

package sqlstore

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Migration is one numbered file of an adapter's migrations, e.g.
// 0001_init.sql. The same number makes the same change in both engines.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var migrationName = regexp.MustCompile(`^(\d+)_([a-z0-9_]+)\.sql$`)

// LoadMigrations returns the migrations in dir of fsys, in version order.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q: name is not NNNN_name.sql", e.Name())
		}
		version, err := strconv.Atoi(m[1])
		if err != nil || version < 1 {
			return nil, fmt.Errorf("migration file %q: bad version", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: version, Name: m[2], SQL: string(body)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("migration version %d is used twice", ms[i].Version)
		}
	}
	return ms, nil
}

// Migrate applies, on q (a transaction the adapter holds so that concurrent
// migrators wait for each other), every migration the database lacks, and
// returns those it applied.
func Migrate(ctx context.Context, q Querier, ms []Migration, log *slog.Logger) ([]Migration, error) {
	if _, err := q.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer NOT NULL PRIMARY KEY,
		name       text    NOT NULL,
		applied_at bigint  NOT NULL
	)`); err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT version FROM schema_migrations`)
	versions, err := collect(rows, err, func(r Row) (int, error) {
		var v int
		return v, r.Scan(&v)
	})
	if err != nil {
		return nil, err
	}
	if latest, known := slices.Max(append(versions, 0)), ms[len(ms)-1].Version; latest > known {
		// A newer binary migrated this database; carry on, since
		// migrations only add, but say so.
		log.WarnContext(ctx, "database schema is newer than this binary", "db_version", latest, "known_version", known)
	}
	var applied []Migration
	for _, m := range ms {
		if slices.Contains(versions, m.Version) {
			continue
		}
		if _, err := q.Exec(ctx, m.SQL); err != nil {
			return nil, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := q.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, toMillis(time.Now())); err != nil {
			return nil, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		applied = append(applied, m)
	}
	return applied, nil
}

// MigrateFS applies the migrations in fsys's migrations directory with
// Migrate, inside inTx (a transaction that keeps concurrent migrators apart),
// and logs those it applied with attrs.
func MigrateFS(ctx context.Context, fsys fs.FS, log *slog.Logger, inTx func(fn func(q Querier) error) error, attrs ...any) error {
	ms, err := LoadMigrations(fsys, "migrations")
	if err != nil {
		return err
	}
	var applied []Migration
	err = inTx(func(q Querier) (err error) {
		applied, err = Migrate(ctx, q, ms, log)
		return err
	})
	if err != nil {
		return err
	}
	for _, m := range applied {
		log.InfoContext(ctx, "applied migration", append([]any{"version", m.Version, "name", m.Name}, attrs...)...)
	}
	return nil
}

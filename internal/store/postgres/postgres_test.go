package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/postgres/pgtest"
	"github.com/seedgate/seedgate/internal/store/sqlstore"
	"github.com/seedgate/seedgate/internal/store/storetest"
	"github.com/seedgate/seedgate/internal/task"
)

func openAt(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// openTemp opens a store in a new schema of its own.
func openTemp(t testing.TB) *Store {
	t.Helper()
	return openAt(t, pgtest.Schema(t))
}

func TestStore(t *testing.T) {
	t.Parallel()
	pgtest.URL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

var base = time.Date(2025, 3, 14, 15, 9, 26, 535000000, time.UTC)

func sampleTask(id string) *task.Task {
	next := base
	return &task.Task{
		ID: id, Tenant: "t", Dialect: "ark", Model: "m", ModelAlias: "m", Status: task.StatusQueued,
		Request:   task.Request{Prompt: "a prompt for " + id, Duration: task.Int(5)},
		CreatedAt: base, UpdatedAt: base, ExpiresAt: base.Add(48 * time.Hour), NextCheckAt: &next,
	}
}

func migrationCount(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	require.NoError(t, s.d.pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n))
	return n
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ms, err := sqlstore.LoadMigrations(migrationFiles, "migrations")
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	// The same numbers and names as SQLite's: one change, one number, both engines.
	entries, err := os.ReadDir(filepath.Join("..", "sqlite", "migrations"))
	require.NoError(t, err)
	var sqliteNames, names []string
	for _, e := range entries {
		sqliteNames = append(sqliteNames, e.Name())
	}
	for _, m := range ms {
		names = append(names, fmt.Sprintf("%04d_%s.sql", m.Version, m.Name))
	}
	require.Equal(t, sqliteNames, names, "internal/store/postgres/migrations must mirror internal/store/sqlite/migrations")

	t.Run("concurrent open of a new schema", func(t *testing.T) {
		t.Parallel()
		// Several instances start at once on an empty schema; exactly one migrates.
		url := pgtest.Schema(t)
		stores := make([]*Store, 4)
		errs := make([]error, len(stores))
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() { stores[i], errs[i] = Open(context.Background(), url, nil) })
		}
		wg.Wait()
		for _, s := range stores {
			if s != nil {
				t.Cleanup(func() { _ = s.Close() })
			}
		}
		require.NoError(t, errors.Join(errs...))
		require.Equal(t, len(ms), migrationCount(t, stores[0]))
		require.NoError(t, stores[1].CreateTask(t.Context(), sampleTask("x")))
		_, err := stores[2].GetTask(t.Context(), "x")
		require.NoError(t, err)
		require.NoError(t, stores[3].d.Migrate(t.Context()))
		require.Equal(t, len(ms), migrationCount(t, stores[3]))
	})

	t.Run("schemas are separate", func(t *testing.T) {
		t.Parallel()
		a, b := openTemp(t), openTemp(t)
		require.NotEqual(t, a.Schema(), b.Schema())
		require.NoError(t, a.CreateTask(t.Context(), sampleTask("only-in-a")))
		_, err := b.GetTask(t.Context(), "only-in-a")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("missing schema", func(t *testing.T) {
		t.Parallel()
		url := pgtest.WithSearchPath(t, pgtest.URL(t), "seedgate_no_such_schema")
		_, err := Open(t.Context(), url, nil)
		require.ErrorContains(t, err, "search_path")
	})
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	_, err := Open(t.Context(), "postgres://user:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=bad", nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2", "errors never show the password")

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err = Open(ctx, "postgres://user:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", nil)
	require.Error(t, err, "nothing listens on port 1")
	require.NotContains(t, err.Error(), "hunter2")
}

func TestIsURL(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"postgres://h/db": true, "postgresql://h/db": true, "./data/seedgate.db": false,
		"sqlite:///x.db": false, "host=x dbname=y": false,
	} {
		require.Equal(t, want, IsURL(s), s)
	}
}

// tasks_due_idx's WHERE must be the claim's term, character for character,
// or the planner cannot use the index.
func TestIndexSpellsLiveStatus(t *testing.T) {
	t.Parallel()
	ms, err := sqlstore.LoadMigrations(migrationFiles, "migrations")
	require.NoError(t, err)
	var schema strings.Builder
	for _, m := range ms {
		schema.WriteString(m.SQL)
	}
	require.Contains(t, schema.String(), "WHERE "+sqlstore.LiveStatus)
}

func TestQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	// Enough rows, and fresh statistics, that an index beats a scan.
	require.NoError(t, s.CreateTask(ctx, sampleTask("template")))
	_, err := s.d.pool.Exec(ctx, `INSERT INTO tasks (`+sqlstore.TaskColumns+`, prompt_lower)
		SELECT 't' || i, 'tenant-' || (i % 50), dialect, model, model_alias,
			CASE WHEN i % 10 = 0 THEN 'queued' ELSE 'succeeded' END,
			request_json, result_json, usage_json, error_json, provider, upstream_id, dispatched_at, attempts,
			created_at + i * 1000, updated_at, started_at, finished_at, expires_at, next_check_at,
			progress, version, lease_owner, lease_until, channel, upstream_key, trace_parent, prompt_lower
		FROM tasks, generate_series(1, 5000) AS i WHERE id = 'template'`)
	require.NoError(t, err)
	_, err = s.d.pool.Exec(ctx, `ANALYZE tasks`)
	require.NoError(t, err)
	plan := func(query string, args ...any) string {
		rows, err := s.d.pool.Query(ctx, "EXPLAIN "+query, args...)
		require.NoError(t, err)
		lines, err := collectStrings(rows)
		require.NoError(t, err)
		return strings.Join(lines, "\n")
	}
	tests := []struct {
		name, query, index string
		args               []any
	}{
		{"claim", s.d.ClaimSQL(), "tasks_due_idx", []any{"x", 2, 1, 10}},
		{"claim checks", s.d.ClaimChecksSQL(), "Index Scan", // tasks_due_idx or tasks_upstream_idx, by the data
			[]any{"x", 2, 1, 10, []string{"ark"}}},
		{"key load", sqlstore.KeyLoadSQL, "tasks_key_load_idx", []any{"ark", "m"}},
		{"next due", `SELECT MIN(next_check_at) FROM tasks WHERE ` + sqlstore.LiveStatus, "tasks_due_idx", nil},
		{"list by tenant", `SELECT id FROM tasks WHERE tenant = $1 ORDER BY created_at DESC, id DESC LIMIT 10`,
			"tasks_tenant_created_idx", []any{"tenant-3"}},
		{"list all", `SELECT id FROM tasks ORDER BY created_at DESC, id DESC LIMIT 10`, "tasks_created_idx", nil},
		{"by upstream id", `SELECT id FROM tasks WHERE upstream_id = $1 AND upstream_id <> ''`, "tasks_upstream_idx", []any{"u"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := plan(tc.query, tc.args...)
			require.Contains(t, p, tc.index)
			require.NotContains(t, p, "Seq Scan")
		})
	}
}

// Two pools on one schema stand for two gateway processes: their claims must
// not overlap.
func TestClaimAcrossPools(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	storetest.ClaimAcross(t, openAt(t, url), openAt(t, url))
}

// PostgreSQL text cannot hold NUL; the prompt must still round-trip and be searchable.
func TestPromptWithNUL(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	tk := sampleTask("nul")
	tk.Request.Prompt = "before\x00after \xff Ünïcode"
	require.NoError(t, s.CreateTask(t.Context(), tk))
	got, err := s.GetTask(t.Context(), "nul")
	require.NoError(t, err)
	require.Equal(t, strings.ToValidUTF8(tk.Request.Prompt, "\uFFFD"), got.Request.Prompt)
	page, err := s.ListTasks(t.Context(), store.TaskFilter{Search: "ünï"})
	require.NoError(t, err)
	require.Len(t, page.Tasks, 1)
}

func collectStrings(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close()
}) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func BenchmarkCreateTask(b *testing.B)  { storetest.BenchCreateTask(b, openTemp(b)) }
func BenchmarkClaimDue(b *testing.B)    { storetest.BenchClaimDue(b, openTemp(b)) }
func BenchmarkAdmitTask(b *testing.B)   { storetest.BenchAdmitTask(b, openTemp(b)) }
func BenchmarkTakeRequest(b *testing.B) { storetest.BenchTakeRequest(b, openTemp(b)) }

package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlstore"
	"github.com/seedgate/seedgate/internal/store/storetest"
	"github.com/seedgate/seedgate/internal/task"
)

// testDB is the store on a driver the test can look inside.
type testDB struct {
	*store.DB
	d *Driver
}

func openAt(t testing.TB, path string) *testDB {
	t.Helper()
	d, err := OpenDriver(context.Background(), path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	return &testDB{DB: store.New(d, store.Options{}), d: d}
}

func openTemp(t testing.TB) *testDB {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "seedgate.db"))
}

func TestStore(t *testing.T) {
	t.Parallel()
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

func TestDataSurvivesReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "data", "seedgate.db")

	s, err := Open(ctx, path, nil)
	require.NoError(t, err)
	tk := sampleTask("persist")
	require.NoError(t, s.CreateTask(ctx, tk))
	tk.Status = task.StatusRunning
	require.NoError(t, s.UpdateTask(ctx, tk))
	require.NoError(t, s.CreateFile(ctx, &task.File{ID: "f1", Kind: "image", CreatedAt: base}))
	secret, err := s.Setting(ctx, "secret", "s3cret")
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s = openAt(t, path)
	got, err := s.GetTask(ctx, "persist")
	require.NoError(t, err)
	require.Equal(t, tk, got)
	f, err := s.GetFile(ctx, "f1")
	require.NoError(t, err)
	require.Equal(t, "image", f.Kind)
	again, err := s.Setting(ctx, "secret", "other")
	require.NoError(t, err)
	require.Equal(t, secret, again)
}

func migrationCount(t *testing.T, s *Driver) int {
	t.Helper()
	var n int
	require.NoError(t, s.read.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n))
	return n
}

func TestMigrateIdempotent(t *testing.T) {
	t.Parallel()
	ms, err := sqlstore.LoadMigrations(migrationFiles, "migrations")
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	require.Equal(t, 1, ms[0].Version)

	t.Run("open twice, migrate again", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "db")
		a := openAt(t, path)
		b := openAt(t, path)
		require.NoError(t, a.d.Migrate(t.Context()))
		require.NoError(t, b.d.Migrate(t.Context()))
		require.Equal(t, len(ms), migrationCount(t, a.d))
	})

	t.Run("concurrent migrate from two handles", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "db")
		a := openAt(t, path)
		b := openAt(t, path)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range errs {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() { errs[i] = s.d.Migrate(context.Background()) })
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs...))
		require.Equal(t, len(ms), migrationCount(t, b.d))
	})

	t.Run("concurrent open of a new file", func(t *testing.T) {
		t.Parallel()
		// Both handles race to create the schema; exactly one applies it.
		path := filepath.Join(t.TempDir(), "db")
		stores := make([]*Driver, 4)
		errs := make([]error, len(stores))
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() { stores[i], errs[i] = OpenDriver(context.Background(), path, nil) })
		}
		wg.Wait()
		for _, s := range stores {
			if s != nil {
				t.Cleanup(func() { _ = s.Close() })
			}
		}
		require.NoError(t, errors.Join(errs...))
		require.Equal(t, len(ms), migrationCount(t, stores[0]))
		require.NoError(t, store.New(stores[1], store.Options{}).CreateTask(t.Context(), sampleTask("x")))
		_, err := stores[2].GetTask(t.Context(), "x")
		require.NoError(t, err)
	})
}

func TestMigrationFilesAreNumbered(t *testing.T) {
	t.Parallel()
	ms, err := sqlstore.LoadMigrations(migrationFiles, "migrations")
	require.NoError(t, err)
	for i, m := range ms {
		require.Equal(t, i+1, m.Version, "migrations are numbered 1, 2, … without gaps")
	}
}

func TestOpenPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
	}{
		{"creates parent directories", filepath.Join(dir, "a", "b", "c", "seedgate.db")},
		{"odd characters", filepath.Join(dir, "we?ird #dir %20", "db?x=1#y")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openAt(t, tc.path)
			require.NoError(t, s.CreateTask(t.Context(), sampleTask("x")))
			_, err := os.Stat(tc.path)
			require.NoError(t, err, "the database is at exactly the given path")
		})
	}

	for _, bad := range []string{"", ":memory:"} {
		_, err := Open(t.Context(), bad, nil)
		require.Error(t, err, "path %q", bad)
	}
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	s := openTemp(t)
	ctx := t.Context()
	writer := map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"busy_timeout": "10000",
	}
	for name, want := range writer {
		var got string
		require.NoError(t, s.d.write.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got))
		require.Equal(t, want, got, "writer %s", name)
	}
	reader := map[string]string{
		"journal_mode": "wal",
		"query_only":   "1",
		"busy_timeout": "10000",
	}
	for name, want := range reader {
		var got string
		require.NoError(t, s.d.read.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got))
		require.Equal(t, want, got, "reader %s", name)
	}
	_, err := s.d.read.ExecContext(ctx, `DELETE FROM tasks`)
	require.Error(t, err, "the read pool cannot write")
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
	plan := func(query string, args ...any) string {
		rows, err := s.d.write.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			out = append(out, detail)
		}
		require.NoError(t, rows.Err())
		return strings.Join(out, "\n")
	}
	claimArgs := []any{"x", 2, 1, 10}
	tests := []struct {
		name, query, index string
		args               []any
	}{
		{"claim", s.d.ClaimSQL(), "tasks_due_idx", claimArgs},
		{"claim checks", s.d.ClaimChecksSQL(), "tasks_check_due_idx", append(claimArgs, `["ark"]`)},
		{"claim webhooks", s.d.ClaimWebhooksSQL(), "webhook_messages_due_idx", append(claimArgs, `[]`, `[]`)},
		{"next due", `SELECT MIN(next_check_at) FROM tasks WHERE ` + sqlstore.LiveStatus, "tasks_due_idx", nil},
		{"key load", sqlstore.KeyLoadSQL, "tasks_key_load_idx", []any{"ark", "seedance-1-0-pro"}},
		{"list by tenant", `SELECT id FROM tasks WHERE tenant = ? ORDER BY created_at DESC, id DESC LIMIT 10`,
			"tasks_tenant_created_idx", []any{"t"}},
		{"list all", `SELECT id FROM tasks ORDER BY created_at DESC, id DESC LIMIT 10`, "tasks_created_idx", nil},
		{"by upstream id", `SELECT id FROM tasks WHERE upstream_id = ? AND upstream_id <> ''`, "tasks_upstream_idx", []any{"u"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, plan(tc.query, tc.args...), tc.index)
		})
	}
}

// Two handles on one file stand for two gateway processes: their claims must
// not overlap either, with SQLite's file locks (not Go) serializing them.
func TestClaimAcrossHandles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "db")
	storetest.ClaimAcross(t, openAt(t, path), openAt(t, path))
}

func BenchmarkCreateTask(b *testing.B)  { storetest.BenchCreateTask(b, openTemp(b)) }
func BenchmarkClaimDue(b *testing.B)    { storetest.BenchClaimDue(b, openTemp(b)) }
func BenchmarkAdmitTask(b *testing.B)   { storetest.BenchAdmitTask(b, openTemp(b)) }
func BenchmarkTakeRequest(b *testing.B) { storetest.BenchTakeRequest(b, openTemp(b)) }

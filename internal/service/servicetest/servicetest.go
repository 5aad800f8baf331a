// Package servicetest gives the tests of the dialects (which talk only to the
// service) the stores a service runs on: a SQLite store in a temporary file,
// file rows and blobs kept in memory, and a PostgreSQL schema of their own.
package servicetest

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/postgres/pgtest"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/task"
)

// SQLite opens a SQLite store in a temporary directory, closed when the test ends.
func SQLite(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "seedgate.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// PostgresURL is the URL of a fresh schema of the test database (skips the
// test when SEEDGATE_TEST_DATABASE_URL is not set).
func PostgresURL(t testing.TB) string {
	t.Helper()
	return pgtest.Schema(t)
}

// MemFiles is a store whose file rows, and a blob store whose blobs, are kept
// in memory, so that a fuzz execution costs no fsync; the rest of the store
// is a SQLite one.
type MemFiles struct {
	store.Store
	mu    sync.Mutex
	rows  map[string]*task.File
	blobs map[string][]byte
}

// NewMemFiles returns a MemFiles over a SQLite store of the test.
func NewMemFiles(t testing.TB) *MemFiles {
	return &MemFiles{Store: SQLite(t), rows: map[string]*task.File{}, blobs: map[string][]byte{}}
}

// CreateFile stores a file row.
func (m *MemFiles) CreateFile(_ context.Context, f *task.File) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rows[f.ID]; ok {
		return store.ErrConflict
	}
	c := *f
	m.rows[f.ID] = &c
	return nil
}

// GetFile returns a file row.
func (m *MemFiles) GetFile(_ context.Context, id string) (*task.File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.rows[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	c := *f
	return &c, nil
}

// DeleteFile removes a file row.
func (m *MemFiles) DeleteFile(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rows, id)
	return nil
}

// Count is how many file rows and blobs are kept.
func (m *MemFiles) Count() (rows, blobs int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rows), len(m.blobs)
}

// Blobs is the blob.Store side of m.
func (m *MemFiles) Blobs() blob.Store { return memBlobs{m} }

type memBlobs struct{ m *MemFiles }

func (b memBlobs) Put(_ context.Context, key string, r io.Reader) (int64, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	b.m.mu.Lock()
	b.m.blobs[key] = data
	b.m.mu.Unlock()
	return int64(len(data)), nil
}

func (b memBlobs) Open(_ context.Context, key string) (blob.Object, error) {
	b.m.mu.Lock()
	data, ok := b.m.blobs[key]
	b.m.mu.Unlock()
	if !ok {
		return nil, blob.ErrNotFound
	}
	return memObject{bytes.NewReader(data)}, nil
}

func (b memBlobs) Delete(_ context.Context, key string) error {
	b.m.mu.Lock()
	delete(b.m.blobs, key)
	b.m.mu.Unlock()
	return nil
}

type memObject struct{ *bytes.Reader }

func (memObject) Close() error       { return nil }
func (o memObject) Size() int64      { return o.Reader.Size() }
func (memObject) ModTime() time.Time { return time.Time{} }

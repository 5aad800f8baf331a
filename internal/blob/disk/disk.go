// Package disk is the default blob.Store: files under a directory on local disk.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/blob"
)

// Store keeps each object as a file under Root.
type Store struct {
	Root string
}

// New returns a Store rooted at dir, creating it.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blob dir: %w", err)
	}
	return &Store{Root: dir}, nil
}

// path maps a key to a file, refusing keys that would escape Root. Keys are
// made by the gateway, so a bad one is a bug, not user input; still, never trust.
func (s *Store) path(key string) (string, error) {
	if key == "" || key == "." || strings.Contains(key, "\\") || !fs.ValidPath(key) {
		return "", fmt.Errorf("blob: invalid key %q", key)
	}
	return filepath.Join(s.Root, filepath.FromSlash(key)), nil
}

// Put writes to a temporary file in the same directory and renames it into place,
// so a reader never sees a partial object, even across a crash. It returns once
// the object survives a power loss too: the file is synced before the rename,
// and after it the directory that names it (and those Put created on the way).
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := s.path(key)
	if err != nil {
		return 0, err
	}
	created, err := s.mkdirs(filepath.Dir(p))
	if err != nil {
		return 0, fmt.Errorf("blob put %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return 0, fmt.Errorf("blob put %s: %w", key, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	n, err := io.Copy(tmp, contextReader{ctx, r})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	// The new name, then each new directory's name in its parent, deepest first.
	for _, dir := range append([]string{filepath.Dir(p)}, created...) {
		if err != nil {
			break
		}
		err = syncDir(dir)
	}
	if err != nil {
		return 0, fmt.Errorf("blob put %s: %w", key, err)
	}
	return n, nil
}

// mkdirs creates dir and its missing parents under Root, and returns the
// parents of the directories it created, deepest first: the directories
// whose entries must be synced for the new ones to last.
func (s *Store) mkdirs(dir string) ([]string, error) {
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return nil, nil
	}
	var missing []string
	for d := dir; d != s.Root && d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	parents := make([]string, len(missing))
	for i, d := range missing {
		parents[i] = filepath.Dir(d)
	}
	return parents, nil
}

// syncDir flushes a directory's entries to disk (a variable: tests record it).
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open returns the object as an *os.File (seekable, for http.ServeContent).
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, blob.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("blob open %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob open %s: %w", key, err)
	}
	return &object{File: f, size: st.Size(), mod: st.ModTime()}, nil
}

// Delete removes the object; a missing one is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob delete %s: %w", key, err)
	}
	return nil
}

type object struct {
	*os.File
	size int64
	mod  time.Time
}

func (o *object) Size() int64        { return o.size }
func (o *object) ModTime() time.Time { return o.mod }

// contextReader stops a long copy when the context is cancelled.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

const fileColumns = `id, tenant, kind, purpose, name, content_type, size, sha256,
	width, height, duration, blob_key, task_id, created_at`

// CreateFile records f. ErrConflict if the id exists.
func (s *Store) CreateFile(ctx context.Context, f *task.File) error {
	if f == nil || f.ID == "" {
		return errors.New("sqlite: create file: a file with an id is required")
	}
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO files (`+fileColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.Tenant, f.Kind, f.Purpose, f.Name, f.ContentType, f.Size, f.SHA256,
			f.Width, f.Height, f.Duration, f.BlobKey, f.TaskID, toMillis(f.CreatedAt))
		return err
	})
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: create file %s: %w", f.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create file %s: %w", f.ID, err)
	}
	return nil
}

// DeleteFile removes the file's record, or returns ErrNotFound.
func (s *Store) DeleteFile(ctx context.Context, id string) error {
	var n int64
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM files WHERE id = ?`, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete file %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: delete file %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// GetFile returns the file, or ErrNotFound.
func (s *Store) GetFile(ctx context.Context, id string) (*task.File, error) {
	var (
		f       task.File
		created int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT `+fileColumns+` FROM files WHERE id = ?`, id).Scan(
		&f.ID, &f.Tenant, &f.Kind, &f.Purpose, &f.Name, &f.ContentType, &f.Size, &f.SHA256,
		&f.Width, &f.Height, &f.Duration, &f.BlobKey, &f.TaskID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: get file %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get file %s: %w", id, err)
	}
	f.CreatedAt = fromMillis(created)
	return &f, nil
}

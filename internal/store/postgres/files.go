package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

const fileColumns = `id, tenant, kind, purpose, name, content_type, size, sha256,
	width, height, duration, blob_key, task_id, created_at`

// CreateFile records f. ErrConflict if the id exists.
func (s *Store) CreateFile(ctx context.Context, f *task.File) error {
	if f == nil || f.ID == "" {
		return errors.New("postgres: create file: a file with an id is required")
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO files (`+fileColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		f.ID, f.Tenant, f.Kind, f.Purpose, f.Name, f.ContentType, f.Size, f.SHA256,
		f.Width, f.Height, f.Duration, f.BlobKey, f.TaskID, toMillis(f.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: create file %s: %w", f.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: create file %s: %w", f.ID, err)
	}
	return nil
}

// DeleteFile removes the file's record, or returns ErrNotFound.
func (s *Store) DeleteFile(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM files WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: delete file %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete file %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// GetFile returns the file, or ErrNotFound.
func (s *Store) GetFile(ctx context.Context, id string) (*task.File, error) {
	var (
		f       task.File
		created int64
	)
	err := s.pool.QueryRow(ctx, `SELECT `+fileColumns+` FROM files WHERE id = $1`, id).Scan(
		&f.ID, &f.Tenant, &f.Kind, &f.Purpose, &f.Name, &f.ContentType, &f.Size, &f.SHA256,
		&f.Width, &f.Height, &f.Duration, &f.BlobKey, &f.TaskID, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: get file %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get file %s: %w", id, err)
	}
	f.CreatedAt = fromMillis(created)
	return &f, nil
}

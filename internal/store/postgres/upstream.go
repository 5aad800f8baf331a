package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

var _ store.UpstreamStore = (*Store)(nil)

// claimChecksSQL is claimSQL for status checks of some providers.
const claimChecksSQL = `WITH due AS (
	SELECT id AS due_id FROM tasks
	WHERE ` + liveStatus + `
		AND next_check_at <= @now
		AND (lease_until IS NULL OR lease_until <= @now)
		AND upstream_id <> ''
		AND provider = ANY(@providers)
	ORDER BY next_check_at, id
	LIMIT @limit
	FOR UPDATE SKIP LOCKED
)
UPDATE tasks SET lease_owner = @owner, lease_until = @until, version = tasks.version + 1
FROM due WHERE tasks.id = due.due_id
RETURNING ` + taskColumns

// keyLoadSQL uses tasks_key_load_idx: its WHERE must match the index's.
const keyLoadSQL = `SELECT id, channel, upstream_key FROM tasks
WHERE ` + liveStatus + ` AND upstream_key <> '' AND provider = $1 AND model = $2`

// ClaimDueChecks implements store.UpstreamStore.
func (s *Store) ClaimDueChecks(ctx context.Context, owner string, now time.Time, lease time.Duration, providers []string, limit int) ([]*task.Task, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("postgres: claim checks: lease must be positive, got %s", lease)
	}
	if limit < 1 || len(providers) == 0 {
		return []*task.Task{}, nil
	}
	rows, err := s.pool.Query(ctx, claimChecksSQL, pgx.NamedArgs{
		"owner": owner, "until": toMillis(now.Add(lease)), "now": toMillis(now),
		"providers": providers, "limit": limit,
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim checks: %w", err)
	}
	tasks, err := scanTasks(rows)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim checks: %w", err)
	}
	slices.SortFunc(tasks, func(a, b *task.Task) int {
		return cmp.Or(a.NextCheckAt.Compare(*b.NextCheckAt), strings.Compare(a.ID, b.ID))
	})
	return tasks, nil
}

const makeDueSQL = `UPDATE tasks SET next_check_at = @at, version = version + 1
WHERE id = ANY(@ids)
	AND ` + liveStatus + `
	AND (next_check_at IS NULL OR next_check_at > @at)
	AND (lease_until IS NULL OR lease_until <= @now)`

// MakeDue implements store.UpstreamStore.
func (s *Store) MakeDue(ctx context.Context, ids []string, at, now time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, makeDueSQL, pgx.NamedArgs{"ids": ids, "at": toMillis(at), "now": toMillis(now)})
	if err != nil {
		return 0, fmt.Errorf("postgres: make due: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// KeyLoad implements store.UpstreamStore.
func (s *Store) KeyLoad(ctx context.Context, provider, model string) ([]store.KeySlot, error) {
	rows, err := s.pool.Query(ctx, keyLoadSQL, provider, model)
	if err != nil {
		return nil, fmt.Errorf("postgres: key load: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.KeySlot, error) {
		var k store.KeySlot
		err := r.Scan(&k.TaskID, &k.Channel, &k.UpstreamKey)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: key load: %w", err)
	}
	if out == nil {
		out = []store.KeySlot{}
	}
	return out, nil
}

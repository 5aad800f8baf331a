package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

var _ store.UpstreamStore = (*Store)(nil)

// claimChecksSQL is claimSQL for status checks of some providers; the
// provider list is a JSON array (json_each keeps the statement fixed). It
// walks tasks_check_due_idx: its WHERE terms must match the index's.
const claimChecksSQL = `UPDATE tasks SET lease_owner = :owner, lease_until = :until, version = version + 1
WHERE id IN (
	SELECT id FROM tasks
	WHERE ` + liveStatus + `
		AND next_check_at <= :now
		AND (lease_until IS NULL OR lease_until <= :now)
		AND upstream_id <> ''
		AND provider IN (SELECT value FROM json_each(:providers))
	ORDER BY next_check_at, id
	LIMIT :limit
)
RETURNING ` + taskColumns

// keyLoadSQL uses tasks_key_load_idx: its WHERE must match the index's.
const keyLoadSQL = `SELECT id, channel, upstream_key FROM tasks
WHERE ` + liveStatus + ` AND upstream_key <> '' AND provider = ? AND model = ?`

const makeDueSQL = `UPDATE tasks SET next_check_at = :at, version = version + 1
WHERE id IN (SELECT value FROM json_each(:ids))
	AND ` + liveStatus + `
	AND (next_check_at IS NULL OR next_check_at > :at)
	AND (lease_until IS NULL OR lease_until <= :now)`

// MakeDue implements store.UpstreamStore.
func (s *Store) MakeDue(ctx context.Context, ids []string, at, now time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return 0, fmt.Errorf("sqlite: make due: %w", err)
	}
	var n int64
	err = s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, makeDueSQL,
			sql.Named("ids", string(list)), sql.Named("at", toMillis(at)), sql.Named("now", toMillis(now)))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: make due: %w", err)
	}
	return int(n), nil
}

// ClaimDueChecks implements store.UpstreamStore.
func (s *Store) ClaimDueChecks(ctx context.Context, owner string, now time.Time, lease time.Duration, providers []string, limit int) ([]*task.Task, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("sqlite: claim checks: lease must be positive, got %s", lease)
	}
	if limit < 1 || len(providers) == 0 {
		return []*task.Task{}, nil
	}
	list, err := json.Marshal(providers)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim checks: %w", err)
	}
	var tasks []*task.Task
	err = s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, claimChecksSQL,
			sql.Named("owner", owner),
			sql.Named("until", toMillis(now.Add(lease))),
			sql.Named("now", toMillis(now)),
			sql.Named("providers", string(list)),
			sql.Named("limit", limit),
		)
		if err != nil {
			return err
		}
		tasks, err = scanTasks(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim checks: %w", err)
	}
	slices.SortFunc(tasks, func(a, b *task.Task) int {
		return cmp.Or(a.NextCheckAt.Compare(*b.NextCheckAt), strings.Compare(a.ID, b.ID))
	})
	return tasks, nil
}

// KeyLoad implements store.UpstreamStore.
func (s *Store) KeyLoad(ctx context.Context, provider, model string) ([]store.KeySlot, error) {
	rows, err := s.read.QueryContext(ctx, keyLoadSQL, provider, model)
	if err != nil {
		return nil, fmt.Errorf("sqlite: key load: %w", err)
	}
	defer rows.Close()
	out := []store.KeySlot{}
	for rows.Next() {
		var k store.KeySlot
		if err := rows.Scan(&k.TaskID, &k.Channel, &k.UpstreamKey); err != nil {
			return nil, fmt.Errorf("sqlite: key load: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: key load: %w", err)
	}
	return out, nil
}

package sqlstore

import (
	"context"
	"fmt"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// LiveCounts implements store.StatsQueries: one snapshot for both counts.
func (c Conn) LiveCounts(ctx context.Context) (store.LiveCounts, error) {
	out := store.LiveCounts{Tasks: map[task.Status]int64{}}
	err := c.Q.ReadTx(ctx, func(q Querier) error {
		rows, err := q.Query(ctx, `SELECT status, COUNT(*) FROM tasks WHERE `+LiveStatus+` GROUP BY status`)
		_, err = collect(rows, err, func(r Row) (bool, error) {
			var st string
			var n int64
			if err := r.Scan(&st, &n); err != nil {
				return false, err
			}
			out.Tasks[task.Status(st)] = n
			return true, nil
		})
		if err != nil {
			return err
		}
		return q.QueryRow(ctx, `SELECT COUNT(*) FROM webhook_messages WHERE `+WebhookDue).Scan(&out.WebhooksPending)
	})
	if err != nil {
		return store.LiveCounts{}, fmt.Errorf("live counts: %w", err)
	}
	return out, nil
}

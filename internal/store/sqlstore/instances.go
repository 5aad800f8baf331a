package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/seedgate/seedgate/internal/store"
)

// Heartbeat implements store.InstanceQueries: an update, and an insert when
// the instance is unknown.
func (c Conn) Heartbeat(ctx context.Context, id string, now time.Time) (bool, error) {
	n, err := c.Q.Exec(ctx, `UPDATE instances SET heartbeat_at = $2 WHERE id = $1`, id, toMillis(now))
	if err == nil && n == 0 {
		_, err = c.Q.Exec(ctx, `INSERT INTO instances (id, started_at, heartbeat_at) VALUES ($1, $2, $2)
			ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, id, toMillis(now))
	}
	if err != nil {
		return false, fmt.Errorf("heartbeat of %s: %w", id, err)
	}
	return n > 0, nil
}

// ListInstances implements store.InstanceQueries.
func (c Conn) ListInstances(ctx context.Context) ([]store.Instance, error) {
	rows, err := c.Q.Query(ctx, `SELECT id, started_at, heartbeat_at FROM instances ORDER BY started_at, id`)
	out, err := collect(rows, err, func(r Row) (store.Instance, error) {
		var (
			in            store.Instance
			started, beat int64
		)
		err := r.Scan(&in.ID, &started, &beat)
		in.StartedAt, in.HeartbeatAt = fromMillis(started), fromMillis(beat)
		return in, err
	})
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	return out, nil
}

// StaleInstances implements store.Executor.
func (c Conn) StaleInstances(ctx context.Context, before time.Time) ([]string, error) {
	rows, err := c.Q.Query(ctx, `SELECT id FROM instances WHERE heartbeat_at < $1 ORDER BY id`+c.D.ForUpdate, toMillis(before))
	return collect(rows, err, func(r Row) (id string, err error) { return id, r.Scan(&id) })
}

// ReleaseLeases implements store.Executor. The leases are looked for among
// live tasks and pending messages only (their partial indexes), so the
// history of finished work is not read.
func (c Conn) ReleaseLeases(ctx context.Context, owners []string) (int64, error) {
	var (
		held = ` AND lease_owner <> ''`
		args []any
	)
	if owners != nil {
		held += ` AND ` + c.D.InList("lease_owner", "$1")
		args = append(args, c.D.List(owners))
	}
	tasks, err := c.Q.Exec(ctx, `UPDATE tasks SET lease_owner = '', lease_until = NULL, version = version + 1
		WHERE `+LiveStatus+held, args...)
	if err != nil {
		return 0, fmt.Errorf("release task leases: %w", err)
	}
	msgs, err := c.Q.Exec(ctx, `UPDATE webhook_messages SET lease_owner = '', lease_until = NULL
		WHERE `+WebhookDue+held, args...)
	if err != nil {
		return 0, fmt.Errorf("release webhook leases: %w", err)
	}
	return tasks + msgs, nil
}

// DeleteInstances implements store.Executor.
func (c Conn) DeleteInstances(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := c.Q.Exec(ctx, `DELETE FROM instances WHERE `+c.D.InList("id", "$1"), c.D.List(ids))
	return err
}

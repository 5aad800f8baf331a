package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// notifyChannel is the NOTIFY channel task changes are announced on. Channels
// are per database, not per schema: payloads name the schema.
const notifyChannel = "seedgate_tasks"

// notifyPayload is "<schema>/<task id>".
func (s *Driver) notifyPayload(id string) string { return s.schema + "/" + id }

// Listen announces the tasks that any instance on this schema creates or
// visibly changes (status, progress, update time): it calls changed with each
// task's id, in commit order, until ctx ends or the connection fails, and
// returns why (callers reconnect; notifications sent meanwhile are lost, so
// ready is called each time listening starts, for the caller to catch up).
// It holds a connection of its own, outside the pool.
func (s *Driver) Listen(ctx context.Context, ready func(), changed func(id string)) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	if ready != nil {
		ready()
	}
	prefix := s.schema + "/"
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("postgres: listen: %w", err)
		}
		if id, ok := strings.CutPrefix(n.Payload, prefix); ok {
			changed(id)
		}
	}
}

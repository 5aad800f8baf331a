package store

import (
	"context"
	"fmt"
	"time"
)

// InstanceStore is the gateway processes running on the database and their
// heartbeats. A lease (of a task or a webhook message) counts only while its
// holder beats: ReapInstances frees, at once and whatever their length, the
// leases of an instance whose heartbeat stopped, so a crashed process holds
// no work until its leases run out. The claims themselves read no heartbeat.
type InstanceStore interface {
	InstanceQueries
	// ReapInstances forgets the instances whose last heartbeat is before
	// before and frees every lease they hold, in one transaction. It returns
	// their ids and how many leases it freed.
	ReapInstances(ctx context.Context, before time.Time) (ids []string, freed int64, err error)
	// LeaveInstance is an instance's clean exit: its leases are freed and
	// the instance forgotten.
	LeaveInstance(ctx context.Context, id string) (freed int64, err error)
	// TakeOver is for the one process a database can have (SQLite, whose data
	// dir is locked): every instance known is a dead predecessor. It forgets
	// them and frees every lease, including those of holders that never beat.
	TakeOver(ctx context.Context) (freed int64, err error)
}

// InstanceQueries are the instance methods without a rule.
type InstanceQueries interface {
	// Heartbeat records that instance id is alive at now, registering it
	// (StartedAt now) when it is unknown. known is false then: on the first
	// beat, or after the instance was reaped for a stale heartbeat.
	Heartbeat(ctx context.Context, id string, now time.Time) (known bool, err error)
	// ListInstances returns the instances known, oldest first.
	ListInstances(ctx context.Context) ([]Instance, error)
}

// Instance is one gateway process on the database.
type Instance struct {
	ID          string
	StartedAt   time.Time
	HeartbeatAt time.Time
}

// ReapInstances implements InstanceStore.
func (db *DB) ReapInstances(ctx context.Context, before time.Time) (ids []string, freed int64, err error) {
	err = db.InTx(ctx, func(ctx context.Context, x Executor) error {
		ids, freed = nil, 0
		if ids, err = x.StaleInstances(ctx, before); err != nil || len(ids) == 0 {
			return err
		}
		if freed, err = x.ReleaseLeases(ctx, ids); err != nil {
			return err
		}
		return x.DeleteInstances(ctx, ids)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: reap instances: %w", err)
	}
	return ids, freed, nil
}

// LeaveInstance implements InstanceStore.
func (db *DB) LeaveInstance(ctx context.Context, id string) (freed int64, err error) {
	err = db.InTx(ctx, func(ctx context.Context, x Executor) error {
		if freed, err = x.ReleaseLeases(ctx, []string{id}); err != nil {
			return err
		}
		return x.DeleteInstances(ctx, []string{id})
	})
	if err != nil {
		return 0, fmt.Errorf("store: leave instance %s: %w", id, err)
	}
	return freed, nil
}

// TakeOver implements InstanceStore.
func (db *DB) TakeOver(ctx context.Context) (freed int64, err error) {
	err = db.InTx(ctx, func(ctx context.Context, x Executor) error {
		ids, err := x.StaleInstances(ctx, time.UnixMilli(1<<62))
		if err != nil {
			return err
		}
		if freed, err = x.ReleaseLeases(ctx, nil); err != nil {
			return err
		}
		return x.DeleteInstances(ctx, ids)
	})
	if err != nil {
		return 0, fmt.Errorf("store: take over: %w", err)
	}
	return freed, nil
}

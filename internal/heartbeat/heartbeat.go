// Package heartbeat keeps an instance's heartbeat in the database and frees
// the leases of instances whose heartbeat stopped (store.InstanceStore).
//
// A lease (of a task step, of a webhook delivery) is long, so that slow work
// is not taken over while its holder runs; a crashed holder must not keep the
// work that long. Every instance beats every quarter of Stale and, on each
// beat, frees the leases of the instances that have not beaten for Stale:
// work held by a dead process moves on within about Stale, whatever the
// lease length, and the claims stay as they were (no join on heartbeats). On
// Stop an instance leaves: its leases are freed at once.
package heartbeat

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/startstop"
	"github.com/seedgate/seedgate/internal/store"
)

// DefaultStale is how long an instance may go without a beat before the
// others free its leases.
const DefaultStale = 10 * time.Second

// Config wires a Service.
type Config struct {
	baseservice.Archetype
	Store store.InstanceStore
	// ID names this instance; it is the owner of its leases.
	ID string
	// Stale is how long without a beat makes an instance dead (default
	// DefaultStale). The service beats every quarter of it.
	Stale time.Duration
	// Freed is called after leases of dead instances were freed (the claim
	// loops look for the work now rather than at their next poll).
	Freed func()
}

// Service beats for one instance. Start/Stop like every background service.
type Service struct {
	c   Config
	log *slog.Logger
	run startstop.Base
}

// New returns a stopped Service.
func New(c Config) *Service {
	c.Archetype = c.Archetype.WithDefaults()
	if c.Stale <= 0 {
		c.Stale = DefaultStale
	}
	if c.Freed == nil {
		c.Freed = func() {}
	}
	return &Service{c: c, log: c.Logger.With("component", "heartbeat", "instance", c.ID)}
}

// Interval is the time between two beats.
func (s *Service) Interval() time.Duration { return s.c.Stale / 4 }

// Start beats once (registering the instance and freeing what dead ones
// held, before this instance claims anything), then every Interval until
// Stop. Starting a running service does nothing.
func (s *Service) Start(ctx context.Context) {
	s.beat(ctx, true)
	s.run.Go(ctx, func(ctx context.Context) {
		t := s.c.Clock.NewTicker(s.Interval())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.Chan():
				s.beat(ctx, false)
			}
		}
	})
}

// Stop stops beating, then leaves: the leases this instance still holds
// (steps abandoned at shutdown) are freed for the others at once. Stop the
// services that take leases first.
func (s *Service) Stop(ctx context.Context) error {
	if err := s.run.Stop(ctx); err != nil {
		return fmt.Errorf("heartbeat stop: %w", err)
	}
	freed, err := s.c.Store.LeaveInstance(ctx, s.c.ID)
	if err != nil {
		return fmt.Errorf("heartbeat stop: %w", err)
	}
	if freed > 0 {
		s.log.Info("left, freeing the leases of unfinished work", "leases", freed)
	}
	return nil
}

// beat records this instance's heartbeat and reaps the dead ones.
func (s *Service) beat(ctx context.Context, first bool) {
	now := s.c.Now()
	known, err := s.c.Store.Heartbeat(ctx, s.c.ID, now)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			s.log.Warn("heartbeat failed", "err", err)
		}
		return
	case !known && !first:
		s.log.Warn("this instance's heartbeat was late: other instances may have taken its work over", "stale_after", s.c.Stale)
	}
	ids, freed, err := s.c.Store.ReapInstances(ctx, now.Add(-s.c.Stale))
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("freeing the leases of dead instances failed", "err", err)
		}
		return
	}
	if len(ids) > 0 {
		s.log.Info("freed the leases of instances whose heartbeat stopped", "instances", ids, "leases", freed)
		s.c.Freed()
	}
}

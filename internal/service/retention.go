package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/startstop"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// inputFiles returns the ids of the gateway files a request names (its
// uploads): deleting the task deletes those no other task names.
func (s *Service) inputFiles(r *task.Request) []string {
	if s.media == nil {
		return nil
	}
	var ids []string
	urls := append([]string{r.FirstFrame, r.LastFrame}, r.ReferenceImages...)
	urls = append(append(urls, r.ReferenceVideos...), r.ReferenceAudio...)
	for _, u := range urls {
		if id, ok := s.media.FileID(u); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// expiredError is what reading a result removed after the retention period answers.
func (s *Service) expiredError(f *task.File) error {
	kept := ""
	if s.retention > 0 {
		kept = fmt.Sprintf(" (results are kept for %s, SEEDGATE_RESULT_RETENTION)", s.retention)
	}
	return task.Errorf(task.CodeNotFound, "id", "file %s expired: the result of task %s was removed on %s%s",
		f.ID, f.TaskID, f.ExpiredAt.UTC().Format(time.RFC3339), kept)
}

// storageLeft returns the tenant's storage quota and what it stores now; a
// quota of 0 is none.
func (s *Service) storageLeft(ctx context.Context, tenant string) (quota, used int64, err error) {
	quota = s.storageQuota
	tn, err := s.store.GetTenant(ctx, tenant)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return 0, 0, fmt.Errorf("storage quota: %w", err)
	case tn.StorageQuota != nil:
		quota = *tn.StorageQuota
	}
	if quota <= 0 {
		return 0, 0, nil
	}
	if used, err = s.store.StorageUsed(ctx, tenant); err != nil {
		return 0, 0, fmt.Errorf("storage quota: %w", err)
	}
	return quota, used, nil
}

// checkUploadStorage refuses an upload of n bytes past the tenant's storage quota (413).
func (s *Service) checkUploadStorage(ctx context.Context, tenant string, n int64) error {
	quota, used, err := s.storageLeft(ctx, tenant)
	if err != nil || quota <= 0 || used+n <= quota {
		return err
	}
	return task.Errorf(task.CodeBodyTooLarge, "file",
		"storage quota exceeded: the tenant stores %d of its %d bytes and the file has %d; delete tasks (their results and uploads go with them) or ask for a larger quota",
		used, quota, n)
}

// checkResultStorage refuses a new task when the tenant's storage quota is
// used up: its result would have nowhere to go (402).
func (s *Service) checkResultStorage(ctx context.Context, tenant string) error {
	quota, used, err := s.storageLeft(ctx, tenant)
	if err != nil || quota <= 0 || used < quota {
		return err
	}
	return task.Errorf(task.CodePaymentRequired, "",
		"storage quota exceeded: the tenant stores %d of its %d bytes, so a new result cannot be kept; delete tasks (their results and uploads go with them) or ask for a larger quota",
		used, quota)
}

// SweeperConfig wires a Sweeper.
type SweeperConfig struct {
	baseservice.Archetype
	Store store.Store
	Blobs blob.Store
	// Retention is how long a result is kept after it was made; 0 keeps results.
	Retention time.Duration
	// Interval is how often it sweeps besides wake-ups (default 1 min).
	Interval time.Duration
	// Batch is how many files one statement handles (default 200).
	Batch int
}

// Sweeper removes what is no longer kept: results past the retention period
// (their records stay, marked expired) and the blobs in the store's trash
// (deleted tasks' files). Any number of instances may sweep one store: the
// store hands each expired result to one, and deleting a blob twice is
// harmless. Start/Stop like every background service.
type Sweeper struct {
	c    SweeperConfig
	log  *slog.Logger
	run  startstop.Base
	wake chan struct{}
}

// NewSweeper returns a stopped Sweeper.
func NewSweeper(c SweeperConfig) *Sweeper {
	c.Archetype = c.Archetype.WithDefaults()
	if c.Interval <= 0 {
		c.Interval = time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = 200
	}
	return &Sweeper{c: c, log: c.Logger.With("component", "sweeper"), wake: make(chan struct{}, 1)}
}

// Wake makes the sweeper sweep now (a task was deleted).
func (w *Sweeper) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Start sweeps now and then until Stop; starting a running sweeper does nothing.
func (w *Sweeper) Start(ctx context.Context) { w.run.Go(ctx, w.loop) }

// Stop stops sweeping, waiting until ctx ends for a sweep in progress.
func (w *Sweeper) Stop(ctx context.Context) error {
	if err := w.run.Stop(ctx); err != nil {
		return fmt.Errorf("sweeper stop: %w", err)
	}
	return nil
}

func (w *Sweeper) loop(ctx context.Context) {
	for {
		if _, _, err := w.Sweep(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("sweeping stored files failed; trying again later", "err", err)
		}
		t := w.c.Clock.NewTimer(w.c.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.wake:
		case <-t.Chan():
		}
		t.Stop()
	}
}

// Sweep expires the results past the retention period and empties the
// trash; it reports how many results it expired and blobs it deleted.
func (w *Sweeper) Sweep(ctx context.Context) (expired, deleted int, err error) {
	if w.c.Retention > 0 {
		for ctx.Err() == nil {
			now := w.c.Now().UTC()
			fs, err := w.c.Store.ExpireResults(ctx, now.Add(-w.c.Retention), now, w.c.Batch)
			if err != nil {
				return expired, deleted, err
			}
			expired += len(fs)
			if len(fs) < w.c.Batch {
				break
			}
		}
		if expired > 0 {
			w.log.Info("results past the retention period removed", "files", expired, "retention", w.c.Retention)
		}
	}
	for ctx.Err() == nil {
		keys, err := w.c.Store.TrashedBlobs(ctx, w.c.Batch)
		if err != nil {
			return expired, deleted, err
		}
		for _, k := range keys {
			// The blob first, the key after: a crash in between deletes it again.
			if err := w.c.Blobs.Delete(ctx, k); err != nil && !errors.Is(err, blob.ErrNotFound) {
				return expired, deleted, err
			}
			if err := w.c.Store.ForgetTrashedBlob(ctx, k); err != nil {
				return expired, deleted, err
			}
			deleted++
		}
		if len(keys) < w.c.Batch {
			break
		}
	}
	return expired, deleted, ctx.Err()
}

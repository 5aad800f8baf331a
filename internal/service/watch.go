package service

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// Change is one visible change of a task, for event streams (the jobs
// dialect's SSE, the responses dialect's stream, the console).
type Change struct {
	// Seq is the event id: it grows with every visible change over the task's
	// life (EventSeq), the same on every instance and connection, so a client
	// resuming with Last-Event-ID gets exactly what it has not seen.
	Seq int64
	// Type is "status" (a new status, or the first event of a stream) or "progress".
	Type string
	// Task is the task as clients see it (presented: estimated progress, result URLs).
	Task *task.Task
}

// Event types of a Change.
const (
	ChangeStatus   = "status"
	ChangeProgress = "progress"
)

// EventSeq orders the states a task shows: queued < running < finished, and
// by progress within each. A task only ever moves up this order.
func EventSeq(t *task.Task) int64 {
	rank := int64(1)
	switch {
	case t.Status.Terminal():
		rank = 3
	case t.Status == task.StatusRunning:
		rank = 2
	}
	return rank*1000 + int64(min(max(t.Progress, 0), 100))
}

// ParseEventID reads a Last-Event-ID; 0 (everything) when empty or not ours.
func ParseEventID(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// WatchOptions tune Watch; the zero value is ready to use.
type WatchOptions struct {
	// Since is the last event id the client saw (Last-Event-ID): only later
	// states are sent. 0 sends the current state first.
	Since int64
	// Poll is how often the task is re-read from the store, to see changes made
	// by other instances (default 2 s). Tick is how often the progress estimate
	// is recomputed (default 1 s).
	Poll, Tick time.Duration
}

// Watch streams the visible changes of the tenant's task id: the current state
// first (unless opts.Since covers it), then each status and progress change,
// until the task has finished (the channel is closed after that change) or ctx
// ends. Changes come from this instance's Hub and from re-reading the store,
// so another instance's writes show up too. A missing task is a not_found error.
func (s *Service) Watch(ctx context.Context, tenant, id string, opts WatchOptions) (<-chan Change, error) {
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	published, stop := s.hub.Subscribe(id) // before the read: no change slips in between
	t, err := s.Get(ctx, tenant, id)
	if err != nil {
		stop()
		return nil, err
	}
	out := make(chan Change)
	go func() {
		defer close(out)
		defer stop()
		last := opts.Since
		// emit sends t if it is later than what the client has; it reports
		// whether the stream is over.
		emit := func(t *task.Task) bool {
			if seq := EventSeq(t); seq > last {
				typ := ChangeProgress
				if seq/1000 != last/1000 {
					typ = ChangeStatus
				}
				select {
				case out <- Change{Seq: seq, Type: typ, Task: t}:
				case <-ctx.Done():
					return true
				}
				last = seq
			}
			return t.Status.Terminal()
		}
		if emit(t) {
			return
		}
		poll := time.NewTicker(opts.Poll)
		defer poll.Stop()
		tick := time.NewTicker(opts.Tick)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case nt := <-published:
				t = nt
			case <-poll.C:
				nt, err := s.Get(ctx, tenant, id)
				if err != nil {
					var te *task.Error
					if errors.As(err, &te) && te.Code == task.CodeNotFound {
						return // deleted meanwhile
					}
					continue
				}
				t = nt
			case <-tick.C:
			}
			if emit(s.present(t)) {
				return
			}
		}
	}()
	return out, nil
}

// Present returns t as clients see it: estimated progress, result URLs from
// file ids (for renderings outside a request, e.g. webhook bodies).
func (s *Service) Present(t *task.Task) *task.Task { return s.present(t) }

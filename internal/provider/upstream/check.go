package upstream

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/task"
)

// Check implements provider.Provider: read one task with the key that owns it.
func (p *Provider) Check(ctx context.Context, t *task.Task) (provider.Update, error) {
	c, kind, err := p.owner(t)
	if err != nil {
		// Keep the task and say why on it: the channel may come back.
		return provider.Update{Status: t.Status, Progress: t.Progress, NextCheck: time.Minute,
			Error: &task.Error{Code: task.CodeUnavailable, Message: err.Error()}}, nil
	}
	u, err := kind.Check(ctx, c, t)
	if err != nil {
		return provider.Update{}, checkError(err)
	}
	return p.planned(t, u), nil
}

// checkError makes a failed read worth retrying unless the kind said the
// task is gone for good (a *task.Error): the task is still there.
func checkError(err error) error {
	if _, ok := provider.IsTransient(err); ok {
		return err
	}
	if task.ErrorCode(err) != "" {
		return err
	}
	var ce *CallError
	if errors.As(err, &ce) {
		return provider.Transient(err, ce.RetryAfter)
	}
	return provider.Transient(err, 0)
}

// planned completes what a kind's check learned: when to look again (by the
// task's expected finish time), a running task's progress, what the run
// teaches the timing model; a finished task's load is released.
func (p *Provider) planned(t *task.Task, u provider.Update) provider.Update {
	now := p.now()
	a := age(t, now)
	switch u.Status {
	case task.StatusQueued, task.StatusRunning:
		if u.CheckAt.IsZero() && u.NextCheck == 0 {
			at := p.timing.Plan(t, a, now, p.callbacks(p.kindOf(t)))
			u.CheckAt, u.NextCheck = at, at.Sub(now)
		}
		if u.Status == task.StatusRunning && u.Progress == 0 {
			u.Progress = p.timing.Progress(t, a)
		}
	case task.StatusSucceeded:
		if u.RunTime > 0 {
			p.timing.Observe(t, u.RunTime)
		}
	}
	if u.Status.Terminal() {
		p.router.Release(t.ID) // its slot is free as soon as it is recorded
	}
	return u
}

// age is how long ago t was sent upstream.
func age(t *task.Task, now time.Time) time.Duration {
	start := t.CreatedAt
	if t.DispatchedAt != nil {
		start = *t.DispatchedAt
	}
	return max(now.Sub(start), 0)
}

// batchGroup is the tasks of one channel and key.
type batchGroup struct {
	call  Call
	kind  BatchChecker
	tasks []*task.Task
}

// CheckBatch implements provider.BatchChecker: the tasks of kinds that read
// many at once are grouped by channel and key, and each group goes to its
// kind's CheckBatch (a few groups at a time). Tasks of other kinds, and tasks
// a kind did not return, are left out of the map: the scheduler reads them
// one by one.
func (p *Provider) CheckBatch(ctx context.Context, ts []*task.Task) (map[string]provider.Update, error) {
	groups := map[[2]string]*batchGroup{}
	var order []*batchGroup
	for _, t := range ts {
		c, kind, err := p.owner(t)
		if err != nil {
			continue // Check says why
		}
		bc, ok := kind.(BatchChecker)
		if !ok || !p.caps[kind.Name()].BatchCheck {
			continue
		}
		gk := [2]string{c.Channel.Name, c.Key.ID}
		g := groups[gk]
		if g == nil {
			g = &batchGroup{call: c, kind: bc}
			groups[gk] = g
			order = append(order, g)
		}
		g.tasks = append(g.tasks, t)
	}

	var (
		mu    sync.Mutex
		found = map[string]provider.Update{}
		errs  []error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 4)
	)
	for _, g := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			got, err := g.kind.CheckBatch(ctx, g.call, g.tasks)
			mu.Lock()
			defer mu.Unlock()
			for id, u := range got {
				found[id] = u
			}
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()

	out := make(map[string]provider.Update, len(found))
	for _, t := range ts {
		if u, ok := found[t.ID]; ok {
			out[t.ID] = p.planned(t, u)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, checkError(err)
	}
	return out, nil
}

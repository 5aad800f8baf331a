package ark

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

// Check implements provider.Provider: read one task with the key that owns it.
func (p *Provider) Check(ctx context.Context, t *task.Task) (provider.Update, error) {
	_, k, cl, err := p.channel(t)
	if err != nil {
		// Keep the task and say why on it: the channel may come back.
		return provider.Update{Status: t.Status, Progress: t.Progress, NextCheck: time.Minute,
			Error: &task.Error{Code: task.CodeUnavailable, Message: err.Error()}}, nil
	}
	up, err := cl.get(ctx, k, t.UpstreamID)
	if isNotFound(err) {
		return provider.Update{Status: task.StatusFailed, Error: &task.Error{Code: task.CodeUpstream, UpstreamCode: "NotFound",
			Message: fmt.Sprintf("the upstream task %s no longer exists (deleted upstream, or older than 7 days)", t.UpstreamID)}}, nil
	}
	if err != nil {
		return provider.Update{}, checkError(err)
	}
	return p.update(t, up), nil
}

// checkError makes a failed read worth retrying: the task is still there.
func checkError(err error) error {
	var ae *APIError
	if errors.As(err, &ae) {
		switch {
		case ae.RetryAfter > 0:
			return provider.Transient(err, ae.RetryAfter)
		case ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden:
			return provider.Transient(err, time.Minute) // a key problem an operator must fix
		}
	}
	return provider.Transient(err, 0)
}

// checkGroup is the tasks one key reads in one list call.
type checkGroup struct {
	ch    *routing.Channel
	key   *routing.Key
	cl    *client
	tier  string
	tasks []*task.Task
}

// CheckBatch implements provider.BatchChecker: the tasks are grouped by key
// and service tier (flex tasks are listed only when asked for), and each
// group is read with filter.task_ids, BatchSize ids a call. Tasks the lists
// do not return are left out of the map: the scheduler reads them one by one.
func (p *Provider) CheckBatch(ctx context.Context, ts []*task.Task) (map[string]provider.Update, error) {
	groups := map[[3]string]*checkGroup{}
	var order []*checkGroup
	for _, t := range ts {
		ch, k, cl, err := p.channel(t)
		if err != nil {
			continue // Check says why
		}
		tier := t.Request.ServiceTier
		if tier == "" {
			tier = task.TierDefault
		}
		gk := [3]string{ch.Name, k.ID, tier}
		g := groups[gk]
		if g == nil {
			g = &checkGroup{ch: ch, key: k, cl: cl, tier: tier}
			groups[gk] = g
			order = append(order, g)
		}
		g.tasks = append(g.tasks, t)
	}
	var chunks []*checkGroup
	size := p.batchSize
	for _, g := range order {
		for i := 0; i < len(g.tasks); i += size {
			c := *g
			c.tasks = g.tasks[i:min(i+size, len(g.tasks))]
			chunks = append(chunks, &c)
		}
	}

	var (
		mu    sync.Mutex
		found = map[string]*Task{} // gateway task id → upstream object
		errs  []error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 4)
	)
	for _, c := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			got, err := p.listByIDs(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			for id, up := range got {
				found[id] = up
			}
		}()
	}
	wg.Wait()

	out := make(map[string]provider.Update, len(found))
	for _, t := range ts {
		if up, ok := found[t.ID]; ok {
			out[t.ID] = p.update(t, up)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, checkError(err)
	}
	return out, nil
}

// listByIDs reads one chunk's tasks, halving the chunk when the upstream
// refuses a URL that long.
func (p *Provider) listByIDs(ctx context.Context, c *checkGroup) (map[string]*Task, error) {
	byUpstream := make(map[string]*task.Task, len(c.tasks))
	ids := make([]string, 0, len(c.tasks))
	for _, t := range c.tasks {
		byUpstream[t.UpstreamID] = t
		ids = append(ids, t.UpstreamID)
	}
	items, _, err := c.cl.list(ctx, c.key, listQuery{PageNum: 1, PageSize: len(ids), TaskIDs: ids, ServiceTier: c.tier})
	var ae *APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusRequestURITooLong || ae.Status == http.StatusRequestHeaderFieldsTooLarge) && len(c.tasks) > 1 {
		half := len(c.tasks) / 2
		a, b := *c, *c
		a.tasks, b.tasks = c.tasks[:half], c.tasks[half:]
		ra, err := p.listByIDs(ctx, &a)
		if err != nil {
			return nil, err
		}
		rb, err := p.listByIDs(ctx, &b)
		if err != nil {
			return nil, err
		}
		for k, v := range rb {
			ra[k] = v
		}
		return ra, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Task, len(items))
	for _, it := range items {
		if t, ok := byUpstream[it.ID]; ok {
			out[t.ID] = it
		}
	}
	return out, nil
}

// age is how long ago t was sent upstream.
func age(t *task.Task, now time.Time) time.Duration {
	start := t.CreatedAt
	if t.DispatchedAt != nil {
		start = *t.DispatchedAt
	}
	return max(now.Sub(start), 0)
}

// update maps an upstream task object to what the scheduler records.
func (p *Provider) update(t *task.Task, up *Task) provider.Update {
	u := p.mapStatus(t, up)
	if u.Status.Terminal() {
		p.router.Release(t.ID) // its slot is free as soon as it is recorded
	}
	return u
}

func (p *Provider) mapStatus(t *task.Task, up *Task) provider.Update {
	now := p.now()
	a := age(t, now)
	switch task.Status(up.Status) {
	case task.StatusQueued:
		at := p.timing.Next(t, a, now)
		return provider.Update{Status: task.StatusQueued, CheckAt: at, NextCheck: at.Sub(now)}
	case task.StatusRunning:
		at := p.timing.Next(t, a, now)
		return provider.Update{Status: task.StatusRunning, Progress: p.timing.Progress(t, a), CheckAt: at, NextCheck: at.Sub(now)}
	case task.StatusSucceeded:
		return p.succeeded(t, up, now)
	case task.StatusFailed:
		e := &task.Error{Code: task.CodeUpstream, UpstreamCode: "InternalServiceError", Message: "the upstream reported the task failed"}
		if up.Error != nil {
			e.UpstreamCode = up.Error.Code
			if up.Error.Message != "" {
				e.Message = up.Error.Message
			}
		}
		return provider.Update{Status: task.StatusFailed, Error: e}
	case task.StatusCancelled:
		return provider.Update{Status: task.StatusCancelled, Error: &task.Error{Code: task.CodeUpstream, UpstreamCode: "Cancelled",
			Message: "the task was cancelled upstream"}}
	default: // expired (DecodeTask admits known statuses only)
		return provider.Update{Status: task.StatusExpired, Error: &task.Error{Code: task.CodeUpstream, UpstreamCode: "Expired",
			Message: fmt.Sprintf("the task did not finish within execution_expires_after (%ds) upstream", up.ExecutionExpiresAfter)}}
	}
}

// succeeded reports the result at its upstream URLs: the scheduler's mirror
// step copies the files into blob storage before the task succeeds in the
// gateway, until 23 h after UpstreamDoneAt (the URLs last 24 h).
func (p *Provider) succeeded(t *task.Task, up *Task, now time.Time) provider.Update {
	if up.CreatedAt > 0 && up.UpdatedAt >= up.CreatedAt {
		p.timing.Observe(t, time.Duration(up.UpdatedAt-up.CreatedAt)*time.Second)
	}
	done := now.UTC().Truncate(time.Millisecond)
	if up.UpdatedAt > 0 {
		done = time.Unix(up.UpdatedAt, 0).UTC()
	}
	r := p.result(t, up)
	r.UpstreamDoneAt = &done
	u := provider.Update{Status: task.StatusSucceeded, Progress: 100, Result: r}
	if up.Usage != nil {
		u.Usage = &task.Usage{CompletionTokens: up.Usage.CompletionTokens, TotalTokens: up.Usage.TotalTokens}
	}
	return u
}

// result describes the video from the task object; the gateway's URLs come
// from the mirrored files (the mirror step fills VideoFileID, LastFrameFileID).
func (p *Provider) result(t *task.Task, up *Task) *task.Result {
	r := &task.Result{
		UpstreamVideoURL: up.Content.VideoURL,
		UpstreamFrameURL: up.Content.LastFrameURL,
		FPS:              up.FramesPerSecond,
		HasAudio:         task.Or(up.GenerateAudio, false),
		Seed:             task.Or(up.Seed, 0),
		Ratio:            up.Ratio,
		Resolution:       strings.ToLower(up.Resolution),
	}
	if r.FPS <= 0 {
		r.FPS = 24
	}
	if m, _, ok := task.LookupModel(t.Model); ok {
		r.Width, r.Height, _ = task.PixelSize(m.Family, r.Resolution, r.Ratio)
	}
	switch {
	case up.Frames != nil && *up.Frames > 0:
		r.Duration = float64(*up.Frames) / float64(r.FPS)
	case up.Duration != nil && *up.Duration > 0:
		r.Duration = float64(*up.Duration)
	}
	return r
}

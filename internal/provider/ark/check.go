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
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/task"
)

// Check implements upstream.Kind: read one task with the key that owns it.
func (k *Kind) Check(ctx context.Context, c upstream.Call, t *task.Task) (provider.Update, error) {
	up, err := k.client(c.Channel).get(ctx, c.Key, t.UpstreamID)
	if isNotFound(err) {
		return provider.Update{Status: task.StatusFailed, Error: &task.Error{Code: task.CodeUpstream, UpstreamCode: "NotFound",
			Message: fmt.Sprintf("the upstream task %s no longer exists (deleted upstream, or older than 7 days)", t.UpstreamID)}}, nil
	}
	if err != nil {
		return provider.Update{}, checkError(err)
	}
	return k.update(t, up), nil
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
	call  upstream.Call
	cl    *client
	tier  string
	tasks []*task.Task
}

// CheckBatch implements upstream.BatchChecker: the tasks of one key are
// grouped by service tier (flex tasks are listed only when asked for), and
// each group is read with filter.task_ids, checks.batch_size ids a call.
// Tasks the lists do not return are left out of the map: the scheduler reads
// them one by one.
func (k *Kind) CheckBatch(ctx context.Context, c upstream.Call, ts []*task.Task) (map[string]provider.Update, error) {
	cl := k.client(c.Channel)
	groups := map[string]*checkGroup{}
	var order []*checkGroup
	for _, t := range ts {
		tier := t.Request.ServiceTier
		if tier == "" {
			tier = task.TierDefault
		}
		g := groups[tier]
		if g == nil {
			g = &checkGroup{call: c, cl: cl, tier: tier}
			groups[tier] = g
			order = append(order, g)
		}
		g.tasks = append(g.tasks, t)
	}
	var chunks []*checkGroup
	size := k.batchSize
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
			got, err := k.listByIDs(ctx, c)
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
			out[t.ID] = k.update(t, up)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, checkError(err)
	}
	return out, nil
}

// listByIDs reads one chunk's tasks, halving the chunk when the upstream
// refuses a URL that long.
func (k *Kind) listByIDs(ctx context.Context, c *checkGroup) (map[string]*Task, error) {
	byUpstream := make(map[string]*task.Task, len(c.tasks))
	ids := make([]string, 0, len(c.tasks))
	for _, t := range c.tasks {
		byUpstream[t.UpstreamID] = t
		ids = append(ids, t.UpstreamID)
	}
	items, _, err := c.cl.list(ctx, c.call.Key, listQuery{PageNum: 1, PageSize: len(ids), TaskIDs: ids, ServiceTier: c.tier})
	var ae *APIError
	if errors.As(err, &ae) && (ae.Status == http.StatusRequestURITooLong || ae.Status == http.StatusRequestHeaderFieldsTooLarge) && len(c.tasks) > 1 {
		half := len(c.tasks) / 2
		a, b := *c, *c
		a.tasks, b.tasks = c.tasks[:half], c.tasks[half:]
		ra, err := k.listByIDs(ctx, &a)
		if err != nil {
			return nil, err
		}
		rb, err := k.listByIDs(ctx, &b)
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

// update maps an upstream task object to what the scheduler records; the
// provider plans the next check of a task still going.
func (k *Kind) update(t *task.Task, up *Task) provider.Update {
	switch task.Status(up.Status) {
	case task.StatusQueued:
		return provider.Update{Status: task.StatusQueued}
	case task.StatusRunning:
		return provider.Update{Status: task.StatusRunning}
	case task.StatusSucceeded:
		return k.succeeded(t, up, k.now())
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
func (k *Kind) succeeded(t *task.Task, up *Task, now time.Time) provider.Update {
	done := now.UTC().Truncate(time.Millisecond)
	if up.UpdatedAt > 0 {
		done = time.Unix(up.UpdatedAt, 0).UTC()
	}
	r := k.result(t, up)
	r.UpstreamDoneAt = &done
	u := provider.Update{Status: task.StatusSucceeded, Progress: 100, Result: r}
	if up.CreatedAt > 0 && up.UpdatedAt >= up.CreatedAt {
		u.RunTime = time.Duration(up.UpdatedAt-up.CreatedAt) * time.Second
	}
	if up.Usage != nil {
		u.Usage = &task.Usage{CompletionTokens: up.Usage.CompletionTokens, TotalTokens: up.Usage.TotalTokens}
	}
	return u
}

// result describes the video from the task object; the gateway's URLs come
// from the mirrored files (the mirror step fills VideoFileID, LastFrameFileID).
func (k *Kind) result(t *task.Task, up *Task) *task.Result {
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

package ark

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

// Reconcile bounds: how far before the dispatch intent an upstream created_at
// may lie (clock skew), and how many list pages of one key are read.
const (
	reconcileSkew     = 5 * time.Minute
	reconcilePageSize = 100
	reconcileMaxPages = 20
)

// found is an upstream task that matched, with the key that owns it.
type found struct {
	up  *Task
	ch  *routing.Channel
	key *routing.Key
}

// Reconcile implements provider.Reconciler: look for the task an earlier
// create may have made, on every key that serves the model (the one recorded
// on the task first), by its marker (see markerOf).
func (p *Provider) Reconcile(ctx context.Context, t *task.Task) (string, error) {
	if t.DispatchedAt == nil {
		return "", nil
	}
	m, err := lookupModel(t)
	if err != nil {
		return "", err
	}
	now := p.now()
	mk := markerOf(t)
	since := t.DispatchedAt.Add(-reconcileSkew)
	tier := t.Request.ServiceTier
	if tier == "" {
		tier = task.TierDefault
	}
	var matches []found
	for _, c := range p.router.Serving(m.ID, &routing.Pin{Channel: t.Channel, Key: t.UpstreamKey}) {
		items, err := p.recent(ctx, c, tier, since)
		if err != nil {
			return "", provider.Transient(fmt.Errorf("reconcile: list tasks of %s/%s: %w", c.Channel.Name, c.Key.ID, err), 0)
		}
		up, _ := c.Channel.UpstreamModel(m.ID)
		for _, it := range items {
			if matchTask(t, m, up, it, mk, since) {
				matches = append(matches, found{up: it, ch: c.Channel, key: c.Key})
			}
		}
		if len(matches) > 0 && (mk.safety != "" || mk.seed != nil) {
			break // a marker is unique: no need to look further
		}
	}
	switch {
	case len(matches) == 1, len(matches) > 1 && (mk.safety != "" || mk.seed != nil):
		// With a marker, several matches would be our own duplicates: adopt the first.
		f := matches[len(matches)-1] // lists are newest first: the last is the oldest
		t.Channel, t.UpstreamKey = f.ch.Name, f.key.ID
		p.created(t, now)
		p.log.InfoContext(ctx, "reconciled an unanswered create", "task", t.ID, "upstream_id", f.up.ID, "channel", f.ch.Name, "key", f.key.ID)
		return f.up.ID, nil
	case len(matches) > 1:
		return "", &task.Error{Code: task.CodeUpstream, UpstreamCode: "Ambiguous", Message: fmt.Sprintf(
			"the create's answer was lost and %d upstream tasks match it; the gateway cannot tell which is this task's and will not create another", len(matches))}
	}
	if quiet := p.quietAfter(t); now.Before(quiet) {
		return "", provider.Transient(errors.New("reconcile: the unanswered create may still show up upstream"), quiet.Sub(now))
	}
	t.Channel, t.UpstreamKey = "", ""
	p.mu.Lock()
	delete(p.attempts, t.ID)
	p.mu.Unlock()
	p.log.InfoContext(ctx, "no upstream task from the unanswered create; creating it again", "task", t.ID)
	return "", nil
}

// quietAfter is when an unanswered create of t can no longer show up: when
// its last attempt (when this process made it) stopped being in flight (see
// Submit) or else the latest it could have been made, plus
// checks.reconcile_after.
func (p *Provider) quietAfter(t *task.Task) time.Time {
	p.mu.Lock()
	last, ok := p.attempts[t.ID]
	p.mu.Unlock()
	if !ok {
		var longest time.Duration // the longest create timeout of any channel (60 s where none is set)
		for _, cl := range p.clients {
			longest = max(longest, cl.createTimeout)
		}
		last = t.DispatchedAt.Add(2 * longest)
	}
	return last.Add(p.reconcileAfter)
}

// recent lists a key's tasks created since, newest first.
func (p *Provider) recent(ctx context.Context, c *routing.Candidate, tier string, since time.Time) ([]*Task, error) {
	var out []*Task
	for page := 1; page <= reconcileMaxPages; page++ {
		items, _, err := p.clients[c.Channel.Name].list(ctx, c.Key, listQuery{PageNum: page, PageSize: reconcilePageSize, ServiceTier: tier})
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(items) < reconcilePageSize || items[len(items)-1].CreatedAt < since.Unix() {
			break
		}
	}
	return out, nil
}

// matchTask reports whether an upstream task is the one t's create made.
func matchTask(t *task.Task, m *task.Model, upModel string, it *Task, mk marker, since time.Time) bool {
	if it.CreatedAt < since.Unix() {
		return false
	}
	if mk.safety != "" {
		return it.SafetyIdentifier == mk.safety
	}
	if it.Model != upModel && it.Model != m.VolcengineID && it.Model != m.BytePlusID {
		return false
	}
	r := &t.Request
	if mk.seed != nil && task.Or(it.Seed, -1) != *mk.seed {
		return false
	}
	if mk.seed == nil && task.Or(r.Seed, -1) >= 0 && task.Or(it.Seed, -1) != *r.Seed {
		return false
	}
	if !strings.EqualFold(it.Resolution, r.Resolution) && !task.Or(r.Draft, false) {
		return false
	}
	if r.Ratio != task.RatioAdaptive && !strings.EqualFold(it.Ratio, r.Ratio) {
		return false
	}
	switch {
	case r.Frames != nil:
		if it.Frames == nil || *it.Frames != *r.Frames {
			return false
		}
	case r.Duration != nil && *r.Duration > 0:
		if it.Duration == nil || *it.Duration != *r.Duration {
			return false
		}
	}
	return it.SafetyIdentifier == r.SafetyIdentifier
}

package ark

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/task"
)

// Lookup bounds: how many list pages of one key are read.
const (
	reconcilePageSize = 100
	reconcileMaxPages = 20
)

// Lookup implements upstream.Looker: look for the task an earlier create
// may have made among the key's recent tasks, by its marker (see markerOf).
// With a marker, several matches would be the gateway's own duplicates: the
// oldest is adopted. Without one, exactly one must match.
func (k *Kind) Lookup(ctx context.Context, c upstream.Call, t *task.Task, since time.Time) (string, bool, error) {
	m, _, ok := task.LookupModel(t.Model)
	if !ok {
		return "", false, task.Errorf(task.CodeUnknownModel, "model", "unknown model %q", t.Model)
	}
	mk := markerOf(t)
	tier := t.Request.ServiceTier
	if tier == "" {
		tier = task.TierDefault
	}
	items, err := k.recent(ctx, c, tier, since)
	if err != nil {
		return "", false, fmt.Errorf("list tasks: %w", err)
	}
	var matches []*Task
	for _, it := range items {
		if matchTask(t, m, c.Model, it, mk, since) {
			matches = append(matches, it)
		}
	}
	switch {
	case len(matches) == 1, len(matches) > 1 && (mk.safety != "" || mk.seed != nil):
		return matches[len(matches)-1].ID, true, nil // lists are newest first: the last is the oldest
	case len(matches) > 1:
		return "", false, &task.Error{Code: task.CodeUpstream, UpstreamCode: "Ambiguous", Message: fmt.Sprintf(
			"the create's answer was lost and %d upstream tasks match it; the gateway cannot tell which is this task's and will not create another", len(matches))}
	}
	return "", false, nil
}

// recent lists a key's tasks created since, newest first.
func (k *Kind) recent(ctx context.Context, c upstream.Call, tier string, since time.Time) ([]*Task, error) {
	cl := k.client(c.Channel)
	var out []*Task
	for page := 1; page <= reconcileMaxPages; page++ {
		items, _, err := cl.list(ctx, c.Key, listQuery{PageNum: page, PageSize: reconcilePageSize, ServiceTier: tier})
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

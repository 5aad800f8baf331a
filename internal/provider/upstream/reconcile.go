package upstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

// ReconcileSkew is how far before the dispatch intent an upstream's created
// time may lie (clock skew): Lookup's since is the intent minus this.
const ReconcileSkew = 5 * time.Minute

// Reconcile implements provider.Reconciler: look for the task an earlier
// create may have made, on every key that could have taken it (the one
// recorded on the task first), with its kind's Lookup. When a key that could
// hold it belongs to a kind that cannot look tasks up, the create is never
// sent again: the task fails with UpstreamOutcomeUnknown.
func (p *Provider) Reconcile(ctx context.Context, t *task.Task) (string, error) {
	if t.DispatchedAt == nil {
		return "", nil
	}
	m, err := lookupModel(t)
	if err != nil {
		return "", err
	}
	now := p.now()
	since := t.DispatchedAt.Add(-ReconcileSkew)
	var candidates []*routing.Candidate
	for _, c := range p.router.Serving(m.ID, &routing.Pin{Channel: t.Channel, Key: t.UpstreamKey}) {
		recorded := c.Channel.Name == t.Channel && c.Key.ID == t.UpstreamKey
		if t.Channel != "" && !recorded {
			// The create went to the recorded key; others are searched too
			// (as before channels had kinds) only where they can be.
			if !p.canLookup(p.kinds[c.Channel.Kind]) {
				continue
			}
		}
		if missing, err := p.refusal(ctx, c.Channel, &t.Request); missing != "" || err != nil {
			continue // the create could not have gone there
		}
		if !p.canLookup(p.kinds[c.Channel.Kind]) {
			return "", outcomeUnknown(c.Channel, nil)
		}
		candidates = append(candidates, c)
	}
	for _, c := range candidates {
		kind := p.kinds[c.Channel.Kind].(Looker)
		id, found, err := kind.Lookup(ctx, p.call(c.Channel, c.Key, m.ID, ""), t, since)
		if err != nil {
			if task.ErrorCode(err) != "" {
				return "", err // the kind cannot tell which task is this one
			}
			return "", provider.Transient(fmt.Errorf("reconcile: look up on %s/%s: %w", c.Channel.Name, c.Key.ID, err), 0)
		}
		if found {
			t.Channel, t.UpstreamKey = c.Channel.Name, c.Key.ID
			p.created(t, now)
			p.log.InfoContext(ctx, "reconciled an unanswered create", "task", t.ID, "upstream_id", id, "channel", c.Channel.Name, "key", c.Key.ID)
			return id, nil
		}
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
		var longest time.Duration // the longest create timeout of any channel
		for _, ch := range p.router.Channels() {
			longest = max(longest, createTimeout(ch))
		}
		last = t.DispatchedAt.Add(2 * longest)
	}
	return last.Add(p.reconcileAfter)
}

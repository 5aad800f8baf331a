package ark

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// slot names one key of one channel, for one model: Ark counts concurrency
// and RPM per account and model, and so do the channel limits.
type slot struct {
	channel, key, model string
}

// keyState is what this process knows about a slot beyond the store: recent
// creates (RPM) and a cool-down after the upstream refused.
type keyState struct {
	creates  []time.Time
	coolTill time.Time
}

// pendingSlot is a slot taken by a create that may not be in the store yet.
type pendingSlot struct {
	slot
	at time.Time
}

// pendingTTL: by then the scheduler has stored the task with its key (or it
// failed to, and the task will be reconciled), so the store's count is right.
const pendingTTL = 10 * time.Second

// candidate is a key chosen for a create.
type candidate struct {
	ch  *Channel
	key *Key
	cl  *client
}

func (c *candidate) slot(model string) slot { return slot{c.ch.Name, c.key.ID, model} }

// loadMaxAge bounds how old the store's count of a model's key load may be
// while every key is far from its limit (nearLimit): reading it means reading
// every live task of the model, too much before each create of a large fleet.
// Near a limit it is read afresh before each create.
const loadMaxAge = time.Second

// nearLimit is the load from which a key's count must be fresh: within a
// tenth of its concurrency (every count, for small limits).
func nearLimit(conc int) int { return conc - max(1, conc/10) }

// loadSnapshot is the count of a model's slots: the store's at one moment,
// plus this process's creates the store did not show then, kept current as
// creates reserve (pick) and give back (release) slots.
type loadSnapshot struct {
	at     time.Time
	counts map[slot]int
}

// load counts the tasks holding each slot of a model: live tasks with that
// key in the store, plus creates of this process the store may not show yet.
// The store's count is reused for up to loadMaxAge unless fresh is set. The
// map is the snapshot's own: read it, do not change it.
func (p *Provider) load(ctx context.Context, model string, now time.Time, fresh bool) (map[slot]int, error) {
	snap := p.loads[model]
	if fresh || snap == nil || now.Sub(snap.at) >= loadMaxAge || now.Before(snap.at) {
		holders := map[slot]map[string]bool{}
		add := func(s slot, id string) {
			if holders[s] == nil {
				holders[s] = map[string]bool{}
			}
			holders[s][id] = true
		}
		rows, err := p.cfg.Store.KeyLoad(ctx, Name, model)
		if err != nil {
			return nil, fmt.Errorf("key load: %w", err)
		}
		for _, r := range rows {
			add(slot{r.Channel, r.UpstreamKey, model}, r.TaskID)
		}
		snap = &loadSnapshot{at: now, counts: map[slot]int{}}
		for s, ids := range holders {
			snap.counts[s] = len(ids)
		}
		for id, ps := range p.pending {
			switch {
			case now.Sub(ps.at) > pendingTTL, holders[ps.slot][id]:
				delete(p.pending, id) // the store counts it now
			case ps.model == model:
				snap.counts[ps.slot]++
			}
		}
		p.loads[model] = snap
	}
	return snap.counts, nil
}

// pin restricts a create to one key (a draft re-render must use the draft's account).
type pin struct {
	channel, key string
}

// pick chooses a key with room for a create of t (model m) and reserves it:
// channels by priority (higher first), then at random by weight;
// within a channel the least loaded key. It returns nil and how long to wait
// when no key has room. Keys in tried are skipped.
func (p *Provider) pick(ctx context.Context, m *task.Model, t *task.Task, pn *pin, tried map[slot]bool) (*candidate, time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, fresh := range []bool{false, true} {
		load, err := p.load(ctx, m.ID, now, fresh)
		if err != nil {
			return nil, 0, err
		}
		c, wait, stale := p.choose(m, t, pn, tried, load, now, fresh)
		if !stale {
			return c, wait, nil
		}
	}
	panic("unreachable: a fresh load is never stale")
}

// choose is pick's choice on a given load. With a load that is not fresh it
// gives up (stale) as soon as a key it looks at is near its limit, for pick to
// read the store's count again.
func (p *Provider) choose(m *task.Model, t *task.Task, pn *pin, tried map[slot]bool, load map[slot]int, now time.Time, fresh bool) (_ *candidate, _ time.Duration, stale bool) {
	wait := time.Duration(math.MaxInt64)
	for _, level := range p.byPriority(m.ID) {
		for _, ch := range weightedOrder(level) {
			conc, rpm := ch.limits(m)
			keys := slices.Clone(ch.keys)
			rand.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			slices.SortStableFunc(keys, func(a, b *Key) int {
				return cmp.Compare(load[slot{ch.Name, a.ID, m.ID}], load[slot{ch.Name, b.ID, m.ID}])
			})
			for _, k := range keys {
				s := slot{ch.Name, k.ID, m.ID}
				if tried[s] || (pn != nil && (pn.channel != ch.Name || pn.key != k.ID)) {
					continue
				}
				if !fresh && load[s] >= nearLimit(conc) {
					return nil, 0, true
				}
				st := p.state(s)
				for len(st.creates) > 0 && now.Sub(st.creates[0]) >= time.Minute {
					st.creates = st.creates[1:] // appended in time order: the old ones lead
				}
				switch {
				case now.Before(st.coolTill):
					wait = min(wait, st.coolTill.Sub(now))
				case rpm > 0 && len(st.creates) >= rpm:
					wait = min(wait, st.creates[0].Add(time.Minute).Sub(now))
				case load[s] >= conc:
					// Room comes when a task finishes: look again a fraction of a run later.
					wait = min(wait, p.timing.expected(t)/10)
				default:
					st.creates = append(st.creates, now)
					p.pending[t.ID] = pendingSlot{slot: s, at: now}
					if sn := p.loads[m.ID]; sn != nil {
						sn.counts[s]++
					}
					return &candidate{ch: ch, key: k, cl: p.clients[ch.Name]}, 0, false
				}
			}
		}
	}
	if wait == time.Duration(math.MaxInt64) {
		wait = p.timing.s.MinInterval
	}
	// Spread the waiting tasks' next looks a little so they do not stampede.
	wait = min(max(wait, p.timing.s.MinInterval), 30*time.Second)
	return nil, wait + time.Duration(rand.Int64N(int64(wait)/4+1)), false
}

// release gives back a slot reserved by pick that holds no upstream task.
func (p *Provider) release(taskID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ps, ok := p.pending[taskID]
	if !ok {
		return
	}
	delete(p.pending, taskID)
	if sn := p.loads[ps.model]; sn != nil && sn.counts[ps.slot] > 0 {
		sn.counts[ps.slot]-- // it was counted: when the snapshot was made, or when reserved since
	}
}

// coolDown keeps creates off a slot for d.
func (p *Provider) coolDown(s slot, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.state(s)
	if until := p.now().Add(d); until.After(st.coolTill) {
		st.coolTill = until
	}
}

func (p *Provider) state(s slot) *keyState {
	st := p.keys[s]
	if st == nil {
		st = &keyState{}
		p.keys[s] = st
	}
	return st
}

// byPriority returns the channels serving a model grouped by priority, highest first.
func (p *Provider) byPriority(model string) [][]*Channel {
	var serving []*Channel
	for _, ch := range p.channels {
		if ch.Serves(model) {
			serving = append(serving, ch)
		}
	}
	slices.SortStableFunc(serving, func(a, b *Channel) int { return cmp.Compare(b.Priority, a.Priority) })
	var out [][]*Channel
	for i, ch := range serving {
		if i == 0 || ch.Priority != serving[i-1].Priority {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], ch)
	}
	return out
}

// weightedOrder is a random order in which a channel of weight w comes first
// with probability w/Σw (Efraimidis–Spirakis).
func weightedOrder(chs []*Channel) []*Channel {
	type keyed struct {
		ch *Channel
		k  float64
	}
	ks := make([]keyed, len(chs))
	for i, ch := range chs {
		ks[i] = keyed{ch, math.Pow(rand.Float64(), 1/float64(max(ch.Weight, 1)))}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return cmp.Compare(b.k, a.k) })
	out := make([]*Channel, len(ks))
	for i, k := range ks {
		out[i] = k.ch
	}
	return out
}

package routing

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/task"
)

// Slot names one key of one channel, for one model: upstreams count
// concurrency and RPM per account and model, and so do the channel limits.
type Slot struct {
	Channel, Key, Model string
}

// Holder is a live task that holds a slot: it was created on that key and has
// not finished.
type Holder struct {
	TaskID, Channel, Key string
}

// LoadFunc lists the live tasks of a model that hold a key (for a store: its
// KeyLoad query for the provider).
type LoadFunc func(ctx context.Context, model string) ([]Holder, error)

// Config wires a Router.
type Config struct {
	// Channels, validated (Settings.Validate).
	Channels []*Channel
	// Load counts the live tasks per key.
	Load LoadFunc
	// MinWait is the shortest wait a full router answers (default 2 s).
	MinWait time.Duration
	Now     func() time.Time
}

// Router chooses a channel and key for each create and accounts for the load:
// channels by priority (higher first), then at random by weight, the least
// loaded key within. A key is full when its live tasks reach the channel's
// concurrency or its creates the RPM (both per key and model). Keys the
// upstream refused are cooled down for a while. It is safe for concurrent use.
type Router struct {
	c Config

	mu      sync.Mutex
	keys    map[Slot]*keyState
	pending map[string]pendingSlot
	loads   map[string]*loadSnapshot // model → the store's count of its key load
}

// keyState is what this process knows about a slot beyond the store: recent
// creates (RPM) and a cool-down after the upstream refused. A channel's health
// (a circuit breaker over its answers) belongs here too.
type keyState struct {
	creates  []time.Time
	coolTill time.Time
}

// pendingSlot is a slot taken by a create that may not be in the store yet.
type pendingSlot struct {
	Slot
	at time.Time
}

// pendingTTL: by then the scheduler has stored the task with its key (or it
// failed to, and the task will be reconciled), so the store's count is right.
const pendingTTL = 10 * time.Second

// New returns a Router over validated channels.
func New(c Config) *Router {
	if c.MinWait <= 0 {
		c.MinWait = 2 * time.Second
	}
	c.Now = baseservice.Now(c.Now)
	if c.Load == nil {
		c.Load = func(context.Context, string) ([]Holder, error) { return nil, nil }
	}
	return &Router{c: c, keys: map[Slot]*keyState{}, pending: map[string]pendingSlot{}, loads: map[string]*loadSnapshot{}}
}

// Channels are the router's channels, in configuration order.
func (r *Router) Channels() []*Channel { return r.c.Channels }

// Serves reports whether some channel serves the catalog model.
func (r *Router) Serves(modelID string) bool {
	for _, ch := range r.c.Channels {
		if ch.Serves(modelID) {
			return true
		}
	}
	return false
}

// Models lists the catalog ids some channel serves.
func (r *Router) Models() []string {
	var out []string
	for _, m := range task.Models() {
		if r.Serves(m.ID) {
			out = append(out, m.ID)
		}
	}
	return out
}

// Summary counts the channels and keys ("2 channels, 5 keys").
func (r *Router) Summary() string {
	keys := 0
	for _, ch := range r.c.Channels {
		keys += len(ch.keys)
	}
	return fmt.Sprintf("%d %s, %d %s", len(r.c.Channels), plural(len(r.c.Channels), "channel"), keys, plural(keys, "key"))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Describe summarises the channels for the startup log (never the keys).
func (r *Router) Describe() string {
	var parts []string
	for _, ch := range r.c.Channels {
		parts = append(parts, fmt.Sprintf("%s (%s, %d keys, %d models, priority %d)", ch.Name, ch.BaseURL, len(ch.keys), len(ch.routes), ch.Priority))
	}
	return strings.Join(parts, "; ")
}

// Lookup returns the channel and key a task recorded.
func (r *Router) Lookup(channel, keyID string) (*Channel, *Key, bool) {
	for _, ch := range r.c.Channels {
		if ch.Name != channel {
			continue
		}
		if k := ch.Key(keyID); k != nil {
			return ch, k, true
		}
	}
	return nil, nil, false
}

// Candidate is a channel and key for a model.
type Candidate struct {
	Channel *Channel
	Key     *Key
	Model   string
}

// Slot is the candidate's slot.
func (c *Candidate) Slot() Slot { return Slot{c.Channel.Name, c.Key.ID, c.Model} }

// Serving lists every key that serves the model, in configuration order; the
// key named by prefer (a task's recorded channel and key) comes first.
func (r *Router) Serving(model string, prefer *Pin) []*Candidate {
	var first, rest []*Candidate
	for _, ch := range r.c.Channels {
		if !ch.Serves(model) {
			continue
		}
		for _, k := range ch.keys {
			c := &Candidate{Channel: ch, Key: k, Model: model}
			if prefer != nil && prefer.Channel == ch.Name && prefer.Key == k.ID {
				first = append(first, c)
			} else {
				rest = append(rest, c)
			}
		}
	}
	return append(first, rest...)
}

// Pin restricts a create to one key (a draft re-render must use the draft's account).
type Pin struct {
	Channel, Key string
}

// Request is one create to route.
type Request struct {
	TaskID string
	Model  *task.Model
	// Pin, when set, allows only that key.
	Pin *Pin
	// RunTime is how long the task is expected to take: when every key is at
	// its concurrency, room comes about when one finishes.
	RunTime time.Duration
	// Fits, when set, says whether a channel can carry the request (its
	// kind's capabilities): channels it refuses are never chosen.
	Fits func(*Channel) bool
}

// slotCount is how many keys could take a create of the model.
func (r *Router) slotCount(model string, pn *Pin) int {
	n := 0
	for _, ch := range r.c.Channels {
		if !ch.Serves(model) {
			continue
		}
		for _, k := range ch.keys {
			if pn == nil || (pn.Channel == ch.Name && pn.Key == k.ID) {
				n++
			}
		}
	}
	return n
}

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
// creates reserve (Pick) and give back (Release) slots.
type loadSnapshot struct {
	at     time.Time
	counts map[Slot]int
}

// load counts the tasks holding each slot of a model: live tasks with that
// key in the store, plus creates of this process the store may not show yet.
// The store's count is reused for up to loadMaxAge unless fresh is set. The
// map is the snapshot's own: read it, do not change it. r.mu is held.
func (r *Router) load(ctx context.Context, model string, now time.Time, fresh bool) (map[Slot]int, error) {
	snap := r.loads[model]
	if fresh || snap == nil || now.Sub(snap.at) >= loadMaxAge || now.Before(snap.at) {
		rows, err := r.c.Load(ctx, model)
		if err != nil {
			return nil, fmt.Errorf("key load: %w", err)
		}
		holders := map[Slot]map[string]bool{}
		for _, h := range rows {
			s := Slot{h.Channel, h.Key, model}
			if holders[s] == nil {
				holders[s] = map[string]bool{}
			}
			holders[s][h.TaskID] = true
		}
		snap = &loadSnapshot{at: now, counts: map[Slot]int{}}
		for s, ids := range holders {
			snap.counts[s] = len(ids)
		}
		for id, ps := range r.pending {
			switch {
			case now.Sub(ps.at) > pendingTTL, holders[ps.Slot][id]:
				delete(r.pending, id) // the store counts it now
			case ps.Model == model:
				snap.counts[ps.Slot]++
			}
		}
		r.loads[model] = snap
	}
	return snap.counts, nil
}

// Pick chooses a key with room for the create and reserves it for the task
// (Release gives it back): channels by priority (higher first), then at
// random by weight; within a channel the least loaded key. It returns nil and
// how long to wait when no key has room. Keys in tried are skipped.
func (r *Router) Pick(ctx context.Context, req Request, tried map[Slot]bool) (*Candidate, time.Duration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.c.Now()
	for _, fresh := range []bool{false, true} {
		load, err := r.load(ctx, req.Model.ID, now, fresh)
		if err != nil {
			return nil, 0, err
		}
		c, wait, stale := r.choose(req, tried, load, now, fresh)
		if !stale {
			return c, wait, nil
		}
	}
	panic("unreachable: a fresh load is never stale")
}

// choose is Pick's choice on a given load. With a load that is not fresh it
// gives up (stale) as soon as a key it looks at is near its limit, for Pick to
// read the store's count again.
func (r *Router) choose(req Request, tried map[Slot]bool, load map[Slot]int, now time.Time, fresh bool) (_ *Candidate, _ time.Duration, stale bool) {
	m, pn := req.Model, req.Pin
	wait := time.Duration(math.MaxInt64)
	for _, level := range r.byPriority(m.ID) {
		for _, ch := range weightedOrder(level) {
			if req.Fits != nil && !req.Fits(ch) {
				continue
			}
			conc, rpm := ch.Limits(m)
			keys := slices.Clone(ch.keys)
			rand.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			slices.SortStableFunc(keys, func(a, b *Key) int {
				return cmp.Compare(load[Slot{ch.Name, a.ID, m.ID}], load[Slot{ch.Name, b.ID, m.ID}])
			})
			for _, k := range keys {
				s := Slot{ch.Name, k.ID, m.ID}
				if tried[s] || (pn != nil && (pn.Channel != ch.Name || pn.Key != k.ID)) {
					continue
				}
				if !fresh && load[s] >= nearLimit(conc) {
					return nil, 0, true
				}
				st := r.state(s)
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
					wait = min(wait, req.RunTime/10)
				default:
					st.creates = append(st.creates, now)
					r.pending[req.TaskID] = pendingSlot{Slot: s, at: now}
					if sn := r.loads[m.ID]; sn != nil {
						sn.counts[s]++
					}
					return &Candidate{Channel: ch, Key: k, Model: m.ID}, 0, false
				}
			}
		}
	}
	if wait == time.Duration(math.MaxInt64) {
		wait = r.c.MinWait
	}
	// Spread the waiting tasks' next looks a little so they do not stampede.
	wait = min(max(wait, r.c.MinWait), 30*time.Second)
	return nil, wait + time.Duration(rand.Int64N(int64(wait)/4+1)), false
}

// Release gives back a slot reserved by Pick for a task that holds no
// upstream task (a create that failed), or whose upstream task finished.
func (r *Router) Release(taskID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps, ok := r.pending[taskID]
	if !ok {
		return
	}
	delete(r.pending, taskID)
	if sn := r.loads[ps.Model]; sn != nil && sn.counts[ps.Slot] > 0 {
		sn.counts[ps.Slot]-- // it was counted: when the snapshot was made, or when reserved since
	}
}

// CoolDown keeps creates off a slot for d.
func (r *Router) CoolDown(s Slot, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.state(s)
	if until := r.c.Now().Add(d); until.After(st.coolTill) {
		st.coolTill = until
	}
}

func (r *Router) state(s Slot) *keyState {
	st := r.keys[s]
	if st == nil {
		st = &keyState{}
		r.keys[s] = st
	}
	return st
}

// byPriority returns the channels serving a model grouped by priority, highest first.
func (r *Router) byPriority(model string) [][]*Channel {
	var serving []*Channel
	for _, ch := range r.c.Channels {
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

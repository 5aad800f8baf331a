// Package timing estimates how long an upstream task takes, and so when a
// provider that polls should look at it again: rarely early, close to the
// expected finish, then backing off. The estimate per model, resolution and
// tier starts from a table (or a configured expected time) and follows the
// create-to-result times observed. Any provider kind that polls an upstream
// can use it; it knows nothing of a wire protocol.
package timing

import (
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// Defaults of Settings.
const (
	DefaultMinInterval = 2 * time.Second
	DefaultMaxInterval = 5 * time.Minute
	// callbackGrace: with callbacks, the first safety-net check comes this long
	// after twice the expected time.
	callbackGrace = 30 * time.Second
	// refTokens is 1280×720, 5 s (108900 tokens): the size the reference times below are for.
	refTokens = 108900
)

// refSeconds is roughly how long each model takes for a 720p 5 s video, from
// create to result, under normal load. Only the starting point: observed times
// replace it (Model.Observe).
var refSeconds = map[string]float64{
	"seedance-1-0-lite-t2v": 30,
	"seedance-1-0-lite-i2v": 30,
	"seedance-1-0-pro":      40,
	"seedance-1-0-pro-fast": 20,
	"seedance-1-5-pro":      45,
	"seedance-2-0":          90,
	"seedance-2-0-fast":     45,
}

// Settings tune the checks. Zero values mean the defaults.
type Settings struct {
	MinInterval time.Duration // never check a task more often
	MaxInterval time.Duration // never leave a task unchecked longer
	// ExpectedTime replaces the per-model starting estimate of how long a task
	// takes from create to result (observed times still refine it).
	ExpectedTime time.Duration
	// Callbacks says the upstream tells when a task finishes: checks are then
	// only a late safety net.
	Callbacks bool
}

// Model is the learned timing of one provider. It is safe for concurrent use.
type Model struct {
	s Settings

	mu      sync.Mutex
	learned map[string]time.Duration // EWMA per model|resolution|tier
}

// New returns a Model with the defaults filled in.
func New(s Settings) *Model {
	if s.MinInterval <= 0 {
		s.MinInterval = DefaultMinInterval
	}
	if s.MaxInterval <= 0 {
		s.MaxInterval = max(DefaultMaxInterval, s.MinInterval)
	}
	return &Model{s: s, learned: map[string]time.Duration{}}
}

// MinInterval is the shortest delay between two looks at a task.
func (tm *Model) MinInterval() time.Duration { return tm.s.MinInterval }

func key(t *task.Task) string {
	return t.Model + "|" + t.Request.Resolution + "|" + t.Request.ServiceTier
}

// Expected is how long t should take from create to result.
func (tm *Model) Expected(t *task.Task) time.Duration {
	tm.mu.Lock()
	d, ok := tm.learned[key(t)]
	tm.mu.Unlock()
	if ok {
		return d
	}
	if tm.s.ExpectedTime > 0 {
		return tm.s.ExpectedTime
	}
	ref, ok := refSeconds[t.Model]
	if !ok {
		ref = 60
	}
	scale := 1.0
	if m, _, ok := task.LookupModel(t.Model); ok {
		if tokens := m.EstimateTokens(&t.Request, 0, 0); tokens > 0 {
			scale = float64(tokens) / refTokens
		}
	}
	d = 10*time.Second + time.Duration(ref*scale*float64(time.Second))
	if t.Request.ServiceTier == task.TierFlex {
		d *= 6 // offline inference: slower, queued longer
	}
	return min(max(d, 15*time.Second), 2*time.Hour)
}

// Observe learns from a task that took d from create to result.
func (tm *Model) Observe(t *task.Task, d time.Duration) {
	if d < 0 {
		return
	}
	k := key(t)
	tm.mu.Lock()
	defer tm.mu.Unlock()
	old, ok := tm.learned[k]
	if !ok {
		tm.learned[k] = d
		return
	}
	tm.learned[k] = old + (d-old)/4
}

// Next is when t should be checked again, at age since its create. Times are
// rounded up to a grain of up to half the delay, so that tasks of similar age
// fall due at the same instant and share one list call.
func (tm *Model) Next(t *task.Task, age time.Duration, now time.Time) time.Time {
	return tm.Plan(t, age, now, tm.s.Callbacks)
}

// Plan is Next for a task whose upstream calls back (callbacks) or not,
// whatever the Settings say: one model serves upstreams of both sorts.
func (tm *Model) Plan(t *task.Task, age time.Duration, now time.Time, callbacks bool) time.Time {
	e := tm.Expected(t)
	var d time.Duration
	switch {
	case callbacks && age < 2*e+callbackGrace:
		d = 2*e + callbackGrace - age // callbacks tell; checks are the safety net
	case callbacks:
		d = max(e/2, callbackGrace)
	case age < e:
		d = e - age
	default:
		d = e/10 + (age-e)/4 // overdue: soon at first, then less and less
	}
	d = min(max(d, tm.s.MinInterval), tm.s.MaxInterval)
	// Never finer than half the shortest interval: below that, lining tasks
	// up saves more requests than the extra wait costs.
	return Align(now.Add(d), max(d/4, tm.s.MinInterval/2))
}

// Align rounds at up to the largest grain not above most.
func Align(at time.Time, most time.Duration) time.Time {
	grain := grains[0]
	for _, g := range grains {
		if g <= most {
			grain = g
		}
	}
	if up := at.Truncate(grain); up.Before(at) {
		return up.Add(grain)
	}
	return at
}

// grains are the steps check times are rounded up to: a fixed set, so that
// tasks with nearly the same delay land on the same instant.
var grains = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second}

// Progress estimates a running task's percent done.
func (tm *Model) Progress(t *task.Task, age time.Duration) int {
	e := tm.Expected(t)
	if e <= 0 {
		return 50
	}
	return min(max(int(100*age/e), 1), 95)
}

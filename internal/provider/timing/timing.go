package ark

import (
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// Check timing defaults.
const (
	defaultMinInterval    = 2 * time.Second
	defaultMaxInterval    = 5 * time.Minute
	defaultReconcileAfter = 5 * time.Second
	// callbackGrace: with callbacks, the first safety-net check comes this long
	// after twice the expected time.
	callbackGrace = 30 * time.Second
	// refTokens is 1280×720, 5 s (108900 tokens): the size the reference times below are for.
	refTokens = 108900
)

// refSeconds is roughly how long each model takes for a 720p 5 s video, from
// create to result, under normal load. Only the starting point: observed times
// replace it (timing.observe).
var refSeconds = map[string]float64{
	"seedance-1-0-lite-t2v": 30,
	"seedance-1-0-lite-i2v": 30,
	"seedance-1-0-pro":      40,
	"seedance-1-0-pro-fast": 20,
	"seedance-1-5-pro":      45,
	"seedance-2-0":          90,
	"seedance-2-0-fast":     45,
}

// timing estimates how long tasks take and so when to look at them: rarely
// early, close to the expected finish, then backing off. The estimate per
// model, resolution and tier starts from the table (or checks.expected_time)
// and follows observed create-to-result times.
type timing struct {
	s         CheckSettings
	callbacks bool

	mu      sync.Mutex
	learned map[string]time.Duration // EWMA per model|resolution|tier
}

func newTiming(s CheckSettings, callbacks bool) *timing {
	if s.MinInterval <= 0 {
		s.MinInterval = defaultMinInterval
	}
	if s.MaxInterval <= 0 {
		s.MaxInterval = max(defaultMaxInterval, s.MinInterval)
	}
	if s.ReconcileAfter <= 0 {
		s.ReconcileAfter = defaultReconcileAfter
	}
	if s.BatchSize <= 0 {
		s.BatchSize = maxPageSize
	}
	return &timing{s: s, callbacks: callbacks, learned: map[string]time.Duration{}}
}

func timingKey(t *task.Task) string {
	return t.Model + "|" + t.Request.Resolution + "|" + t.Request.ServiceTier
}

// expected is how long t should take from create to result.
func (tm *timing) expected(t *task.Task) time.Duration {
	tm.mu.Lock()
	d, ok := tm.learned[timingKey(t)]
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

// observe learns from a task that took d from create to result.
func (tm *timing) observe(t *task.Task, d time.Duration) {
	if d < 0 {
		return
	}
	k := timingKey(t)
	tm.mu.Lock()
	defer tm.mu.Unlock()
	old, ok := tm.learned[k]
	if !ok {
		tm.learned[k] = d
		return
	}
	tm.learned[k] = old + (d-old)/4
}

// next is when t should be checked again, at age since its create. Times are
// rounded up to a grain of up to half the delay, so that tasks of similar age
// fall due at the same instant and share one list call.
func (tm *timing) next(t *task.Task, age time.Duration, now time.Time) time.Time {
	e := tm.expected(t)
	var d time.Duration
	switch {
	case tm.callbacks && age < 2*e+callbackGrace:
		d = 2*e + callbackGrace - age // callbacks tell; checks are the safety net
	case tm.callbacks:
		d = max(e/2, callbackGrace)
	case age < e:
		d = e - age
	default:
		d = e/10 + (age-e)/4 // overdue: soon at first, then less and less
	}
	d = min(max(d, tm.s.MinInterval), tm.s.MaxInterval)
	// Never finer than half the shortest interval: below that, lining tasks
	// up saves more requests than the extra wait costs.
	return align(now.Add(d), max(d/4, tm.s.MinInterval/2))
}

// align rounds at up to the largest grain not above most.
func align(at time.Time, most time.Duration) time.Time {
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

// progress estimates a running task's percent done.
func (tm *timing) progress(t *task.Task, age time.Duration) int {
	e := tm.expected(t)
	if e <= 0 {
		return 50
	}
	return min(max(int(100*age/e), 1), 95)
}

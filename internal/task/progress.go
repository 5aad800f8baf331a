package task

import (
	"math"
	"time"
)

// expectedBase is how long a model typically runs (status running, queue time
// excluded) for a 5 s clip at 720p 16:9. The figures are rounded observations of
// the hosted service; they only drive the progress estimate, never a timeout.
var expectedBase = map[string]time.Duration{
	"seedance-1-0-lite-t2v": 45 * time.Second,
	"seedance-1-0-lite-i2v": 45 * time.Second,
	"seedance-1-0-pro":      70 * time.Second,
	"seedance-1-0-pro-fast": 35 * time.Second,
	"seedance-1-5-pro":      90 * time.Second,
	"seedance-2-0":          150 * time.Second,
	"seedance-2-0-fast":     75 * time.Second,
}

const defaultExpectedBase = 90 * time.Second

// ExpectedRunTime estimates how long t runs once started, from its model,
// resolution, ratio and duration: time grows a little slower than the pixel
// count (the models batch well) and in proportion to the clip's length.
func ExpectedRunTime(t *Task) time.Duration {
	base, ok := expectedBase[t.Model]
	if !ok {
		base = defaultExpectedBase
	}
	r := &t.Request
	scale := 1.0
	family := Family15
	if m, _, ok := LookupModel(t.Model); ok {
		family = m.Family
	}
	ratio := r.Ratio
	if ratio == "" || ratio == RatioAdaptive {
		ratio = "16:9"
	}
	res := r.Resolution
	if res == "" {
		res = Res720p
	}
	w, h, ok := PixelSize(family, res, ratio)
	bw, bh, bok := PixelSize(family, Res720p, "16:9")
	if ok && bok {
		scale *= math.Pow(float64(w*h)/float64(bw*bh), 0.8)
	}
	seconds := float64(autoDurationSeconds)
	switch {
	case r.Frames != nil && *r.Frames > 0:
		seconds = float64(*r.Frames) / outputFPS
	case r.Duration != nil && *r.Duration > 0:
		seconds = float64(*r.Duration)
	}
	scale *= seconds / defaultDuration
	if r.Draft != nil && *r.Draft {
		scale *= 0.4
	}
	if r.GenerateAudio != nil && *r.GenerateAudio {
		scale *= 1.15
	}
	return time.Duration(float64(base) * max(scale, 0.1))
}

// EstimateProgress is the progress clients see: the provider's own figure
// (t.Progress) or, when the clock says more, elapsed running time against
// ExpectedRunTime. Linear up to 90 %, then it creeps towards 99 so a slow task
// keeps moving without ever claiming to be done: 100 only for succeeded.
func EstimateProgress(t *Task, now time.Time) int {
	switch {
	case t.Status == StatusSucceeded:
		return 100
	case t.Status.Terminal():
		return min(t.Progress, 99)
	case t.Status != StatusRunning:
		return min(max(t.Progress, 0), 99)
	}
	start := t.UpdatedAt
	if t.StartedAt != nil {
		start = *t.StartedAt
	}
	x := float64(now.Sub(start)) / float64(ExpectedRunTime(t))
	var est float64
	switch {
	case x <= 0:
		est = 0
	case x < 0.9:
		est = 100 * x
	default:
		est = 90 + 9*(1-math.Exp(-(x-0.9)*2))
	}
	return min(max(int(est+1e-9), t.Progress, 1), 99) // 1e-9: 0.5×100 must be 50, not 49
}

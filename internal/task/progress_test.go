package task

import (
	"testing"
	"time"
)

func TestExpectedRunTimeScales(t *testing.T) {
	t.Parallel()
	mk := func(res string, dur int) *Task {
		return &Task{Model: "seedance-1-0-pro", Request: Request{Resolution: res, Ratio: "16:9", Duration: Int(dur)}}
	}
	base := ExpectedRunTime(mk("720p", 5))
	if base != 70*time.Second {
		t.Fatalf("1.0 pro 720p 5s: want 70s, got %s", base)
	}
	if hi := ExpectedRunTime(mk("1080p", 5)); hi <= base {
		t.Fatalf("1080p (%s) should take longer than 720p (%s)", hi, base)
	}
	if lo := ExpectedRunTime(mk("480p", 5)); lo >= base {
		t.Fatalf("480p (%s) should be quicker than 720p (%s)", lo, base)
	}
	if long := ExpectedRunTime(mk("720p", 10)); long != 2*base {
		t.Fatalf("10 s should take twice 5 s: %s vs %s", long, base)
	}
	frames := &Task{Model: "seedance-1-0-pro", Request: Request{Resolution: "720p", Ratio: "16:9", Frames: Int(121)}}
	if got := ExpectedRunTime(frames); got <= base {
		t.Fatalf("121 frames (~5 s) at 24 fps: got %s", got)
	}
	unknown := &Task{Model: "nope"}
	if got := ExpectedRunTime(unknown); got <= 0 {
		t.Fatalf("unknown model: %s", got)
	}
}

func TestEstimateProgress(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run := &Task{Model: "seedance-1-0-pro", Status: StatusRunning, StartedAt: &start,
		Request: Request{Resolution: "720p", Ratio: "16:9", Duration: Int(5)}}
	exp := ExpectedRunTime(run)
	at := func(f float64) int { return EstimateProgress(run, start.Add(time.Duration(f*float64(exp)))) }

	if p := at(0); p != 1 {
		t.Fatalf("just started: want 1, got %d", p)
	}
	if p := at(0.5); p != 50 {
		t.Fatalf("half way: want 50, got %d", p)
	}
	prev := 0
	for f := 0.0; f < 20; f += 0.05 {
		p := at(f)
		if p < prev || p > 99 {
			t.Fatalf("at %.2f×expected: %d (previous %d): must be monotonic and never past 99", f, p, prev)
		}
		prev = p
	}
	if prev != 99 {
		t.Fatalf("long overdue: want 99, got %d", prev)
	}
	// The provider's own figure wins when it is ahead of the clock.
	run.Progress = 70
	if p := at(0.1); p != 70 {
		t.Fatalf("provider says 70: got %d", p)
	}
	for _, c := range []struct {
		st   Status
		prog int
		want int
	}{{StatusQueued, 0, 0}, {StatusSucceeded, 40, 100}, {StatusFailed, 40, 40}, {StatusFailed, 100, 99}} {
		tk := &Task{Status: c.st, Progress: c.prog}
		if got := EstimateProgress(tk, start); got != c.want {
			t.Fatalf("%s with %d: want %d, got %d", c.st, c.prog, c.want, got)
		}
	}
}

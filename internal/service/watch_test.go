package service

import (
	"testing"

	"github.com/seedgate/seedgate/internal/task"
)

func TestEventSeqOrdersALifecycle(t *testing.T) {
	t.Parallel()
	steps := []*task.Task{
		{Status: task.StatusQueued},
		{Status: task.StatusRunning, Progress: 1},
		{Status: task.StatusRunning, Progress: 57},
		{Status: task.StatusRunning, Progress: 99},
		{Status: task.StatusSucceeded, Progress: 100},
	}
	for i := 1; i < len(steps); i++ {
		if EventSeq(steps[i]) <= EventSeq(steps[i-1]) {
			t.Fatalf("step %d does not come after step %d", i, i-1)
		}
	}
	if EventSeq(&task.Task{Status: task.StatusFailed, Progress: 40}) <= EventSeq(steps[3]) {
		t.Fatal("a failure comes after any running state")
	}
}

func FuzzParseEventID(f *testing.F) {
	for _, s := range []string{"", "1000", "2042", " 3100 ", "-1", "abc", "99999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := ParseEventID(s); n < 0 {
			t.Fatalf("%q: negative id %d", s, n)
		}
	})
}

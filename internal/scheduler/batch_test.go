package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/task"
)

// batchFake is fakeUpstream that also checks in batches, reconciles, and can
// hold tasks back for capacity.
type batchFake struct {
	*fakeUpstream
	mu          sync.Mutex
	batchSizes  []int
	singles     int
	skip        func(t *task.Task) bool // leave out of the batch answer
	waits       int                     // Submit answers Wait this many times
	unknown     int                     // Submit creates, then answers "outcome unknown" this many times
	reconciles  int
	reconcileFn func(t *task.Task) (string, error)
	updateFn    func(t *task.Task, u provider.Update) provider.Update
	grid        time.Duration // Submit plans the first check on this grid
}

func newBatchFake() *batchFake { return &batchFake{fakeUpstream: newFake()} }

func (f *batchFake) Submit(ctx context.Context, t *task.Task) (string, error) {
	f.mu.Lock()
	if f.waits > 0 {
		f.waits--
		f.mu.Unlock()
		return "", provider.Wait(20*time.Millisecond, "full")
	}
	unknown := f.unknown > 0
	if unknown {
		f.unknown--
	}
	f.mu.Unlock()
	id, err := f.fakeUpstream.Submit(ctx, t)
	if f.grid > 0 {
		at := time.Now().Truncate(f.grid).Add(f.grid)
		t.NextCheckAt = &at
	}
	if err == nil && unknown {
		return "", provider.Transient(errors.New("connection dropped after sending"), 10*time.Millisecond)
	}
	return id, err
}

func (f *batchFake) Reconcile(ctx context.Context, t *task.Task) (string, error) {
	f.mu.Lock()
	f.reconciles++
	fn := f.reconcileFn
	f.mu.Unlock()
	if fn != nil {
		return fn(t)
	}
	f.fakeUpstream.mu.Lock()
	defer f.fakeUpstream.mu.Unlock()
	return f.byTask[t.ID], nil
}

func (f *batchFake) Check(ctx context.Context, t *task.Task) (provider.Update, error) {
	f.mu.Lock()
	f.singles++
	f.mu.Unlock()
	return f.check(ctx, t)
}

func (f *batchFake) check(ctx context.Context, t *task.Task) (provider.Update, error) {
	u, err := f.fakeUpstream.Check(ctx, t)
	f.mu.Lock()
	fn := f.updateFn
	f.mu.Unlock()
	if err == nil && fn != nil {
		u = fn(t, u)
	}
	return u, err
}

func (f *batchFake) CheckBatch(ctx context.Context, ts []*task.Task) (map[string]provider.Update, error) {
	f.mu.Lock()
	f.batchSizes = append(f.batchSizes, len(ts))
	skip := f.skip
	f.mu.Unlock()
	out := map[string]provider.Update{}
	for _, t := range ts {
		if skip != nil && skip(t) {
			continue
		}
		u, err := f.check(ctx, t)
		if err != nil {
			return out, err
		}
		out[t.ID] = u
	}
	return out, nil
}

func (f *batchFake) stats() (batches []int, singles int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batchSizes...), f.singles
}

func (b *bundle) startWith(t *testing.T, p provider.Provider, batch int) *Scheduler {
	t.Helper()
	s := New(Config{Store: b.store, Providers: map[string]provider.Provider{"fake": p}, Hub: b.hub, Owner: "a",
		Workers: 2, Lease: time.Minute, PollInterval: 20 * time.Millisecond, CheckInterval: 30 * time.Millisecond,
		CheckBatchSize: batch})
	s.Start(context.Background())
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

// Due checks of a BatchChecker are handed over together, not one by one.
func TestDueChecksAreBatched(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newBatchFake()
	// Like the ark provider, plan checks on a grid so tasks fall due together.
	const grain = 500 * time.Millisecond
	f.grid = grain
	f.updateFn = func(_ *task.Task, u provider.Update) provider.Update {
		now := time.Now()
		u.NextCheck = now.Truncate(grain).Add(grain).Sub(now)
		return u
	}
	const n = 20
	for i := range n {
		b.addTask(t, fmt.Sprintf("t%02d", i), time.Hour)
	}
	b.startWith(t, f, 500)
	for i := range n {
		waitStatus(t, b.store, fmt.Sprintf("t%02d", i), task.StatusSucceeded)
	}
	batches, singles := f.stats()
	// A check that falls due between the batch claim and the general claim is
	// taken by the latter: rare, and still correct.
	require.LessOrEqual(t, singles, n/4, "checks went through CheckBatch")
	total, biggest := 0, 0
	for _, sz := range batches {
		total += sz
		biggest = max(biggest, sz)
	}
	require.GreaterOrEqual(t, total+singles, 3*n, "three checks per task (queued, running, succeeded)")
	require.Less(t, len(batches), total/2, "batches of many tasks: %v", batches)
	require.Greater(t, biggest, 4)
	require.Equal(t, n, f.createCount())
}

// The batch size bounds what one step takes.
func TestBatchSizeIsBounded(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newBatchFake()
	for i := range 30 {
		b.addTask(t, fmt.Sprintf("t%02d", i), time.Hour)
	}
	b.startWith(t, f, 7)
	for i := range 30 {
		waitStatus(t, b.store, fmt.Sprintf("t%02d", i), task.StatusSucceeded)
	}
	batches, _ := f.stats()
	for _, sz := range batches {
		require.LessOrEqual(t, sz, 7)
	}
}

// Tasks the batch answer leaves out are checked one by one.
func TestTasksMissingFromBatchAreCheckedSingly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newBatchFake()
	f.skip = func(t *task.Task) bool { return t.ID == "odd" }
	b.addTask(t, "odd", time.Hour)
	b.addTask(t, "even", time.Hour)
	b.startWith(t, f, 500)
	waitStatus(t, b.store, "odd", task.StatusSucceeded)
	waitStatus(t, b.store, "even", task.StatusSucceeded)
	_, singles := f.stats()
	require.GreaterOrEqual(t, singles, 3, "odd went through Check for each of its steps")
}

// A provider without room keeps the task queued in the gateway: no attempt,
// no dispatch intent left behind, dispatched once room appears.
func TestWaitKeepsTaskQueued(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newBatchFake()
	f.waits = 3
	b.addTask(t, "t1", time.Hour)
	b.startWith(t, f, 500)
	require.Eventually(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.waits == 1
	}, 5*time.Second, 2*time.Millisecond)
	got, err := b.store.GetTask(context.Background(), "t1")
	require.NoError(t, err)
	require.Equal(t, task.StatusQueued, got.Status)
	require.Zero(t, got.Attempts, "waiting for capacity is not a failure")
	got = waitStatus(t, b.store, "t1", task.StatusSucceeded)
	require.Equal(t, 1, f.createCount())
	require.Zero(t, f.reconciles, "nothing was sent while waiting: nothing to reconcile")
}

// A create with an unknown outcome is reconciled, not sent again.
func TestUnknownCreateIsReconciled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newBatchFake()
	f.unknown = 1
	b.addTask(t, "t1", time.Hour)
	b.startWith(t, f, 500)
	got := waitStatus(t, b.store, "t1", task.StatusSucceeded)
	require.Equal(t, "up-1", got.UpstreamID)
	require.Equal(t, 1, f.createCount())
	require.Equal(t, 1, f.reconciles)
}

// When reconciling finds nothing, the task is created afresh.
func TestReconcileFindingNothingCreatesAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newBatchFake()
	f.unknown = 1
	f.reconcileFn = func(tk *task.Task) (string, error) { // the first create was lost upstream
		f.fakeUpstream.mu.Lock()
		delete(f.byTask, tk.ID)
		f.fakeUpstream.mu.Unlock()
		return "", nil
	}
	b.addTask(t, "t1", time.Hour)
	b.startWith(t, f, 500)
	got := waitStatus(t, b.store, "t1", task.StatusSucceeded)
	require.Equal(t, 1, f.reconciles)
	require.Equal(t, "up-2", got.UpstreamID)
}

// A problem the provider retries (a copy of the result) shows on the running
// task and goes away when it is solved.
func TestRetriedProblemShowsOnTask(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newBatchFake()
	var mu sync.Mutex
	failing := true
	f.updateFn = func(tk *task.Task, u provider.Update) provider.Update {
		mu.Lock()
		defer mu.Unlock()
		if u.Status == task.StatusSucceeded && failing {
			return provider.Update{Status: task.StatusRunning, Progress: 99, NextCheck: 10 * time.Millisecond,
				Error: &task.Error{Code: task.CodeUnavailable, Message: "copying the result failed; retrying"}}
		}
		return u
	}
	b.addTask(t, "t1", time.Hour)
	b.startWith(t, f, 500)
	require.Eventually(t, func() bool {
		got, err := b.store.GetTask(context.Background(), "t1")
		return err == nil && got.Error != nil && got.Status == task.StatusRunning && got.Progress == 99
	}, 5*time.Second, 5*time.Millisecond)
	mu.Lock()
	failing = false
	mu.Unlock()
	got := waitStatus(t, b.store, "t1", task.StatusSucceeded)
	require.Nil(t, got.Error)
}

// A nudge makes a task whose next check is far away due now.
func TestNudgeChecksNow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newBatchFake()
	f.checkSteps = []task.Status{task.StatusRunning, task.StatusSucceeded}
	f.updateFn = func(tk *task.Task, u provider.Update) provider.Update {
		u.NextCheck = time.Hour // only a nudge brings the next look
		return u
	}
	b.addTask(t, "t1", time.Hour)
	s := New(Config{Store: b.store, Providers: map[string]provider.Provider{"fake": f}, Hub: b.hub, Owner: "a",
		Workers: 2, Lease: time.Minute, PollInterval: 20 * time.Millisecond, CheckInterval: 30 * time.Millisecond})
	cl := watchClaims(s)
	s.Start(context.Background())
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	waitStatus(t, b.store, "t1", task.StatusRunning)
	seen := time.Now()
	require.Zero(t, cl.after(t, s, seen).n, "no check before the nudge")
	got, err := b.store.GetTask(context.Background(), "t1")
	require.NoError(t, err)
	require.Equal(t, task.StatusRunning, got.Status)
	require.True(t, got.NextCheckAt.After(seen.Add(50*time.Minute)), "the next check is planned an hour away: %s", got.NextCheckAt)
	require.NoError(t, s.NudgeAt(context.Background(), "t1", time.Now()))
	waitStatus(t, b.store, "t1", task.StatusSucceeded)
	require.NoError(t, s.NudgeAt(context.Background(), "t1", time.Now()), "a finished task ignores nudges")
	require.NoError(t, s.NudgeAt(context.Background(), "missing", time.Now()))
}

// A nudge that arrives while the task is being dispatched is not lost: the
// check it asks for happens right after.
func TestNudgeDuringDispatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newBatchFake()
	f.grid = time.Hour // the provider plans the first check an hour away
	f.checkSteps = []task.Status{task.StatusSucceeded}
	var s *Scheduler
	nudged := make(chan struct{})
	f.submitHook = func(tk *task.Task) error {
		require.NoError(t, s.NudgeAt(context.Background(), tk.ID, time.Now())) // the upstream calls back at once
		close(nudged)
		return nil
	}
	b.addTask(t, "t1", time.Hour)
	s = New(Config{Store: b.store, Providers: map[string]provider.Provider{"fake": f}, Hub: b.hub, Owner: "a",
		Workers: 2, Lease: time.Minute, PollInterval: 20 * time.Millisecond})
	s.Start(context.Background())
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	<-nudged
	waitStatus(t, b.store, "t1", task.StatusSucceeded)
}

// Nudged checks of tasks a step left for later are handed over together.
func TestNudgedChecksBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := newBatchFake()
	f.checkSteps = []task.Status{task.StatusRunning, task.StatusSucceeded}
	f.updateFn = func(tk *task.Task, u provider.Update) provider.Update {
		u.NextCheck = time.Hour
		return u
	}
	for i := range 5 {
		b.addTask(t, fmt.Sprint("t", i), time.Hour)
	}
	s := New(Config{Store: b.store, Providers: map[string]provider.Provider{"fake": f}, Hub: b.hub, Owner: "a",
		Workers: 4, Lease: time.Minute, PollInterval: 20 * time.Millisecond})
	s.Start(context.Background())
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	for i := range 5 {
		waitStatus(t, b.store, fmt.Sprint("t", i), task.StatusRunning)
	}
	for i := range 5 {
		require.NoError(t, s.NudgeAt(context.Background(), fmt.Sprint("t", i), time.Now()))
	}
	for i := range 5 {
		waitStatus(t, b.store, fmt.Sprint("t", i), task.StatusSucceeded)
	}
	batches, _ := f.stats()
	require.NotEmpty(t, batches, "nudged checks are handed over together")
}

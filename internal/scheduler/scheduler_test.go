package scheduler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/events"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/task"
)

// fakeUpstream is a provider whose tasks live in memory, shared by the
// schedulers of a test as an upstream is shared by gateway instances.
type fakeUpstream struct {
	mu      sync.Mutex
	creates int
	byTask  map[string]string // gateway task id → upstream id
	checks  map[string]int
	// hooks
	submitHook func(t *task.Task) error // runs after the upstream task exists
	checkSteps []task.Status            // statuses returned by successive checks
	checkErr   func(n int) error
}

func newFake() *fakeUpstream {
	return &fakeUpstream{byTask: map[string]string{}, checks: map[string]int{},
		checkSteps: []task.Status{task.StatusQueued, task.StatusRunning, task.StatusSucceeded}}
}

func (f *fakeUpstream) Name() string { return "fake" }

func (f *fakeUpstream) Submit(ctx context.Context, t *task.Task) (string, error) {
	f.mu.Lock()
	id, exists := f.byTask[t.ID]
	if exists && t.DispatchedAt != nil { // reconcile: the earlier create went through
		f.mu.Unlock()
		return id, nil
	}
	f.creates++
	id = fmt.Sprintf("up-%d", f.creates)
	f.byTask[t.ID] = id
	hook := f.submitHook
	f.mu.Unlock()
	if hook != nil {
		if err := hook(t); err != nil {
			return "", err
		}
	}
	return id, nil
}

func (f *fakeUpstream) Check(ctx context.Context, t *task.Task) (provider.Update, error) {
	f.mu.Lock()
	n := f.checks[t.ID]
	f.checks[t.ID]++
	steps := f.checkSteps
	errFn := f.checkErr
	f.mu.Unlock()
	if errFn != nil {
		if err := errFn(n); err != nil {
			return provider.Update{}, err
		}
	}
	st := steps[min(n, len(steps)-1)]
	u := provider.Update{Status: st, Progress: 50, NextCheck: time.Millisecond}
	switch st {
	case task.StatusSucceeded:
		u.Result = &task.Result{UpstreamVideoURL: "https://up/" + t.UpstreamID + ".mp4", Width: 640, Height: 640, FPS: 24}
		u.Usage = &task.Usage{CompletionTokens: 38800, TotalTokens: 38800}
	case task.StatusFailed:
		u.Error = &task.Error{Code: task.CodeUpstream, UpstreamCode: "OutputVideoSensitiveContentDetected", Message: "flagged"}
	}
	return u, nil
}

func (f *fakeUpstream) Cancel(ctx context.Context, t *task.Task) error { return nil }

func (f *fakeUpstream) createCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creates
}

type bundle struct {
	store store.Store
	path  string
	fake  *fakeUpstream
	hub   *events.Hub
}

func setup(t *testing.T) *bundle {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seedgate.db")
	st, err := sqlite.Open(context.Background(), path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return &bundle{store: st, path: path, fake: newFake(), hub: events.NewHub()}
}

func (b *bundle) start(t *testing.T, st store.Store, owner string, lease time.Duration) *Scheduler {
	t.Helper()
	s := New(Config{Store: st, Providers: map[string]provider.Provider{"fake": b.fake}, Hub: b.hub, Owner: owner,
		Workers: 4, Lease: lease, PollInterval: 20 * time.Millisecond, CheckInterval: 5 * time.Millisecond})
	s.Start(context.Background())
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

// claims records the scheduler's claims (claimloop.Loop.OnClaimed): call
// before Start.
type claims struct {
	mu   sync.Mutex
	seen []claimed
	ch   chan struct{}
}

type claimed struct {
	now time.Time
	n   int
}

func watchClaims(s *Scheduler) *claims {
	c := &claims{ch: make(chan struct{}, 1)}
	s.loop.OnClaimed(func(now time.Time, n int) {
		c.mu.Lock()
		c.seen = append(c.seen, claimed{now, n})
		c.mu.Unlock()
		select {
		case c.ch <- struct{}{}:
		default:
		}
	})
	return c
}

// after wakes s and returns the first claim made for a time not before t.
func (c *claims) after(tb testing.TB, s *Scheduler, t time.Time) claimed {
	tb.Helper()
	s.Wake()
	deadline := time.After(30 * time.Second)
	for {
		c.mu.Lock()
		for _, cl := range c.seen {
			if !cl.now.Before(t) {
				c.mu.Unlock()
				return cl
			}
		}
		c.mu.Unlock()
		select {
		case <-c.ch:
		case <-deadline:
			tb.Fatal("no claim after a wake-up")
		}
	}
}

// Start and Stop are safe to call twice: one loop runs, and stopping a
// stopped scheduler does nothing.
func TestStartStopTwice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	s := New(Config{Store: b.store, Providers: map[string]provider.Provider{"fake": b.fake}, Hub: b.hub, Owner: "a",
		Workers: 1, Lease: time.Minute, PollInterval: time.Hour})
	cl := watchClaims(s)
	require.NoError(t, s.Stop(context.Background()), "stopping before starting does nothing")
	s.Start(context.Background())
	s.Start(context.Background())
	b.addTask(t, "t1", time.Hour)
	s.Wake() // new work: the loop may have made its first claim before the task was stored
	waitStatus(t, b.store, "t1", task.StatusSucceeded)
	require.Equal(t, 1, b.fake.createCount())
	require.NoError(t, s.Stop(context.Background()))
	require.NoError(t, s.Stop(context.Background()))
	cl.mu.Lock()
	n := len(cl.seen)
	cl.mu.Unlock()
	// A stopped scheduler claims nothing; a restarted one claims again.
	b.addTask(t, "t2", time.Hour)
	s.Wake()
	cl.mu.Lock()
	require.Len(t, cl.seen, n, "Stop returned after the loop's last claim")
	cl.mu.Unlock()
	s.Start(context.Background())
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	waitStatus(t, b.store, "t2", task.StatusSucceeded)
	cl.mu.Lock()
	require.Greater(t, len(cl.seen), n)
	cl.mu.Unlock()
}

func (b *bundle) addTask(t *testing.T, id string, expiresIn time.Duration) *task.Task {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	tk := &task.Task{ID: id, Dialect: "jobs", Model: "seedance-1-5-pro", ModelAlias: "seedance-1-5-pro",
		Status: task.StatusQueued, Provider: "fake", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(expiresIn),
		NextCheckAt: &now, Request: task.Request{Prompt: "a cat"}}
	require.NoError(t, b.store.CreateTask(context.Background(), tk))
	return tk
}

func waitStatus(t *testing.T, st store.Store, id string, want task.Status) *task.Task {
	t.Helper()
	var got *task.Task
	require.Eventually(t, func() bool {
		var err error
		got, err = st.GetTask(context.Background(), id)
		return err == nil && got.Status == want
	}, time.Minute, 5*time.Millisecond, "task %s never reached %s", id, want)
	return got
}

func TestTaskRunsToSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ch, stop := b.hub.Subscribe("t1")
	defer stop()
	b.addTask(t, "t1", time.Hour)
	b.start(t, b.store, "a", time.Minute)

	got := waitStatus(t, b.store, "t1", task.StatusSucceeded)
	require.Equal(t, "up-1", got.UpstreamID)
	require.NotNil(t, got.DispatchedAt)
	require.NotNil(t, got.StartedAt)
	require.NotNil(t, got.FinishedAt)
	require.Nil(t, got.NextCheckAt)
	require.Equal(t, 100, got.Progress)
	require.EqualValues(t, 38800, got.Usage.TotalTokens)
	require.Empty(t, got.LeaseOwner)
	require.Equal(t, 1, b.fake.createCount())
	seen := <-ch // the hub saw changes
	require.Equal(t, "t1", seen.ID)
}

func TestTransientErrorsAreRetriedThenSucceed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.checkErr = func(n int) error {
		if n < 2 {
			return provider.Transient(errors.New("503 from upstream"), 10*time.Millisecond)
		}
		return nil
	}
	b.addTask(t, "t1", time.Hour)
	b.start(t, b.store, "a", time.Minute)
	waitStatus(t, b.store, "t1", task.StatusSucceeded)
}

func TestPermanentErrorFailsTheTask(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.submitHook = func(*task.Task) error {
		return &task.Error{Code: task.CodeInvalidParameter, Field: "duration", Message: "duration 20 is not allowed"}
	}
	b.addTask(t, "t1", time.Hour)
	b.start(t, b.store, "a", time.Minute)
	got := waitStatus(t, b.store, "t1", task.StatusFailed)
	require.Equal(t, task.CodeInvalidParameter, got.Error.Code)
	require.Equal(t, "duration", got.Error.Field)
}

func TestUpstreamFailureIsSurfaced(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.checkSteps = []task.Status{task.StatusRunning, task.StatusFailed}
	b.addTask(t, "t1", time.Hour)
	b.start(t, b.store, "a", time.Minute)
	got := waitStatus(t, b.store, "t1", task.StatusFailed)
	require.Equal(t, "OutputVideoSensitiveContentDetected", got.Error.UpstreamCode)
}

func TestUnfinishedTaskExpires(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.checkSteps = []task.Status{task.StatusRunning} // never finishes
	b.addTask(t, "t1", 300*time.Millisecond)
	b.start(t, b.store, "a", time.Minute)
	got := waitStatus(t, b.store, "t1", task.StatusExpired)
	require.Contains(t, got.Error.Message, "execution_expires_after")
}

// A client's cancel that lands while the scheduler is creating the task upstream
// wins, and the upstream task the scheduler just created is cancelled.
func TestCancelDuringSubmitWins(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cancelled := make(chan struct{})
	b.fake.submitHook = func(tk *task.Task) error {
		cur, err := b.store.GetTask(context.Background(), tk.ID)
		require.NoError(t, err)
		now := time.Now().UTC().Truncate(time.Millisecond)
		cur.Status, cur.FinishedAt, cur.NextCheckAt = task.StatusCancelled, &now, nil
		require.NoError(t, b.store.UpdateTask(context.Background(), cur))
		close(cancelled)
		return nil
	}
	b.addTask(t, "t1", time.Hour)
	b.start(t, b.store, "a", time.Minute)
	<-cancelled
	require.Eventually(t, func() bool {
		got, err := b.store.GetTask(context.Background(), "t1")
		return err == nil && got.UpstreamID == "up-1"
	}, 5*time.Second, 5*time.Millisecond)
	got := waitStatus(t, b.store, "t1", task.StatusCancelled)
	require.Equal(t, 1, b.fake.createCount())
	require.Nil(t, got.NextCheckAt)
}

// storeWithoutRenewal renews no lease: an instance that died renews nothing.
type storeWithoutRenewal struct{ store.Store }

func (storeWithoutRenewal) ExtendLease(context.Context, string, string, time.Time) error { return nil }

// An instance dies after creating the task upstream but before recording the
// upstream id. Another instance takes the task over when the lease expires and
// reconciles instead of creating it again.
func TestCrashAfterCreateIsReconciledNotRecreated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dead := make(chan struct{})
	var once sync.Once
	b.fake.submitHook = func(*task.Task) error {
		once.Do(func() { close(dead) })
		select {} // instance A hangs here forever, as if killed mid-call
	}
	b.addTask(t, "t1", time.Hour)

	other, err := sqlite.Open(context.Background(), b.path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	New(Config{Store: storeWithoutRenewal{other}, Providers: map[string]provider.Provider{"fake": b.fake},
		Owner: "a", Workers: 1, Lease: 300 * time.Millisecond, PollInterval: 10 * time.Millisecond}).Start(context.Background())
	<-dead

	got, err := b.store.GetTask(context.Background(), "t1")
	require.NoError(t, err)
	require.NotNil(t, got.DispatchedAt, "the intent is recorded before the call")
	require.Empty(t, got.UpstreamID)

	b.fake.mu.Lock()
	b.fake.submitHook = nil
	b.fake.mu.Unlock()
	b.start(t, b.store, "b", time.Minute)
	got = waitStatus(t, b.store, "t1", task.StatusSucceeded)
	require.Equal(t, "up-1", got.UpstreamID)
	require.Equal(t, 1, b.fake.createCount(), "the upstream task must not be created twice")
}

func TestManyTasksEachDispatchedOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 60
	for i := range n {
		b.addTask(t, fmt.Sprintf("t%02d", i), time.Hour)
	}
	other, err := sqlite.Open(context.Background(), b.path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	b.start(t, b.store, "a", time.Minute)
	b.start(t, other, "b", time.Minute)
	for i := range n {
		waitStatus(t, b.store, fmt.Sprintf("t%02d", i), task.StatusSucceeded)
	}
	require.Equal(t, n, b.fake.createCount())
}

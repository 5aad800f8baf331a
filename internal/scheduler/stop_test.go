package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/task"
)

// blockingProvider's Check runs until its context ends, like a long render,
// and reports why it ended.
type blockingProvider struct {
	started chan string
	ended   chan error // context.Cause of each ended Check
}

func newBlocking() *blockingProvider {
	return &blockingProvider{started: make(chan string, 10), ended: make(chan error, 10)}
}

func (b *blockingProvider) Name() string { return "blocking" }
func (b *blockingProvider) Submit(_ context.Context, t *task.Task) (string, error) {
	return "up-" + t.ID, nil
}
func (b *blockingProvider) Cancel(context.Context, *task.Task) error { return nil }
func (b *blockingProvider) Check(ctx context.Context, t *task.Task) (provider.Update, error) {
	b.started <- t.ID
	<-ctx.Done()
	b.ended <- context.Cause(ctx)
	return provider.Update{}, ctx.Err()
}

func (b *bundle) startBlocking(t *testing.T, p *blockingProvider, lease time.Duration) {
	t.Helper()
	s := New(Config{Store: b.store, Providers: map[string]provider.Provider{"blocking": p}, Hub: b.hub, Owner: "a",
		Workers: 4, Lease: lease, PollInterval: 20 * time.Millisecond, CheckInterval: 5 * time.Millisecond})
	s.Start(context.Background())
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
}

func (b *bundle) addBlockingTask(t *testing.T, id string, expiresIn time.Duration) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	tk := &task.Task{ID: id, Dialect: "jobs", Model: "seedance-1-5-pro", ModelAlias: "seedance-1-5-pro",
		Status: task.StatusRunning, Provider: "blocking", UpstreamID: "up-" + id, DispatchedAt: &now,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(expiresIn), NextCheckAt: &now, Request: task.Request{Prompt: "a cat"}}
	require.NoError(t, b.store.CreateTask(context.Background(), tk))
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// A status check still running when the task's execution window closes is
// stopped, and the task expires.
func TestCheckStoppedAtExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := newBlocking()
	b.addBlockingTask(t, "t1", 500*time.Millisecond)
	b.startBlocking(t, p, time.Minute)

	require.Equal(t, "t1", receive(t, p.started, "the check"))
	require.ErrorIs(t, receive(t, p.ended, "the check to be stopped"), errExpired)
	got := waitStatus(t, b.store, "t1", task.StatusExpired)
	require.Equal(t, "Expired", got.Error.UpstreamCode)
}

// A status check whose task is deleted meanwhile is stopped at the next
// lease renewal, and nothing is written back.
func TestCheckStoppedWhenTaskDeleted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := newBlocking()
	b.addBlockingTask(t, "t1", time.Hour)
	b.startBlocking(t, p, 300*time.Millisecond)

	require.Equal(t, "t1", receive(t, p.started, "the check"))
	require.NoError(t, b.store.DeleteTask(context.Background(), "t1"))
	require.ErrorIs(t, receive(t, p.ended, "the check to be stopped"), errLeaseLost)
	_, err := b.store.GetTask(context.Background(), "t1")
	require.Error(t, err, "the deleted task stays deleted")
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// benchTask is a due task as the gateway creates them.
func benchTask(i int) *task.Task {
	id, at := fmt.Sprintf("bench-%09d", i), base.Add(time.Duration(i)*time.Millisecond)
	return &task.Task{
		ID: id, Tenant: "t", Dialect: "ark", Model: "m", ModelAlias: "m", Status: task.StatusQueued,
		Request:   task.Request{Prompt: "a prompt for " + id, Duration: task.Int(5)},
		CreatedAt: at, UpdatedAt: base, ExpiresAt: base.Add(48 * time.Hour), NextCheckAt: &at,
	}
}

// BenchCreateTask stores new tasks one after another.
func BenchCreateTask(b *testing.B, s store.Store) {
	ctx := b.Context()
	i := 0
	for b.Loop() {
		if err := s.CreateTask(ctx, benchTask(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchAdmitTask stores a task with its charge: the in-flight count and
// the balance checked and the reservation written in the insert's transaction
// (compare BenchCreateTask).
func BenchAdmitTask(b *testing.B, s store.Store) {
	ctx := b.Context()
	if _, err := s.AdjustBalance(ctx, "t", &store.LedgerEntry{At: base, Amount: 1 << 60, Unit: "tokens"}, false); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		tk := benchTask(i)
		c := &store.Charge{Tenant: "t", KeyID: fmt.Sprintf("key_%d", i%50), Model: "m", EstimateTokens: 108900, Reserved: 108900,
			Rate: store.RateUnit, Unit: "tokens", CreatedAt: tk.CreatedAt}
		if err := s.AdmitTask(ctx, tk, c, 1000); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchClaimDue claims 10 of 1000 due tasks per call. Each call's now is a
// lease later than the last, so every lease has expired and the queue never drains.
func BenchClaimDue(b *testing.B, s store.Store) {
	ctx := b.Context()
	for i := range 1000 {
		if err := s.CreateTask(ctx, benchTask(i)); err != nil {
			b.Fatal(err)
		}
	}
	const lease = time.Minute
	now := base.Add(time.Hour)
	for b.Loop() {
		claimed, err := s.ClaimDue(ctx, "bench", now, lease, 10)
		if err != nil {
			b.Fatal(err)
		}
		if len(claimed) != 10 {
			b.Fatalf("claimed %d tasks, want 10", len(claimed))
		}
		now = now.Add(lease)
	}
}

// BenchTakeRequest counts one request against a key's requests per
// minute: what a key with an RPM limit costs every request.
func BenchTakeRequest(b *testing.B, s store.Store) {
	ctx := b.Context()
	w := base.Truncate(time.Minute)
	for b.Loop() {
		if _, err := s.TakeRequest(ctx, "key_a", w, 1<<30); err != nil {
			b.Fatal(err)
		}
	}
}

// ClaimAcross checks that claims through several handles on one database
// (standing for several gateway processes) never overlap: workers claim
// through them in turn until the due tasks are gone.
func ClaimAcross(t *testing.T, handles ...store.Store) {
	const tasks = 60
	for i := range tasks {
		create(t, handles[0], newTask(fmt.Sprintf("t%02d", i)))
	}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
		errs = make([]error, 4*len(handles))
	)
	for w := range errs {
		s := handles[w%len(handles)]
		wg.Go(func() {
			for range tasks {
				claimed, err := s.ClaimDue(context.Background(), fmt.Sprint("w", w), base, time.Minute, 2)
				if err != nil || len(claimed) == 0 {
					errs[w] = err
					return
				}
				mu.Lock()
				for _, c := range claimed {
					seen[c.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if len(seen) != tasks {
		t.Fatalf("%d tasks claimed, want %d", len(seen), tasks)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("task %s claimed %d times", id, n)
		}
	}
}

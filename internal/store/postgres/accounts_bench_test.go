package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/seedgate/seedgate/internal/store"
)

// BenchmarkAdmitTask stores a task with its charge: the in-flight count and
// the balance checked and the reservation written in the insert's transaction
// (compare BenchmarkCreateTask).
func BenchmarkAdmitTask(b *testing.B) {
	s := openTemp(b)
	ctx := b.Context()
	if _, err := s.AdjustBalance(ctx, "t", &store.LedgerEntry{At: base, Amount: 1 << 60, Unit: "tokens"}, false); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		tk := sampleTask(fmt.Sprintf("bench-%09d", i))
		tk.CreatedAt = base.Add(time.Duration(i) * time.Millisecond)
		c := &store.Charge{Tenant: "t", KeyID: fmt.Sprintf("key_%d", i%50), Model: "m", EstimateTokens: 108900, Reserved: 108900,
			Rate: store.RateUnit, Unit: "tokens", CreatedAt: tk.CreatedAt}
		if err := s.AdmitTask(ctx, tk, c, 1000); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkTakeRequest counts one request against a key's requests per
// minute: what a key with an RPM limit costs every request.
func BenchmarkTakeRequest(b *testing.B) {
	s := openTemp(b)
	ctx := b.Context()
	w := base.Truncate(time.Minute)
	for b.Loop() {
		if _, err := s.TakeRequest(ctx, "key_a", w, 1<<30); err != nil {
			b.Fatal(err)
		}
	}
}

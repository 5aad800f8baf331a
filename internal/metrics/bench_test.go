package metrics_test

import (
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/seedgate/seedgate/internal/metrics"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/store/storetest"
	"github.com/seedgate/seedgate/internal/task"
)

// What a request costs the middleware: its route's series are made once.
func BenchmarkRouteObserve(b *testing.B) {
	r := metrics.New(metrics.Options{}).Route("jobs", "POST /v1/jobs")
	b.ReportAllocs()
	for b.Loop() {
		r.Observe(http.StatusOK, 3*time.Millisecond)
	}
}

// The store's writes with the observer off and on (SQLite, group commit).
func BenchmarkStoreObserver(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		var o store.Options
		if on {
			name, o.Observer = "on", metrics.New(metrics.Options{}).Store()
		}
		open := func(b *testing.B) store.Store {
			s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), slog.New(slog.NewTextHandler(io.Discard, nil)), o)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		}
		b.Run("CreateTask/"+name, func(b *testing.B) { b.ReportAllocs(); storetest.BenchCreateTask(b, open(b)) })
		b.Run("AdmitTask/"+name, func(b *testing.B) { b.ReportAllocs(); storetest.BenchAdmitTask(b, open(b)) })
	}
}

// What the observer adds to a create and a finish, without the database:
// the calls a committed transaction makes.
func BenchmarkObserveTask(b *testing.B) {
	o := metrics.New(metrics.Options{}).Store()
	now := time.Now()
	done := now.Add(time.Minute)
	t := &task.Task{Dialect: "ark", Model: "seedance-1-0-pro", Status: task.StatusSucceeded, Provider: "ark",
		Channel: "main", CreatedAt: now, FinishedAt: &done}
	e := &store.LedgerEntry{Kind: store.LedgerReserve, Tokens: 100000, Amount: 100000, Unit: "tokens"}
	b.ReportAllocs()
	for b.Loop() {
		o.Transaction(time.Millisecond, nil)
		o.TaskCreated(t)
		o.Ledger(e)
		o.TaskFinished(t)
	}
}

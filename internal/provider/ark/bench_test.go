package ark_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/task"
)

// Benchmark timing of the emulator: every task waits 1 s queued and runs 20 s,
// all at once (no upstream concurrency limit in the way).
const (
	benchTasks = 1000
	benchQueue = time.Second
	benchRun   = 20 * time.Second
)

// BenchmarkUpstream1000 runs 1,000 concurrent tasks through the gateway
// against the emulator (4 keys), once polling and once with callbacks, and
// reports what the gateway asked of the upstream and how late it noticed:
//
//	status-req/task/gen-min  status requests (get + list) per task per minute of generation
//	upstream-req/task        every request to the upstream API per task (creates included)
//	callbacks/task           callbacks the upstream sent (not requests of the gateway)
//	lag-p50-ms, lag-p95-ms   upstream completion → task succeeded in the gateway (result mirrored)
//
// The gateway's expected durations are its defaults (the catalog estimate,
// no checks.expected_time), so polling lag shows how far off they start.
func BenchmarkUpstream1000(b *testing.B) {
	for _, callbacks := range []bool{false, true} {
		name := "polling"
		if callbacks {
			name = "callbacks"
		}
		b.Run(name, func(b *testing.B) {
			var r benchResult
			for b.Loop() {
				r = runUpstreamBench(b, callbacks)
			}
			b.ReportMetric(r.statusPerTaskMin, "status-req/task/gen-min")
			b.ReportMetric(r.reqPerTask, "upstream-req/task")
			b.ReportMetric(r.callbacksPerTask, "callbacks/task")
			b.ReportMetric(float64(r.lagP50.Milliseconds()), "lag-p50-ms")
			b.ReportMetric(float64(r.lagP95.Milliseconds()), "lag-p95-ms")
			b.Logf("%s: %d tasks, %.2f min of generation each; creates %d, status requests %d (%.3f per task, %.3f per task per generation minute), "+
				"%.2f upstream requests per task in all, %.2f callbacks per task; lag upstream done → gateway succeeded p50 %s, p95 %s, max %s",
				name, benchTasks, r.genMinutes, r.creates, r.status, float64(r.status)/benchTasks, r.statusPerTaskMin,
				r.reqPerTask, r.callbacksPerTask, r.lagP50, r.lagP95, r.lagMax)
		})
	}
}

type benchResult struct {
	creates, status              int
	genMinutes                   float64
	statusPerTaskMin, reqPerTask float64
	callbacksPerTask             float64
	lagP50, lagP95, lagMax       time.Duration
}

func runUpstreamBench(b *testing.B, callbacks bool) benchResult {
	g := start(b, setup{
		quiet:     true,
		callbacks: callbacks,
		emu: arkemu.Options{QueueTime: benchQueue, RunTime: benchRun, Concurrency: 2 * benchTasks,
			MaxQueued: 2 * benchTasks, RPM: 100 * benchTasks},
		channels: `channels:
  - name: bench
    base_url: "{{base}}"
    keys: [sk-1, sk-2, sk-3, sk-4]
    concurrency: 1000
    rpm: 100000
`,
		env: map[string]string{"SEEDGATE_WORKERS": "32"},
	})
	ctx := context.Background()
	ids := make([]string, benchTasks)
	var wg sync.WaitGroup
	errs := make(chan error, benchTasks)
	for i := range benchTasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, err := g.app.Service.Create(ctx, service.CreateInput{Dialect: "jobs", Model: "seedance-1-0-pro",
				Request: task.Request{Prompt: fmt.Sprint("bench ", i), Resolution: "480p", Duration: task.Int(2)}})
			if err != nil {
				errs <- err
				return
			}
			ids[i] = tk.ID
		}()
	}
	wg.Wait()
	close(errs)
	require.NoError(b, <-errs)

	deadline := time.Now().Add(5 * time.Minute)
	var lags []time.Duration
	for _, id := range ids {
		var tk *task.Task
		for {
			var err error
			tk, err = g.app.Store.GetTask(ctx, id)
			require.NoError(b, err)
			if tk.Status.Terminal() {
				break
			}
			require.True(b, time.Now().Before(deadline), "task %s still %s", id, tk.Status)
			time.Sleep(50 * time.Millisecond)
		}
		require.Equal(b, task.StatusSucceeded, tk.Status, "task %s: %+v", id, tk.Error)
		// The emulator's timeline: queued QueueTime after its create (which the
		// gateway made right after recording DispatchedAt), then running RunTime.
		done := tk.DispatchedAt.Add(benchQueue + benchRun)
		lags = append(lags, tk.FinishedAt.Sub(done))
	}
	{ // how fast the gateway took the work in and gave the results out
		var ds, fs []time.Time
		for _, id := range ids {
			tk, _ := g.app.Store.GetTask(ctx, id)
			ds = append(ds, *tk.DispatchedAt)
			fs = append(fs, *tk.FinishedAt)
		}
		slices.SortFunc(ds, time.Time.Compare)
		slices.SortFunc(fs, time.Time.Compare)
		b.Logf("creates spread over %s, successes over %s; first success %s after the first create",
			ds[len(ds)-1].Sub(ds[0]).Round(time.Millisecond), fs[len(fs)-1].Sub(fs[0]).Round(time.Millisecond), fs[0].Sub(ds[0]).Round(time.Millisecond))
	}
	slices.Sort(lags)
	r := benchResult{
		creates:    g.emu.Calls(arkemu.OpCreate),
		status:     g.emu.Calls(arkemu.OpGet) + g.emu.Calls(arkemu.OpList),
		genMinutes: (benchQueue + benchRun).Minutes(),
		lagP50:     lags[len(lags)/2],
		lagP95:     lags[len(lags)*95/100],
		lagMax:     lags[len(lags)-1],
	}
	require.Len(b, g.emu.CreatedIDs(), benchTasks, "one upstream task per task")
	all := r.creates + r.status + g.emu.Calls(arkemu.OpDelete)
	r.statusPerTaskMin = float64(r.status) / benchTasks / r.genMinutes
	r.reqPerTask = float64(all) / benchTasks
	r.callbacksPerTask = float64(g.emu.Calls(arkemu.OpCallback)) / benchTasks
	return r
}

package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/seedgate/seedgate/internal/tracing"
)

// BenchmarkHandler is what tracing adds to a request: the server span of
// tracing.Handler around a router, and the trace context a create keeps.
func BenchmarkHandler(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/jobs", func(w http.ResponseWriter, r *http.Request) {
		_ = tracing.Parent(r.Context())
		w.WriteHeader(http.StatusOK)
	})
	annotate := func(r *http.Request, span trace.Span) { span.SetAttributes(tracing.RequestIDKey.String("req-1")) }
	for _, on := range []bool{false, true} {
		name, tp := "off", trace.TracerProvider(nil)
		if on {
			sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
			defer func() { _ = sdk.Shutdown(context.Background()) }()
			name, tp = "on", sdk
		}
		h := tracing.Handler(tp, mux, annotate)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/v1/jobs", http.NoBody)
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
			reportCPU(b, cpu)
		})
	}
}

// cpuTime is the CPU time the process used so far (every goroutine's, the
// span processor's and the garbage collector's): on a busy machine it is a
// steadier measure than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkSteps is what tracing adds to a task's dispatch: the step's span
// in the create's trace, and its traceparent on the upstream call.
func BenchmarkSteps(b *testing.B) {
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for _, on := range []bool{false, true} {
		name, tp := "off", trace.TracerProvider(nil)
		if on {
			sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
			defer func() { _ = sdk.Shutdown(context.Background()) }()
			name, tp = "on", sdk
		}
		steps := tracing.NewSteps(tp)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				ctx, span := steps.Start(context.Background(), "task.dispatch", "task-1", parent)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://upstream.example/api/v3/contents/generations/tasks", http.NoBody)
				tracing.Inject(ctx, req.Header)
				span.End()
			}
			reportCPU(b, cpu)
		})
	}
}

package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/config"
)

// BenchmarkCreate is the create path through the gateway's handler (auth,
// the Ark dialect, the service, a SQLite write) with tracing off and on
// (every request sampled, spans batched to an exporter that drops them).
func BenchmarkCreate(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchCreate(b, nil) })
	b.Run("on", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		defer func() { _ = tp.Shutdown(context.Background()) }()
		benchCreate(b, []app.Option{app.WithTracerProvider(tp)})
	})
}

func benchCreate(b *testing.B, opts []app.Option) {
	env := map[string]string{
		"SEEDGATE_LISTEN": "127.0.0.1:0", "SEEDGATE_DATA_DIR": b.TempDir(), "SEEDGATE_API_KEYS": "bench-key",
		// The sandbox renders nothing meanwhile.
		"SEEDGATE_SANDBOX_QUEUE_DELAY": "1h", "SEEDGATE_SANDBOX_RUN_TIME": "1h",
	}
	c, err := config.Load("serve", nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	a, err := app.Start(context.Background(), c, slog.New(slog.DiscardHandler), opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = a.Shutdown(5 * time.Second) }()
	const body = `{"model":"doubao-seedance-1-0-pro-250528","content":[{"type":"text","text":"a lighthouse --rs 480p --dur 2"}]}`
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/api/v3/contents/generations/tasks", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer bench-key")
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			a.Server.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("create: %d %s", w.Code, w.Body)
			}
		}
	})
}

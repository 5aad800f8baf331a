package tracing_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/seedgate/seedgate/internal/tracing"
)

func TestEnabled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"OTEL_SERVICE_NAME": "gw"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false},
		{map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false},
	} {
		require.Equal(t, tc.want, tracing.Enabled(func(k string) string { return tc.env[k] }), "%v", tc.env)
	}
}

// Off, FromEnv hands out the noop provider, and Handler returns what it
// would wrap.
func TestFromEnvOff(t *testing.T) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER"} {
		t.Setenv(k, "")
	}
	tp, stop, err := tracing.FromEnv(t.Context(), "test")
	require.NoError(t, err)
	require.False(t, tracing.On(tp))
	require.NoError(t, stop(t.Context()))
	h := http.NewServeMux()
	require.Same(t, h, tracing.Handler(tp, h, nil))
}

// With an OTLP endpoint, spans are exported over OTLP/HTTP to it (the
// default protocol), named after OTEL_SERVICE_NAME.
func TestFromEnvExportsOTLP(t *testing.T) {
	var posts atomic.Int32
	var service atomic.Bool
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			posts.Add(1)
			service.Store(bytes.Contains(body, []byte("gw-under-test")) && bytes.Contains(body, []byte("exported-span")))
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_SERVICE_NAME", "gw-under-test")
	tp, stop, err := tracing.FromEnv(t.Context(), "test")
	require.NoError(t, err)
	require.True(t, tracing.On(tp))
	_, span := tracing.Tracer(tp).Start(t.Context(), "exported-span")
	span.End()
	require.NoError(t, stop(t.Context())) // flushes
	require.Equal(t, int32(1), posts.Load())
	require.True(t, service.Load(), "the span and the service name were sent")
}

func TestFromEnvProtocols(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	tp, stop, err := tracing.FromEnv(t.Context(), "test")
	require.NoError(t, err)
	require.True(t, tracing.On(tp))
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // nothing to flush, and nobody listens
	_ = stop(ctx)

	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")
	_, _, err = tracing.FromEnv(t.Context(), "test")
	require.ErrorContains(t, err, "http/protobuf and grpc")

	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "zipkin")
	_, _, err = tracing.FromEnv(t.Context(), "test")
	require.ErrorContains(t, err, "OTEL_TRACES_EXPORTER=zipkin")
}

func TestParentRoundTrip(t *testing.T) {
	t.Parallel()
	require.Empty(t, tracing.Parent(t.Context()))
	require.Equal(t, t.Context(), tracing.WithParent(t.Context(), ""))

	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))
	ctx, span := tracing.Tracer(tp).Start(t.Context(), "create")
	defer span.End()
	tpHeader := tracing.Parent(ctx)
	require.Equal(t, "00-"+span.SpanContext().TraceID().String()+"-"+span.SpanContext().SpanID().String()+"-01", tpHeader)

	_, child := tracing.NewSteps(tp).Start(t.Context(), "task.dispatch", "task-1", tpHeader)
	child.End()
	ro := child.(sdktrace.ReadOnlySpan)
	require.Equal(t, span.SpanContext().TraceID(), ro.SpanContext().TraceID())
	require.Equal(t, span.SpanContext().SpanID(), ro.Parent().SpanID())

	// Unreadable: a trace of its own.
	_, own := tracing.NewSteps(tp).Start(t.Context(), "task.dispatch", "task-1", "garbage")
	own.End()
	require.False(t, own.(sdktrace.ReadOnlySpan).Parent().IsValid())

	// Off: nothing is started.
	octx, off := tracing.NewSteps(nil).Start(t.Context(), "task.dispatch", "task-1", tpHeader)
	require.Equal(t, t.Context(), octx)
	require.False(t, off.IsRecording())
}

func TestLogHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	type idKey struct{}
	reqID := func(ctx context.Context) (slog.Attr, bool) {
		id, ok := ctx.Value(idKey{}).(string)
		return slog.String("request_id", id), ok
	}
	log := slog.New(tracing.LogHandler(slog.NewTextHandler(&buf, nil), reqID)).With("component", "x")

	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))
	ctx, span := tracing.Tracer(tp).Start(context.WithValue(t.Context(), idKey{}, "req-1"), "op")
	defer span.End()
	sc := span.SpanContext()

	log.InfoContext(ctx, "with everything")
	log.InfoContext(ctx, "names its own", "request_id", "req-own")
	log.Info("no context")
	log.InfoContext(trace.ContextWithSpanContext(t.Context(), trace.SpanContext{}), "untraced")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 4)
	require.Contains(t, lines[0], "trace_id="+sc.TraceID().String())
	require.Contains(t, lines[0], "span_id="+sc.SpanID().String())
	require.Contains(t, lines[0], "request_id=req-1")
	require.Contains(t, lines[0], "component=x")
	require.Contains(t, lines[1], "request_id=req-own")
	require.Equal(t, 1, strings.Count(lines[1], "request_id="), "no duplicate: %s", lines[1])
	require.NotContains(t, lines[2], "trace_id")
	require.NotContains(t, lines[3], "trace_id")
}

func TestHandlerSpans(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "boom" {
			panic("boom")
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	h := tracing.Handler(tp, mux, func(r *http.Request, span trace.Span) {
		span.SetAttributes(tracing.TaskIDKey.String(r.PathValue("id")))
	})
	serve := func(method, path, traceparent string) {
		req := httptest.NewRequest(method, path, nil)
		if traceparent != "" {
			req.Header.Set("traceparent", traceparent)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	const caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	serve("HEAD", "/v1/jobs/t-1", caller)
	serve("GET", "/nowhere", "")
	require.Panics(t, func() { serve("GET", "/v1/jobs/boom", "") })

	spans := exp.GetSpans()
	require.Len(t, spans, 3)
	head := spans[0]
	require.Equal(t, "HEAD /v1/jobs/{id}", head.Name, "named by the route, the method as sent")
	require.Equal(t, trace.SpanKindServer, head.SpanKind)
	require.Equal(t, "0af7651916cd43dd8448eb211c80319c", head.SpanContext.TraceID().String(), "the caller's trace goes on")
	require.Equal(t, "b7ad6b7169203331", head.Parent.SpanID().String())
	require.Equal(t, "Error", head.Status.Code.String(), "a 5xx answer")
	require.Contains(t, head.Attributes, tracing.TaskIDKey.String("t-1"))
	require.Contains(t, head.Attributes, attribute.Int("http.response.status_code", 503))
	require.Equal(t, "GET", spans[1].Name, "no route matched: not named by the path")
	require.Equal(t, "GET /v1/jobs/{id}", spans[2].Name)
	require.Equal(t, "Error", spans[2].Status.Code.String(), "a panic")
}

// A caller's traceparent is outside input: whatever it says, the request is
// served, and the trace context a task would keep is a well-formed one (the
// caller's trace, or one of the gateway's own).
func FuzzTraceparent(f *testing.F) {
	f.Add("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	f.Add("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")
	f.Add("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	f.Add("00-00000000000000000000000000000000-b7ad6b7169203331-01")
	f.Add("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra")
	f.Add("")
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	wellFormed := regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`) // flags pass as sent (W3C level 2 adds a random bit)
	f.Fuzz(func(t *testing.T, header string) {
		var kept string
		h := tracing.Handler(tp, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kept = tracing.Parent(r.Context())
		}), nil)
		req := httptest.NewRequest("GET", "/", nil)
		req.Header["Traceparent"] = []string{header}
		h.ServeHTTP(httptest.NewRecorder(), req)
		require.Regexp(t, wellFormed, kept)
		// What a task keeps parents its steps.
		_, span := tracing.NewSteps(tp).Start(t.Context(), "task.dispatch", "t", kept)
		require.Equal(t, kept[3:35], span.SpanContext().TraceID().String())
		span.End()
	})
}

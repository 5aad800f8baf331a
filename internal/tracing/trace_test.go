package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/seedgate/seedgate/internal/app"
	"github.com/seedgate/seedgate/internal/arkemu"
	"github.com/seedgate/seedgate/internal/config"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/tracing"
)

// headerLog keeps the traceparent of every request something received.
type headerLog struct {
	mu   sync.Mutex
	seen []received
}

type received struct {
	what        string // the emulator's operation, or the webhook's task status
	traceparent string
}

func (h *headerLog) add(what, tp string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, received{what, tp})
}

func (h *headerLog) all() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.seen...)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type gateway struct {
	url      string
	app      *app.App
	upstream *headerLog // what the Ark emulator received
	webhooks *headerLog // what the webhook receiver received
	hookURL  string
	logs     *syncBuffer
}

// start runs a gateway (app.Start) on the Ark emulator, tracing on tp (nil:
// as the environment says, i.e. off), with a webhook receiver.
func start(t *testing.T, tp trace.TracerProvider) *gateway {
	t.Helper()
	g := &gateway{upstream: &headerLog{}, webhooks: &headerLog{}, logs: &syncBuffer{}}
	emu := arkemu.New(arkemu.Options{OnRequest: func(op arkemu.Op, h http.Header) {
		g.upstream.add(string(op), h.Get("traceparent"))
	}})
	ets := httptest.NewServer(emu)
	t.Cleanup(func() { ets.Close(); emu.Close() })
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var job struct {
			Status string `json:"status"`
		}
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &job)
		g.webhooks.add(job.Status, r.Header.Get("traceparent"))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	g.hookURL = hook.URL

	dir := t.TempDir()
	channels := filepath.Join(dir, "channels.yaml")
	require.NoError(t, os.WriteFile(channels, []byte("checks: {min_interval: 20ms, max_interval: 1s, expected_time: 250ms}\n"+
		"channels:\n  - name: main\n    base_url: "+ets.URL+arkemu.BasePath+"\n    keys: [sk-main]\n"), 0o600))
	env := map[string]string{
		"SEEDGATE_DATA_DIR":           filepath.Join(dir, "data"),
		"SEEDGATE_CHANNELS_FILE":      channels,
		"SEEDGATE_ALLOW_PRIVATE_URLS": "127.0.0.0/8", // results and the receiver are on loopback
	}
	c, err := config.Load("serve", nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	opts := []app.Option{app.WithListener(ln)}
	if tp != nil {
		opts = append(opts, app.WithTracerProvider(tp))
	}
	log := slog.New(slog.NewTextHandler(g.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g.app, err = app.Start(context.Background(), c, log, opts...)
	require.NoError(t, err)
	g.url = "http://" + ln.Addr().String()
	t.Cleanup(func() {
		_ = g.app.Shutdown(5 * time.Second)
		if t.Failed() {
			t.Logf("gateway logs:\n%s", g.logs.String())
		}
	})
	return g
}

// createJob posts a job with a callback and returns its id and the request id.
func (g *gateway) createJob(t *testing.T) (id, requestID string) {
	t.Helper()
	body := `{"model":"seedance-1-0-pro","input":{"prompt":"a traced lighthouse","resolution":"480p","duration":2,"callback_url":"` + g.hookURL + `/hook"}}`
	resp, err := http.Post(g.url+"/v1/jobs", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	var j struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(raw, &j))
	return j.ID, resp.Header.Get("X-Request-Id")
}

// waitDone waits until the task succeeded and its success was delivered.
func (g *gateway) waitDone(t *testing.T, id string) {
	t.Helper()
	var last *task.Task
	require.Eventually(t, func() bool {
		tk, err := g.app.Store.GetTask(context.Background(), id)
		if err != nil {
			return false
		}
		last = tk
		return tk.Status.Terminal()
	}, 30*time.Second, 10*time.Millisecond, "task ends")
	require.Equal(t, task.StatusSucceeded, last.Status, "error: %+v", last.Error)
	require.Eventually(t, func() bool {
		for _, r := range g.webhooks.all() {
			if r.what == "succeeded" {
				return true
			}
		}
		return false
	}, 30*time.Second, 10*time.Millisecond, "the success is delivered")
}

func attr(s sdktrace.ReadOnlySpan, k attribute.Key) string {
	for _, a := range s.Attributes() {
		if a.Key == k {
			return a.Value.Emit()
		}
	}
	return ""
}

// parseParent reads a traceparent header.
func parseParent(t *testing.T, tp string) trace.SpanContext {
	t.Helper()
	require.NotEmpty(t, tp, "a traceparent was sent")
	sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": tp}))
	require.True(t, sc.IsValid(), "traceparent %q", tp)
	return sc
}

// One trace from the create request through dispatch, status checks, the
// mirror step and the webhook delivery; the upstream and the webhook
// receiver got traceparents of that trace.
func TestOneTracePerTask(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	g := start(t, tp)

	id, requestID := g.createJob(t)
	g.waitDone(t, id)
	resp, err := http.Get(g.url + "/v1/jobs/" + id) // named by its route, not its path
	require.NoError(t, err)
	resp.Body.Close()

	byName := func(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
		var out []sdktrace.ReadOnlySpan
		for _, s := range spans {
			if s.Name() == name && (attr(s, tracing.TaskIDKey) == id || s.SpanKind() == trace.SpanKindServer) {
				out = append(out, s)
			}
		}
		return out
	}
	var spans []sdktrace.ReadOnlySpan
	require.Eventually(t, func() bool { // the delivery's span ends after the receiver answered
		spans = exp.GetSpans().Snapshots()
		for _, s := range byName(spans, "webhook.deliver") {
			if attr(s, "seedgate.task.status") == "succeeded" {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the delivery's span")

	// The request: one server span named by its route.
	reqs := byName(spans, "POST /v1/jobs")
	require.Len(t, reqs, 1)
	req := reqs[0]
	require.Equal(t, trace.SpanKindServer, req.SpanKind())
	require.Equal(t, requestID, attr(req, tracing.RequestIDKey))
	require.Equal(t, "jobs", attr(req, tracing.DialectKey))
	require.Equal(t, id, attr(req, tracing.TaskIDKey))
	require.Equal(t, "200", attr(req, "http.response.status_code"))
	traceID := req.SpanContext().TraceID()
	gets := byName(spans, "GET /v1/jobs/{id}")
	require.Len(t, gets, 1)
	require.Equal(t, "/v1/jobs/{id}", attr(gets[0], "http.route"))
	require.NotEqual(t, traceID, gets[0].SpanContext().TraceID(), "a request of its own")

	// The task's steps: all in that trace.
	inTrace := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if s.SpanContext().TraceID() == traceID {
			inTrace[s.SpanContext().SpanID()] = s
		}
	}
	for _, name := range []string{"task.dispatch", "task.check", "task.mirror", "webhook.deliver"} {
		steps := byName(spans, name)
		require.NotEmpty(t, steps, "a %s span", name)
		for _, s := range steps {
			require.Equal(t, traceID, s.SpanContext().TraceID(), "%s is in the create's trace", name)
			require.Equal(t, req.SpanContext().SpanID(), s.Parent().SpanID(), "%s is a child of the create", name)
			require.Equal(t, requestID, attr(s, tracing.RequestIDKey), "%s names the create's request", name)
		}
	}
	// A status check read many tasks at once: its span links to the task's trace.
	for _, s := range byName(spans, "task.check") {
		require.Len(t, s.Links(), 1, "a check links to its batch")
	}

	// The upstream got the traceparent of the dispatch step with the create,
	// and of a batch check, linked to the task's trace, with the status reads.
	batches := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if s.Name() == "task.check_batch" {
			batches[s.SpanContext().SpanID()] = s
		}
	}
	var creates, lists int
	for _, r := range g.upstream.all() {
		sc := parseParent(t, r.traceparent)
		switch r.what {
		case string(arkemu.OpCreate):
			creates++
			require.Equal(t, traceID, sc.TraceID(), "the create upstream is in the task's trace")
			step, ok := inTrace[sc.SpanID()]
			require.True(t, ok, "the traceparent names a span of the trace")
			require.Equal(t, "task.dispatch", step.Name())
		case string(arkemu.OpList):
			batch, ok := batches[sc.SpanID()]
			require.True(t, ok, "a status read names its batch's span")
			require.Len(t, batch.Links(), 1)
			require.Equal(t, traceID, batch.Links()[0].SpanContext.TraceID(), "the batch links to the task's trace")
			lists++
		}
	}
	require.Equal(t, 1, creates)
	require.NotZero(t, lists)

	// The webhook receiver got the traceparent of the delivery's span.
	deliveries := map[trace.SpanID]bool{}
	for _, s := range byName(spans, "webhook.deliver") {
		deliveries[s.SpanContext().SpanID()] = true
	}
	hooks := g.webhooks.all()
	require.NotEmpty(t, hooks)
	for _, r := range hooks {
		sc := parseParent(t, r.traceparent)
		require.Equal(t, traceID, sc.TraceID(), "the %s event is in the task's trace", r.what)
		require.True(t, deliveries[sc.SpanID()], "the %s event's traceparent is its delivery's span", r.what)
	}

	// Log lines about the request carry its id and the trace; the steps' the task and the trace.
	logs := g.logs.String()
	created := logLine(t, logs, "task created")
	require.Contains(t, created, "request_id="+requestID)
	require.Contains(t, created, "trace_id="+traceID.String())
	finished := logLine(t, logs, "task finished")
	require.Contains(t, finished, "task="+id)
	require.Contains(t, finished, "trace_id="+traceID.String())
}

// logLine returns the log line with msg.
func logLine(t *testing.T, logs, msg string) string {
	t.Helper()
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `msg="`+msg+`"`) {
			return l
		}
	}
	t.Fatalf("no log line %q in:\n%s", msg, logs)
	return ""
}

// Off (no OTEL_* settings), nothing is traced: no traceparent goes out and
// the task keeps none; log lines still carry the request id.
func TestOffSendsNoTraceContext(t *testing.T) {
	t.Parallel()
	g := start(t, nil)
	id, requestID := g.createJob(t)
	g.waitDone(t, id)
	tk, err := g.app.Store.GetTask(context.Background(), id)
	require.NoError(t, err)
	require.Empty(t, tk.TraceParent)
	for _, r := range append(g.upstream.all(), g.webhooks.all()...) {
		require.Empty(t, r.traceparent, "%s", r.what)
	}
	created := logLine(t, g.logs.String(), "task created")
	require.Contains(t, created, "request_id="+requestID)
	require.NotContains(t, created, "trace_id=")
}

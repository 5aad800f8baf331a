// Package tracing is the gateway's OpenTelemetry tracing: the tracer provider
// the standard OTEL_* environment variables configure (off unless they name an
// exporter), the W3C trace context a task keeps from the request that created
// it, and the log handler that puts trace and request ids on log lines.
//
// Components take a trace.TracerProvider (nil: tracing off) and start their
// spans on it; nothing here is global. Off, the provider is OpenTelemetry's
// noop one, and Handler returns the handler it would wrap: the request path
// pays nothing for tracing it does not do.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/seedgate/seedgate/internal/wire"
)

// Scope is the instrumentation scope of the gateway's own spans.
const Scope = "github.com/seedgate/seedgate"

// Attribute keys the gateway puts on its spans.
const (
	RequestIDKey = attribute.Key("seedgate.request_id")
	TaskIDKey    = attribute.Key("seedgate.task_id")
	DialectKey   = attribute.Key("seedgate.dialect")
)

// propagator is W3C Trace Context only: a gateway facing the public passes
// on no baggage a client sent.
var propagator = propagation.TraceContext{}

// Enabled reports whether getenv configures trace export: an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or
// OTEL_TRACES_EXPORTER=otlp, and not OTEL_SDK_DISABLED=true or
// OTEL_TRACES_EXPORTER=none.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))) {
	case "none":
		return false
	case "otlp":
		return true
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// FromEnv returns the tracer provider the environment configures, and the
// function that flushes and stops it; a noop provider (and a no-op stop)
// when tracing is off. The exporter is OTLP over HTTP/protobuf or gRPC, as
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL says
// (default http/protobuf); the exporters read their endpoint, headers,
// timeout and TLS settings from the OTEL_EXPORTER_OTLP_* variables, and the
// SDK its sampler (OTEL_TRACES_SAMPLER, default parentbased_always_on), span
// limits and batching (OTEL_BSP_*). The service is OTEL_SERVICE_NAME, else
// "seedgate"; OTEL_RESOURCE_ATTRIBUTES adds to it.
func FromEnv(ctx context.Context, version string) (trace.TracerProvider, func(context.Context) error, error) {
	off := func(context.Context) error { return nil }
	if !Enabled(os.Getenv) {
		return noop.NewTracerProvider(), off, nil
	}
	if v := strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER"))); v != "" && v != "otlp" {
		return nil, nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%s: only otlp (or none) is supported", v)
	}
	exp, err := exporter(ctx, protocol(os.Getenv))
	if err != nil {
		return nil, nil, err
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "seedgate"), attribute.String("service.version", version)),
		resource.WithTelemetrySDK(), resource.WithHost(), resource.WithProcessPID(),
		resource.WithFromEnv(), // last: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, nil, fmt.Errorf("tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// protocol is the OTLP protocol for traces the environment names.
func protocol(getenv func(string) string) string {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := strings.ToLower(strings.TrimSpace(getenv(k))); v != "" {
			return v
		}
	}
	return "http/protobuf"
}

func exporter(ctx context.Context, proto string) (sdktrace.SpanExporter, error) {
	switch proto {
	case "http/protobuf":
		return otlptracehttp.New(ctx)
	case "grpc":
		return otlptracegrpc.New(ctx)
	}
	return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%s: the supported protocols are http/protobuf and grpc", proto)
}

// On reports whether tp records anything (nil and the noop provider do not).
func On(tp trace.TracerProvider) bool {
	switch tp.(type) {
	case nil, noop.TracerProvider:
		return false
	}
	return true
}

// Tracer returns the gateway's tracer of tp (nil: a noop one).
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(Scope)
}

// Handler wraps h (a router) in a server span per request, continuing the
// caller's trace when it sends one. The span is named by the route pattern
// the router matched ("POST /v1/jobs"), never the raw path; annotate, when
// set, adds attributes once the route is known. Off, it returns h.
//
// It is written here rather than taken from otelhttp: otelhttp's handler
// adds about three times the CPU per request (metric attributes computed
// even for a noop meter, a wrapper of every body and writer), too much for
// the create path. For the same reason outgoing calls get no client span of
// their own: they carry their step's traceparent (Inject).
func Handler(tp trace.TracerProvider, h http.Handler, annotate func(r *http.Request, span trace.Span)) http.Handler {
	if !On(tp) {
		return h
	}
	tracer := Tracer(tp)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(methodKey.String(r.Method), urlPathKey.String(r.URL.Path)))
		sw := wire.NewStatusWriter(w)
		r = r.WithContext(ctx)
		defer func() {
			if v := recover(); v != nil {
				span.SetName(spanName(r))
				span.SetStatus(codes.Error, "panic")
				span.End()
				panic(v)
			}
		}()
		h.ServeHTTP(sw, r) // the router sets r.Pattern on this very request
		span.SetName(spanName(r))
		span.SetAttributes(statusCodeKey.Int(sw.Status))
		if sw.Status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.Status))
		}
		if annotate != nil {
			annotate(r, span)
		}
		span.End()
	})
}

// Attributes of the HTTP spans (OpenTelemetry's semantic conventions).
const (
	methodKey     = attribute.Key("http.request.method")
	urlPathKey    = attribute.Key("url.path")
	statusCodeKey = attribute.Key("http.response.status_code")
)

// spanName is "METHOD pattern" once routed, "METHOD" before.
func spanName(r *http.Request) string {
	p := r.Pattern
	switch {
	case p == "":
		return r.Method
	case strings.HasPrefix(p, r.Method+" "):
		return p
	case strings.Contains(p, " "): // "GET /x" also serves HEAD
		return r.Method + " " + p[strings.Index(p, " ")+1:]
	}
	return r.Method + " " + p
}

// Inject writes the trace context of ctx's span into h (traceparent).
func Inject(ctx context.Context, h http.Header) {
	propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// Parent returns the W3C traceparent of ctx's span, "" without one: what a
// task keeps so that its background steps join the trace of its create.
func Parent(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	return c["traceparent"]
}

// WithParent returns ctx with the span context of traceparent (from Parent)
// as its remote parent; ctx unchanged when traceparent is "" or unreadable.
func WithParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return ctx
	}
	return propagator.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}

// Steps starts the spans of tasks' background steps (dispatch, status check,
// mirror, webhook delivery…) as children of the trace context each task
// keeps (Parent), so that a task's whole life is one trace.
type Steps struct {
	tracer trace.Tracer
	on     bool
}

// NewSteps returns the Steps of tp (nil: off).
func NewSteps(tp trace.TracerProvider) Steps {
	return Steps{tracer: Tracer(tp), on: On(tp)}
}

// On reports whether the steps are traced.
func (s Steps) On() bool { return s.on }

// Start starts the span of a step of task taskID whose trace context is
// traceParent ("": a trace of its own). Off, it returns ctx and a noop span.
func (s Steps) Start(ctx context.Context, name, taskID, traceParent string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !s.on {
		return ctx, noop.Span{}
	}
	opts = append(opts, trace.WithAttributes(TaskIDKey.String(taskID)))
	return s.tracer.Start(WithParent(ctx, traceParent), name, opts...)
}

// With returns ctx carrying span (of Start) too; ctx itself when off.
func (s Steps) With(ctx context.Context, span trace.Span) context.Context {
	if !s.on {
		return ctx
	}
	return trace.ContextWithSpan(ctx, span)
}

// Tracer is the tracer the spans start on.
func (s Steps) Tracer() trace.Tracer { return s.tracer }

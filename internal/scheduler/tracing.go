package scheduler

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/tracing"
)

// The spans of the steps, each in the trace of its task's create.
const (
	spanDispatch   = "task.dispatch"
	spanCheck      = "task.check"
	spanCheckBatch = "task.check_batch" // one upstream read for many tasks: links to their traces
	spanMirror     = "task.mirror"
	spanExpire     = "task.expire"
	spanFail       = "task.fail"
	spanThumbnail  = "task.thumbnail"
)

var (
	providerKey = attribute.Key("seedgate.provider")
	statusKey   = attribute.Key("seedgate.task.status")
)

// maxBatchLinks bounds the links of a batch span (the SDK's default link limit).
const maxBatchLinks = 128

// startStep starts the span of a step of t.
func (s *Scheduler) startStep(ctx context.Context, name string, t *task.Task, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !s.spans.On() {
		return s.spans.Start(ctx, name, t.ID, t.TraceParent)
	}
	opts = append(opts, trace.WithAttributes(providerKey.String(t.Provider), tracing.RequestIDKey.String(t.Request.RequestID)))
	return s.spans.Start(ctx, name, t.ID, t.TraceParent, opts...)
}

// endStep ends a step's span with the status the step left t in.
func (s *Scheduler) endStep(span trace.Span, t *task.Task) {
	if !s.spans.On() {
		return
	}
	span.SetAttributes(statusKey.String(string(t.Status)))
	if t.Status == task.StatusFailed || t.Status == task.StatusExpired {
		msg := string(t.Status)
		if t.Error != nil {
			msg = t.Error.Message
		}
		span.SetStatus(codes.Error, msg)
	}
	span.End()
}

// startBatch starts the span of a batched status check, a trace of its own
// linked to the traces of (at most maxBatchLinks of) its tasks.
func (s *Scheduler) startBatch(ctx context.Context, provider string, ts []*task.Task) (context.Context, trace.Span) {
	if !s.spans.On() {
		return ctx, noop.Span{}
	}
	var links []trace.Link
	for _, t := range ts {
		if len(links) == maxBatchLinks {
			break
		}
		if t.TraceParent == "" {
			continue
		}
		if sc := trace.SpanContextFromContext(tracing.WithParent(ctx, t.TraceParent)); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	return s.spans.Tracer().Start(ctx, spanCheckBatch, trace.WithNewRoot(), trace.WithLinks(links...),
		trace.WithAttributes(providerKey.String(provider), attribute.Int("seedgate.batch.size", len(ts))))
}

// batchLink is the option that links a task's check span to its batch's span.
func (s *Scheduler) batchLink(batch trace.Span) []trace.SpanStartOption {
	if !s.spans.On() {
		return nil
	}
	return []trace.SpanStartOption{trace.WithLinks(trace.Link{SpanContext: batch.SpanContext()})}
}

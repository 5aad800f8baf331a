package webhook

import (
	"context"
	"encoding/json"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/tracing"
)

// spanDeliver is the span of one attempt, in the trace of the message's task.
const spanDeliver = "webhook.deliver"

// startSpan starts the span of an attempt at m (one that is sent: events a
// dialect does not announce have none).
func (d *Dispatcher) startSpan(ctx context.Context, m *store.WebhookMessage) (context.Context, trace.Span) {
	if !d.spans.On() {
		return d.spans.Start(ctx, spanDeliver, m.TaskID, "")
	}
	// The snapshot is the task as written with the change: it carries the
	// trace context of the task's create.
	var snap struct {
		TraceParent string `json:"trace_parent"`
		Request     struct {
			RequestID string `json:"request_id"`
		} `json:"request"`
	}
	_ = json.Unmarshal(m.Snapshot, &snap) // unreadable: the attempt gets a trace of its own
	return d.spans.Start(ctx, spanDeliver, m.TaskID, snap.TraceParent, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("seedgate.webhook.id", m.ID), attribute.String("seedgate.task.status", string(m.Status)),
			tracing.RequestIDKey.String(snap.Request.RequestID),
			attribute.Int("seedgate.webhook.attempt", m.Attempts+1)))
}

// endSpan notes an attempt's answer and outcome on its span, and ends it.
func endSpan(span trace.Span, a store.WebhookAttempt, out outcome) {
	defer span.End()
	if !span.IsRecording() {
		return
	}
	if a.StatusCode != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", a.StatusCode))
	}
	span.SetAttributes(attribute.String("seedgate.webhook.outcome", string(out.state)))
	if out.state != store.WebhookDelivered {
		span.SetStatus(codes.Error, a.Error)
	}
}

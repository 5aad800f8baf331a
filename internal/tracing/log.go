package tracing

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// ContextAttr reads one attribute a log line should carry from its context
// (ok false: the context has none), e.g. the id of the request being served.
type ContextAttr func(ctx context.Context) (a slog.Attr, ok bool)

// LogHandler wraps h so that a record logged with a context (InfoContext…)
// carries the trace_id and span_id of the context's span and the attributes
// of attrs, unless the record names them itself.
func LogHandler(h slog.Handler, attrs ...ContextAttr) slog.Handler {
	if lh, ok := h.(*logHandler); ok {
		h = lh.Handler // wrap once
	}
	return &logHandler{Handler: h, attrs: attrs}
}

type logHandler struct {
	slog.Handler
	attrs []ContextAttr
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.Handler.Handle(ctx, r)
	}
	var add [4]slog.Attr
	extra := add[:0]
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		extra = append(extra, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	for _, f := range h.attrs {
		if a, ok := f(ctx); ok {
			extra = append(extra, a)
		}
	}
	if len(extra) == 0 {
		return h.Handler.Handle(ctx, r)
	}
	r = r.Clone() // the caller's record stays as it was
	r.Attrs(func(a slog.Attr) bool {
		for i := range extra {
			if extra[i].Key == a.Key {
				extra[i] = slog.Attr{} // the line says it already
			}
		}
		return true
	})
	for _, a := range extra {
		if a.Key != "" {
			r.AddAttrs(a)
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &logHandler{Handler: h.Handler.WithAttrs(as), attrs: h.attrs}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{Handler: h.Handler.WithGroup(name), attrs: h.attrs}
}

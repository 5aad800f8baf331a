package server

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/seedgate/seedgate/internal/tracing"
	"github.com/seedgate/seedgate/internal/wire"
)

// annotateSpan puts the route, the request id, the dialect and the task a
// routed request is about on its span (tracing.Handler names the span by the
// route).
func annotateSpan(r *http.Request, span trace.Span) {
	span.SetAttributes(tracing.RequestIDKey.String(wire.RequestID(r.Context())))
	if _, route, ok := strings.Cut(r.Pattern, " "); ok {
		span.SetAttributes(attribute.String("http.route", route))
	}
	if d := routeDialect(r); d != "" {
		span.SetAttributes(tracing.DialectKey.String(d))
	}
	if id := routeTask(r); id != "" {
		span.SetAttributes(tracing.TaskIDKey.String(id))
	}
}

// routeDialect is the dialect (or part of the gateway) of the route r
// matched, as the metrics label it (dialectOf), the shared route told apart.
func routeDialect(r *http.Request) string {
	if r.Pattern == "" {
		return ""
	}
	switch d := dialectOf(r.Pattern); d {
	case "videos,openai":
		if r.PathValue("id") == "generations" {
			return "videos"
		}
		return "openai"
	default:
		return d
	}
}

// routeTask is the task id in the path of a task route ("" elsewhere).
func routeTask(r *http.Request) string {
	_, path, _ := strings.Cut(r.Pattern, " ")
	if strings.HasPrefix(path, "/admin/") || strings.HasPrefix(path, "/v1/files/") || strings.HasPrefix(path, "/v1/models/") {
		return ""
	}
	if id := r.PathValue("task_id"); id != "" {
		return id
	}
	if id := r.PathValue("id"); id != "generations" {
		return id
	}
	return r.PathValue("sub")
}

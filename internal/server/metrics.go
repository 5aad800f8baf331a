package server

import (
	"net/http"
	"strings"

	"github.com/seedgate/seedgate/internal/metrics"
)

// instrument makes h record its requests under its route pattern (the
// middleware observes them once answered: statusRecorder.route). The
// pattern's series are looked up here, once, not per request.
func instrument(m *metrics.Metrics, pattern string, h http.Handler) http.Handler {
	route := m.Route(dialectOf(pattern), pattern)
	if route == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*statusRecorder); ok {
			rec.route = route
		}
		h.ServeHTTP(w, r)
	})
}

// dialectPrefixes name the dialect (or part of the gateway) a route's path
// belongs to; the first match wins.
var dialectPrefixes = []struct{ prefix, dialect string }{
	{"/v1/videos/generations", "videos"},
	{"/v1/videos/{id}/{sub}", "videos,openai"}, // one route serves both (routes.go)
	{"/v1/tasks/", "videos"},
	{"/v1/videos", "openai"},
	{"/v1/seedance/", "seedance"},
	{"/v1/responses", "responses"},
	{"/api/v1/", "openrouter"},
	{"/api/v3/", "ark"},
	{"/byteplus/v3/", "ark"},
	{"/admin/", "admin"},
	{"/metrics", "admin"},
	{"/upstream/", "upstream"},
	{"/healthz", "health"},
	{"/readyz", "health"},
	{"/console/", "console"},
	{"/{$}", "console"},
	{"/v1/", "jobs"},
	{"/openapi.json", "jobs"},
}

// dialectOf is the dialect label of a route pattern ("POST /v1/jobs" → jobs).
func dialectOf(pattern string) string {
	path := pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		path = p
	}
	for _, d := range dialectPrefixes {
		if strings.HasPrefix(path, d.prefix) {
			return d.dialect
		}
	}
	return "other"
}

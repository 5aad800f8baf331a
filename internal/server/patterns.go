package server

import (
	"net/http"

	"github.com/seedgate/seedgate/internal/metrics"
)

// routeMux is an http.ServeMux that remembers the patterns registered on it,
// so tests can hold the route table against the OpenAPI document, and
// records each route's requests under its pattern (metrics.go).
type routeMux struct {
	*http.ServeMux
	patterns *[]string
	metrics  *metrics.Metrics // nil: none
}

func newRouteMux(m *metrics.Metrics) routeMux {
	return routeMux{ServeMux: http.NewServeMux(), patterns: new([]string), metrics: m}
}

func (m routeMux) Handle(pattern string, h http.Handler) {
	*m.patterns = append(*m.patterns, pattern)
	m.ServeMux.Handle(pattern, instrument(m.metrics, pattern, h))
}

func (m routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// Patterns lists every route pattern the server registered, in registration order.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// ServeHTTP serves the gateway's routes through its middleware.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

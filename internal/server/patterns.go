package server

import "net/http"

// routeMux is an http.ServeMux that remembers the patterns registered on it,
// so tests can hold the route table against the OpenAPI document.
type routeMux struct {
	*http.ServeMux
	patterns *[]string
}

func newRouteMux() routeMux {
	return routeMux{ServeMux: http.NewServeMux(), patterns: new([]string)}
}

func (m routeMux) Handle(pattern string, h http.Handler) {
	*m.patterns = append(*m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	*m.patterns = append(*m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

// Patterns lists every route pattern the server registered, in registration order.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// ServeHTTP serves the gateway's routes through its middleware.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

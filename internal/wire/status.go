package wire

import "net/http"

// StatusWriter notes the status a handler answers (200 unless it says
// otherwise) and whether it has written anything, for middleware that logs,
// measures or audits the answer.
type StatusWriter struct {
	http.ResponseWriter
	Status int
	Wrote  bool
}

// NewStatusWriter wraps w.
func NewStatusWriter(w http.ResponseWriter) *StatusWriter {
	return &StatusWriter{ResponseWriter: w, Status: http.StatusOK}
}

func (s *StatusWriter) WriteHeader(code int) {
	if !s.Wrote {
		s.Status, s.Wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusWriter) Write(b []byte) (int, error) {
	s.Wrote = true
	return s.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (SSE) flush through the writer.
func (s *StatusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (s *StatusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

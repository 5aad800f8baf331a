// Package sse writes Server-Sent Events (the text/event-stream format of the
// HTML standard): events with ids, types and data, comments as keep-alives,
// and the reconnection delay. The jobs dialect's event stream, the responses
// dialect's stream and the console all write through it.
package sse

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Writer writes one event stream. It is not safe for concurrent use.
type Writer struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// Start answers 200 with the event-stream headers and, when retry > 0, tells
// the client how long to wait before reconnecting.
func Start(w http.ResponseWriter, retry time.Duration) (*Writer, error) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	s := &Writer{w: w, rc: http.NewResponseController(w)}
	if retry > 0 {
		if _, err := fmt.Fprintf(w, "retry: %d\n\n", retry.Milliseconds()); err != nil {
			return nil, err
		}
	}
	return s, s.flush()
}

// Event writes one event. id and event may be empty; data may span lines.
// id and event must not contain line breaks (they are dropped if they do).
func (s *Writer) Event(id, event string, data []byte) error {
	var b bytes.Buffer
	if id = oneLine(id); id != "" {
		b.WriteString("id: " + id + "\n")
	}
	if event = oneLine(event); event != "" {
		b.WriteString("event: " + event + "\n")
	}
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteByte('\n')
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return err
	}
	return s.flush()
}

// Comment writes a comment line, which clients ignore: a keep-alive that stops
// proxies and load balancers from closing an idle stream.
func (s *Writer) Comment(text string) error {
	if _, err := s.w.Write([]byte(": " + oneLine(text) + "\n\n")); err != nil {
		return err
	}
	return s.flush()
}

func (s *Writer) flush() error {
	if err := s.rc.Flush(); err != nil && err != http.ErrNotSupported {
		return err
	}
	return nil
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}

// ID formats a numeric event id.
func ID(n int64) string { return strconv.FormatInt(n, 10) }

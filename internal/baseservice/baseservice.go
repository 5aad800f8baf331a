// Package baseservice holds what app hands every service: one logger, one
// clock and one tracer provider. A service keeps them in its config
// (embedding Archetype); tests hand it a fake clock (clockwork.FakeClock) to
// move time and to wait until the service sleeps on a timer, instead of
// sleeping themselves.
package baseservice

import (
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/otel/trace"
)

// Archetype is the logger and the clock of a service, and the tracer
// provider its spans start on.
type Archetype struct {
	Logger *slog.Logger
	Clock  clockwork.Clock
	// TracerProvider traces the service's work (package tracing; nil: off).
	TracerProvider trace.TracerProvider
}

// New returns the archetype app builds once and hands every service.
func New(log *slog.Logger) Archetype {
	return Archetype{Logger: log, Clock: clockwork.NewRealClock()}
}

// WithDefaults fills what is unset: a logger that discards and the real clock
// (for a service built alone, in a test or a tool).
func (a Archetype) WithDefaults() Archetype {
	a.Logger = Logger(a.Logger)
	if a.Clock == nil {
		a.Clock = clockwork.NewRealClock()
	}
	return a
}

// Now reads the clock.
func (a Archetype) Now() time.Time { return a.Clock.Now() }

// Logger returns l, or a logger that discards when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Now returns now, or time.Now when now is nil (for the components that take
// only the clock's reading).
func Now(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

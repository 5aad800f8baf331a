package upstream

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Callbacker is a kind whose upstreams call back when a task changes. Its
// handler serves CallbackPath(kind) + "/{id}/{token}" and calls nudge to make
// the task due: a callback is a hint, the task is then read upstream with the
// key that owns it.
type Callbacker interface {
	CallbackHandler(nudge func(ctx context.Context, taskID string, at time.Time) error) http.Handler
}

// CallbackHandler serves POST /upstream/{kind}/callbacks/{id}/{token} for
// every registered kind that takes callbacks.
func (p *Provider) CallbackHandler(nudge func(ctx context.Context, taskID string, at time.Time) error) http.Handler {
	handlers := map[string]http.Handler{}
	for name, k := range p.kinds {
		if cb, ok := k.(Callbacker); ok {
			handlers[name] = cb.CallbackHandler(nudge)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := handlers[r.PathValue("kind")]
		if h == nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"code":"NotFound","message":"no such callback"}}`)
			return
		}
		h.ServeHTTP(w, r)
	})
}

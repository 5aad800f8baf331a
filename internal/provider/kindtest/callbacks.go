package kindtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seedgate/seedgate/internal/provider/kindhttp"
	"github.com/seedgate/seedgate/internal/provider/upstream"
)

// CallbackServer takes a kind's callbacks as the gateway would: Callbacks
// names its URLs (give them to the kind), Serve mounts the kind's handler,
// and Woken hears the task ids the callbacks make due.
type CallbackServer struct {
	Callbacks kindhttp.Callbacks
	Woken     chan string
	handler   atomic.Pointer[http.Handler]
}

// NewCallbackServer starts a callback server for kind.
func NewCallbackServer(t testing.TB, kind string) *CallbackServer {
	cs := &CallbackServer{Woken: make(chan string, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+upstream.CallbackPath(kind)+"/{id}/{token}", func(w http.ResponseWriter, r *http.Request) {
		if h := cs.handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	cs.Callbacks = kindhttp.Callbacks{Base: s.URL + upstream.CallbackPath(kind), Secret: []byte("callback-secret-for-tests")}
	return cs
}

// Serve mounts k's callback handler.
func (cs *CallbackServer) Serve(k upstream.Callbacker) {
	h := k.CallbackHandler(func(_ context.Context, id string, _ time.Time) error {
		cs.Woken <- id
		return nil
	})
	cs.handler.Store(&h)
}

// Wait returns the next task id a callback made due.
func (cs *CallbackServer) Wait(t testing.TB) string {
	t.Helper()
	select {
	case id := <-cs.Woken:
		return id
	case <-time.After(Patience):
		t.Fatalf("no callback from the upstream in %s", Patience)
		return ""
	}
}

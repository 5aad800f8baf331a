// Package server is the HTTP edge: every route in routes.go, the middleware
// (request ids, logging, panics, auth) and health checks.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/budget"
	"github.com/seedgate/seedgate/internal/metrics"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/webhook"
	"github.com/seedgate/seedgate/internal/wire"
)

// Config is what the HTTP layer needs to know.
type Config struct {
	MaxBodyBytes int64
	// MaxInflightBodyBytes is the budget of body bytes taken in at once (wire.BodyBudget; 0: none).
	MaxInflightBodyBytes int64
	// Keys authenticates API keys; nil means the gateway is open to anyone.
	Keys auth.StaticKeys
	// Keyring authenticates the admin, static and stored keys; nil:
	// one is made from Keys and the store.
	Keyring *auth.Keyring
	// Prices is the price table of budgets kept in a currency (nil: tokens).
	Prices      *budget.Prices
	FFmpegPath  string
	FFprobePath string
	// MaxWait caps "Prefer: wait=N" (SEEDGATE_MAX_WAIT).
	MaxWait time.Duration
	// Webhooks keeps the API keys' webhook secrets for the admin API (nil: unavailable).
	Webhooks *webhook.Dispatcher
	// SyncWait bounds the dialect calls that wait for a result.
	SyncWait time.Duration
	// UpstreamCallbacks takes the upstreams' callbacks (provider/upstream;
	// nil: none are expected).
	UpstreamCallbacks http.Handler
	// Metrics records requests and serves GET /metrics; Ops serves the
	// operations page's data (nil: metrics are off, neither route exists).
	Metrics *metrics.Metrics
	Ops     *metrics.Ops

	// The edge (edge.go, deadlines.go): the public URL and the host names
	// the gateway answers to (SEEDGATE_ALLOWED_HOSTS; empty: the public
	// URL's host and localhost), the origins whose pages may call it
	// (SEEDGATE_CORS_ORIGINS), and how long a body may take to arrive and
	// an answer to be written (0: the http.Server's timeouts alone).
	PublicURL    string
	AllowedHosts []string
	CORSOrigins  []string
	BodyTimeout  time.Duration
	WriteTimeout time.Duration
	// StorageCheck says whether files can be stored (nil: not checked); /readyz fails while it fails.
	StorageCheck func(context.Context) error
	// TracerProvider traces every request, a span named by its route (nil: off).
	TracerProvider trace.TracerProvider
}

// Server holds the handlers' dependencies.
type Server struct {
	cfg   Config
	svc   *service.Service
	store store.Store
	log   *slog.Logger

	handler  http.Handler // routes() behind the middleware
	patterns []string     // every registered route pattern (Patterns)
	idem     *idempotencyKeys
	stopping *stopSignal // StopWaiting: event streams and Prefer: wait end
	bodies   *wire.BodyBudget

	hosts       hostPolicy
	crossOrigin *http.CrossOriginProtection // nil: every origin is trusted
	ready       atomic.Bool                 // the last /readyz answer, to log changes
}

// New returns the gateway's http.Handler (a *Server, which also lists its route patterns).
func New(cfg Config, svc *service.Service, st store.Store, log *slog.Logger) *Server {
	s := &Server{cfg: cfg, svc: svc, store: st, log: log}
	if s.cfg.Keyring == nil {
		s.cfg.Keyring = auth.NewKeyring(auth.KeyringConfig{Store: s.store, Static: cfg.Keys, Logger: log})
	}
	s.idem = newIdempotencyKeys(s.store, s.log)
	s.stopping = newStopSignal()
	s.bodies = wire.NewBodyBudget(cfg.MaxInflightBodyBytes)
	s.hosts = newHostPolicy(cfg.AllowedHosts, cfg.PublicURL)
	s.crossOrigin = newCrossOrigin(cfg.CORSOrigins)
	s.ready.Store(true)
	s.handler, s.patterns = s.routes()
	return s
}

// dialect is how a dialect mounts on the server: its handlers go into
// routes.go, and what the server itself refuses on those routes (auth,
// idempotency, body encoding, Prefer: wait) is written in the dialect's shape
// through WriteError.
type dialect interface {
	WriteError(w http.ResponseWriter, r *http.Request, err error)
}

// errorWriter makes an error-writing function (the admin API's) a dialect.
type errorWriter func(w http.ResponseWriter, r *http.Request, err error)

func (f errorWriter) WriteError(w http.ResponseWriter, r *http.Request, err error) { f(w, r, err) }

// authenticate returns the caller of r when it may read (accounts.go), for
// routes that check a key themselves (file content without a signature).
func (s *Server) authenticate(r *http.Request) (auth.Principal, bool) {
	p, err := s.principal(r)
	return p, err == nil && p.Scopes.Has(auth.ScopeRead)
}

// authed wraps h so it runs only for an authenticated caller whose key has
// the scope the request needs and is within its requests per minute
// (accounts.go); failures are written in the dialect's own error shape,
// without reading the request's body (refuse).
func (s *Server) authed(d dialect, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.crossOriginError(r); err != nil {
			refuse(w, r, d, err)
			return
		}
		p, err := s.principal(r)
		if err == nil {
			s.admitted(w, r) // the caller is known: its body may take longer
			err = s.allow(r, p)
		}
		if err != nil {
			if task.ErrorCode(err) == task.CodeUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="seedgate"`)
			}
			refuse(w, r, d, err)
			return
		}
		// Bodies are taken as sent: a compressed one is refused rather than
		// inflated, so no body expands past the size limits (gzip bombs).
		if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
			refuse(w, r, d, task.Errorf(task.CodeUnsupportedMedia, "", "Content-Encoding %q is not accepted: send the request body uncompressed", ce))
			return
		}
		r, done, err := s.bodies.Admit(r)
		if err != nil {
			refuse(w, r, d, err)
			return
		}
		defer done()
		h(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

func notFound(r *http.Request) error {
	return task.Errorf(task.CodeNotFound, "", "no route for %s %s", r.Method, r.URL.Path)
}

// middleware adds a request id (the client's X-Client-Request-Id when it sends
// one, as the Ark SDK does), access logs, and turns a panic into a 500.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Client-Request-Id")
		if id == "" || len(id) > 128 {
			id = wire.NewRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(wire.WithLogger(wire.WithRequestID(r.Context(), id), s.log))
		rec := &statusRecorder{StatusWriter: wire.NewStatusWriter(w)}
		start := time.Now()
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panicked", "panic", v, "stack", string(debug.Stack()), "request_id", id)
				if !rec.Wrote {
					wire.WriteJSON(rec, http.StatusInternalServerError, map[string]any{"error": map[string]string{
						"code": string(task.CodeInternal), "message": "internal error", "request_id": id}})
				}
			}
			if s.cfg.Metrics != nil {
				route := rec.route
				if route == nil { // the mux answered itself (405)
					route = s.cfg.Metrics.Unmatched()
				}
				route.Observe(rec.Status, time.Since(start))
			}
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.Status,
				"duration", time.Since(start), "request_id", id)
		}()
		next.ServeHTTP(rec, r)
	})
}

// statusRecorder is the status writer with the matched route's metrics
// (instrument sets it).
type statusRecorder struct {
	*wire.StatusWriter
	route *metrics.Route
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	wire.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz: the store answers, files can be stored, and ffmpeg/ffprobe can be
// found. Everyone gets the status; what failed (which may name hosts, paths
// or database users) only the admin key, and the log when it changes.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"store": "ok", "ffmpeg": "ok", "ffprobe": "ok"}
	ready := true
	if err := s.store.Ping(ctx); err != nil {
		checks["store"], ready = err.Error(), false
	}
	if s.cfg.StorageCheck != nil {
		checks["storage"] = "ok"
		if err := s.cfg.StorageCheck(ctx); err != nil {
			checks["storage"], ready = err.Error(), false
		}
	}
	for name, path := range map[string]string{"ffmpeg": s.cfg.FFmpegPath, "ffprobe": s.cfg.FFprobePath} {
		if _, err := exec.LookPath(path); err != nil {
			checks[name], ready = "not found: "+path, false
		}
	}
	if was := s.ready.Swap(ready); was != ready {
		if ready {
			s.log.Info("ready again")
		} else {
			s.log.Warn("not ready", "checks", checks)
		}
	}
	status, body := http.StatusOK, map[string]any{"status": "ready"}
	if !ready {
		status, body["status"] = http.StatusServiceUnavailable, "not ready"
	}
	if s.isAdmin(ctx, r) {
		body["checks"] = checks
	}
	wire.WriteJSON(w, status, body)
}

// isAdmin reports whether r carries a key with the admin scope.
func (s *Server) isAdmin(ctx context.Context, r *http.Request) bool {
	tok := auth.BearerToken(r)
	if tok == "" {
		return false
	}
	p, err := s.cfg.Keyring.Authenticate(ctx, tok)
	return err == nil && p.Scopes.Has(auth.ScopeAdmin)
}

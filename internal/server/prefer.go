package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/auth"
)

const defaultMaxWait = 60 * time.Second

// preferWait reads RFC 7240's "Prefer: wait=N" and returns N capped by the
// configured maximum; ok is false when the client asked for no wait.
func (s *Server) preferWait(r *http.Request) (time.Duration, bool) {
	for _, v := range r.Header.Values("Prefer") {
		for _, pref := range strings.Split(v, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(strings.SplitN(pref, ";", 2)[0]), "=")
			if !strings.EqualFold(strings.TrimSpace(name), "wait") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(value), `"`))
			if err != nil || n <= 0 {
				return 0, false // malformed preferences are ignored (RFC 7240 §2)
			}
			limit := s.cfg.MaxWait
			if limit <= 0 {
				limit = defaultMaxWait
			}
			if int64(n) > int64(limit/time.Second) { // before multiplying: a huge N would overflow
				return limit, true
			}
			return time.Duration(n) * time.Second, true
		}
	}
	return 0, false
}

func applied(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Preference-Applied", "wait="+strconv.Itoa(int(d/time.Second)))
}

// waitThenGet serves a dialect's get with "Prefer: wait=N": it holds the
// request until the task has finished or N seconds passed, then answers with
// whatever state the task has (the dialect's own get, so its own shape).
func (s *Server) waitThenGet(get http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Prefer")
		if d, ok := s.preferWait(r); ok {
			if id := taskID(r); id != "" {
				p, _ := auth.FromContext(r.Context())
				ctx, stop := s.untilStopping(r.Context())
				s.hold(w, d)
				_, _ = s.svc.Wait(ctx, p.Tenant, id, d) // a missing task: get says so
				stop()
				applied(w, d)
			}
		}
		get(w, r)
	}
}

// createThenWait serves a dialect's create with "Prefer: wait=N": once the
// task is created it waits up to N seconds and answers with the dialect's get
// of the task (its state at that moment) instead of the bare create answer.
// Failed creates are answered as they are.
func (s *Server) createThenWait(create, get http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Prefer")
		d, ok := s.preferWait(r)
		if !ok {
			create(w, r)
			return
		}
		rec := &responseBuffer{header: http.Header{}}
		create(rec, r)
		var created struct {
			ID string `json:"id"`
		}
		if rec.status/100 != 2 || json.Unmarshal(rec.body.Bytes(), &created) != nil || created.ID == "" {
			rec.copyTo(w)
			return
		}
		p, _ := auth.FromContext(r.Context())
		ctx, stop := s.untilStopping(r.Context())
		s.hold(w, d)
		_, _ = s.svc.Wait(ctx, p.Tenant, created.ID, d)
		stop()
		for k, v := range rec.header { // e.g. Idempotent-Replayed
			if k != "Content-Type" && k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		applied(w, d)
		g := r.Clone(r.Context())
		g.Method = http.MethodGet
		g.Body = http.NoBody
		g.SetPathValue("id", created.ID)
		g.SetPathValue("task_id", created.ID)
		get(w, g)
	}
}

// taskID is the task id of a get route, whichever name the dialect's pattern uses.
func taskID(r *http.Request) string {
	if id := r.PathValue("id"); id != "" {
		return id
	}
	return r.PathValue("task_id")
}

// responseBuffer holds a handler's answer so the caller can decide what to send.
type responseBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *responseBuffer) Header() http.Header { return b.header }

func (b *responseBuffer) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *responseBuffer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *responseBuffer) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// StopWaiting ends event streams and cuts "Prefer: wait" holds short (they
// answer with the task's state at once), so a graceful shutdown is not held
// up by them: the app calls it when the HTTP server starts shutting down.
// Stream clients reconnect with Last-Event-ID and miss nothing.
func (s *Server) StopWaiting() { s.stopping.cancel() }

// stopSignal is StopWaiting's broadcast (a context: cancelling is idempotent and safe from any goroutine).
type stopSignal struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newStopSignal() *stopSignal {
	ctx, cancel := context.WithCancel(context.Background())
	return &stopSignal{ctx: ctx, cancel: cancel}
}

// untilStopping returns ctx, also cancelled by StopWaiting.
func (s *Server) untilStopping(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(s.stopping.ctx, cancel)
	return ctx, func() { unhook(); cancel() }
}

// interruptible runs a long-lived handler (an event stream) under a context
// that StopWaiting cancels.
func (s *Server) interruptible(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := s.untilStopping(r.Context())
		defer cancel()
		h(w, r.WithContext(ctx))
	}
}

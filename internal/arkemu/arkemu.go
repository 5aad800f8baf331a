// Package arkemu is a faithful fake of the Volcengine Ark / BytePlus ModelArk
// video-generation task API (docs/upstream-ark.md): create, get, list and delete of
// content-generation tasks, a queued → running → succeeded timeline with the
// upstream's limits, callbacks, expiring result URLs served by the emulator
// itself, and fault injection for tests.
//
// It is the upstream of every seedgate test and the engine of `seedgate
// fake-ark`. It knows nothing about seedgate: it only speaks the Ark wire API,
// so the gateway must not special-case it.
//
// Use:
//
//	emu := arkemu.New(arkemu.Options{APIKeys: []string{"sk-1"}})
//	ts := httptest.NewServer(emu)
//	defer ts.Close(); defer emu.Close()
//	baseURL := ts.URL + arkemu.BasePath // what an Ark client is given
//
// Behaviour a test can steer:
//   - Timeline: Options.QueueTime and RunTime, on Options.Now (a fake clock
//     works; call Tick after moving it). Concurrency per account and model
//     keeps excess tasks queued; RPM and MaxQueued answer 429.
//   - Failures: a prompt containing "[ark:fail=CODE]" makes the task fail with
//     CODE; "[ark:reject=CODE]" makes the create itself fail; FailNext(CODE)
//     fails the next created task.
//   - Faults: InjectFault(Fault{Op, Kind, …}) for 429/500 answers, slow
//     answers, dropped connections (before or after the operation happened),
//     malformed or truncated JSON, and lying callbacks.
//   - Inspection: Calls, CallsByKey, CreatedIDs, Tasks, TaskByID; the
//     headers of every call through Options.OnRequest.
//   - Asset library: Volcengine's OpenAPI at POST /?Action=…&Version=2024-01-01
//     (CreateAssetGroup, CreateAsset from a URL, GetAsset, ListAssets,
//     DeleteAsset), signed with an access key pair of Options.AccessKeys
//     (default TestAccessKeyID / TestSecretAccessKey) and checked with the
//     Volcengine SDK's signer: an unknown key answers 401 InvalidAccessKey, a
//     bad signature 401 SignatureDoesNotMatch. A new asset is Processing for
//     Options.AssetProcessTime, then Active (Failed when its URL cannot be
//     read). Calls(OpCreateAsset) counts the creates; Assets lists the library.
//   - Faces: an input image whose bytes or URL hold FaceMarker ("arkemu:face",
//     e.g. in a PNG text chunk; FaceImage makes one) is an image of a real
//     person: a Seedance 2.x create refuses it with 400
//     InputImageSensitiveContentDetected.PrivacyInformation unless it comes as
//     asset://<id> of an Active asset of the library.
//
// Decisions where docs/upstream-ark.md is silent: DELETE of a running or cancelled task
// answers 409 Conflict, code "OperationDenied.InvalidTaskStatus"; an unknown or
// foreign task id answers 404 "NotFound"; each API key is its own account;
// filter.status also accepts "expired"; list page_size defaults to 10;
// only Volcengine and BytePlus model ids (and configured ep- endpoints) are
// accepted, not seedgate's aliases.
package arkemu

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/task"
)

// BasePath is where the API lives: a client's base URL is <server URL>/api/v3.
const BasePath = "/api/v3"

const tasksPath = BasePath + "/contents/generations/tasks"

// Options configure a Server. The zero value is usable: short timings for tests,
// any bearer key accepted.
type Options struct {
	// APIKeys are the accepted bearer keys. Each key is its own account: tasks,
	// limits and counters are per key. Empty: any non-empty key is accepted.
	APIKeys []string
	// Endpoints maps endpoint ids ("ep-…") to the model id they serve.
	Endpoints map[string]string

	// Now is the clock (default time.Now). Tests may inject a fake one; the
	// timeline is evaluated against it on every call and every TickInterval.
	Now func() time.Time
	// QueueTime is how long a task stays queued at least (default 50ms).
	QueueTime time.Duration
	// FlexQueueTime replaces QueueTime for service_tier flex (default 4×QueueTime).
	FlexQueueTime time.Duration
	// RunTime is how long a task runs (default 200ms).
	RunTime time.Duration
	// TickInterval is how often the background loop advances the timeline (default 10ms).
	TickInterval time.Duration

	// RPM and Concurrency override every model's limits when > 0.
	RPM         int
	Concurrency int
	// MaxQueued is the per-account cap on queued tasks (default 120).
	MaxQueued int

	// URLTTL is how long result URLs stay valid after success (default 24h).
	URLTTL time.Duration
	// PublicURL is the scheme://host used in result URLs; default: taken from
	// the create request (Host header).
	PublicURL string

	// CallbackTimeout is how long a callback may take to be acknowledged (default 5s).
	CallbackTimeout time.Duration
	// CallbackRetries is how often succeeded/failed callbacks are retried
	// (default 3; negative: never).
	CallbackRetries int
	// CallbackRetryDelay is the pause between callback attempts (default 1s).
	CallbackRetryDelay time.Duration
	// FaultSeed seeds the draws of faults injected with a Probability (0: a
	// random seed). The same seed gives the same sequence of draws; which call
	// meets which draw still depends on the order calls arrive in.
	FaultSeed uint64
	// CallbackDone, when set, is called once the callback of a task's status
	// is over: acknowledged, or out of attempts (tests wait on it).
	CallbackDone func(id, status string)
	// OnRequest, when set, sees the headers of every API call (a copy), before
	// any check: tests read what a client sent, e.g. its traceparent.
	OnRequest func(op Op, h http.Header)

	// HTTPClient sends callbacks and downloads first-frame images (default: a
	// plain client with a 30s timeout).
	HTTPClient *http.Client
	// StrictImages makes an image URL that cannot be downloaded or decoded a 400;
	// by default its size is just unknown (adaptive falls back to the model default).
	StrictImages bool

	// FFmpeg is the ffmpeg binary used to render result videos (default
	// "ffmpeg"); FFprobe reads the length of reference videos (default "ffprobe").
	FFmpeg  string
	FFprobe string
	// ResultVideo, when set, is the MP4 file served as every task's result
	// video instead of a render of the task's size (benchmarks of large
	// downloads). It is read from disk on each request.
	ResultVideo string
	// Logger receives debug logs (default: discarded).
	Logger *slog.Logger

	// AccessKeys are the OpenAPI access key pairs (id → secret) whose
	// signatures the asset library accepts; empty: TestAccessKeyID with
	// TestSecretAccessKey. Each access key is its own account.
	AccessKeys map[string]string
	// AssetProcessTime is how long a new asset stays Processing (default 100ms).
	AssetProcessTime time.Duration
}

func (o Options) withDefaults() Options {
	o.Now = baseservice.Now(o.Now)
	if o.QueueTime <= 0 {
		o.QueueTime = 50 * time.Millisecond
	}
	if o.FlexQueueTime <= 0 {
		o.FlexQueueTime = 4 * o.QueueTime
	}
	if o.RunTime <= 0 {
		o.RunTime = 200 * time.Millisecond
	}
	if o.TickInterval <= 0 {
		o.TickInterval = 10 * time.Millisecond
	}
	if o.MaxQueued <= 0 {
		o.MaxQueued = 120
	}
	if o.URLTTL <= 0 {
		o.URLTTL = 24 * time.Hour
	}
	if o.CallbackTimeout <= 0 {
		o.CallbackTimeout = 5 * time.Second
	}
	switch {
	case o.CallbackRetries == 0:
		o.CallbackRetries = 3
	case o.CallbackRetries < 0:
		o.CallbackRetries = 0
	}
	if o.CallbackRetryDelay <= 0 {
		o.CallbackRetryDelay = time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.AssetProcessTime <= 0 {
		o.AssetProcessTime = 100 * time.Millisecond
	}
	if o.FFmpeg == "" {
		o.FFmpeg = "ffmpeg"
	}
	if o.FFprobe == "" {
		o.FFprobe = "ffprobe"
	}
	o.Logger = baseservice.Logger(o.Logger)
	o.PublicURL = strings.TrimSuffix(o.PublicURL, "/")
	return o
}

// Op names an operation, for counters and fault rules.
type Op string

const (
	OpCreate   Op = "create"
	OpGet      Op = "get"
	OpList     Op = "list"
	OpDelete   Op = "delete"
	OpCallback Op = "callback" // one callback POST attempt (counted per task owner's key)
)

// Server is the emulator. It is an http.Handler; Close stops its background work.
type Server struct {
	opts  Options
	log   *slog.Logger
	mux   *http.ServeMux
	keys  map[string]bool
	media *mediaCache

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once

	mu      sync.Mutex
	rng     *mrand.Rand
	tasks   map[string]*emuTask
	order   []*emuTask // creation order
	seq     int64
	simTime time.Time // time of the last applied timeline event
	// nextAt is a lower bound of the next timeline event (zero: unknown), so
	// the many calls between events skip the scan of every task.
	nextAt    time.Time
	queued    map[string]int // queued tasks per account (MaxQueued)
	lastPrune time.Time
	creates   map[string][]time.Time
	files     map[string]*fileEntry
	calls     map[callKey]int
	created   []string
	faults    []*faultRule
	failNext  []string

	assetGroups map[string]*emuAssetGroup
	assets      map[string]*emuAsset
}

type callKey struct {
	key string
	op  Op
}

// New returns a running emulator. Call Close when done.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	var seed [16]byte
	_, _ = rand.Read(seed[:])
	if opts.FaultSeed != 0 {
		seed = [16]byte{}
		binary.LittleEndian.PutUint64(seed[:8], opts.FaultSeed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:    opts,
		log:     opts.Logger,
		keys:    make(map[string]bool),
		media:   newMediaCache(opts.FFmpeg),
		ctx:     ctx,
		cancel:  cancel,
		rng:     mrand.New(mrand.NewPCG(leUint64(seed[:8]), leUint64(seed[8:]))),
		tasks:   make(map[string]*emuTask),
		creates: make(map[string][]time.Time),
		files:   make(map[string]*fileEntry),
		queued:  make(map[string]int),
		calls:   make(map[callKey]int),

		assetGroups: make(map[string]*emuAssetGroup),
		assets:      make(map[string]*emuAsset),
	}
	for _, k := range opts.APIKeys {
		s.keys[k] = true
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST "+tasksPath, s.api(OpCreate, s.handleCreate))
	s.mux.HandleFunc("GET "+tasksPath, s.api(OpList, s.handleList))
	s.mux.HandleFunc("GET "+tasksPath+"/{id}", s.api(OpGet, s.handleGet))
	s.mux.HandleFunc("DELETE "+tasksPath+"/{id}", s.api(OpDelete, s.handleDelete))
	s.mux.HandleFunc("GET /files/{token}/{name}", s.handleFile)
	s.mux.HandleFunc(BasePath+"/", s.handleUnknown)
	// Volcengine's OpenAPI (another host upstream): the asset library.
	s.mux.HandleFunc("POST /{$}", s.handleOpenAPI)

	s.wg.Add(1)
	go s.tickLoop()
	return s
}

func leUint64(b []byte) uint64 {
	var v uint64
	for i := range 8 {
		v |= uint64(b[i]) << (8 * i)
	}
	return v
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops the timeline loop and pending callbacks. Safe to call twice.
func (s *Server) Close() {
	s.closed.Do(func() {
		s.mu.Lock() // no callback goroutine starts after this (notifyLocked checks ctx)
		s.cancel()
		s.mu.Unlock()
		s.wg.Wait()
	})
}

// Tick advances the timeline to Now() at once: due status changes happen and
// their callbacks are sent. The background loop does this every TickInterval;
// tests with a fake clock call it after moving the clock.
func (s *Server) Tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.advanceLocked(now)
	s.pruneLocked(now)
}

// retention is how long finished task records and expired file URLs are kept,
// so a long-running fake-ark does not grow without bound.
const retention = 30 * 24 * time.Hour

func (s *Server) pruneLocked(now time.Time) {
	if now.Sub(s.lastPrune) < time.Minute {
		return
	}
	s.lastPrune = now
	kept := s.order[:0]
	for _, t := range s.order {
		if !t.active() && !t.cbActive && now.Sub(t.createdAt) > retention {
			delete(s.tasks, t.id)
			continue
		}
		kept = append(kept, t)
	}
	clear(s.order[len(kept):])
	s.order = kept
	for token, f := range s.files {
		if now.Sub(f.expires) > retention {
			delete(s.files, token)
		}
	}
}

func (s *Server) tickLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.Tick()
		}
	}
}

// reply is what an API handler answers; the api wrapper writes it, or mangles
// it when a fault says so.
type reply struct {
	status int
	body   []byte
	header http.Header
}

// call is what an API handler learns about its request.
type call struct {
	r         *http.Request
	key       string // the bearer key = the account
	requestID string
}

func (s *Server) api(op Op, h func(c *call) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{r: r, key: bearer(r), requestID: newRequestID(s.opts.Now())}
		w.Header().Set("X-Request-Id", c.requestID)
		if id := r.Header.Get("X-Client-Request-Id"); id != "" {
			w.Header().Set("X-Client-Request-Id", id)
		}
		s.count(c.key, op)
		if s.opts.OnRequest != nil {
			s.opts.OnRequest(op, r.Header.Clone())
		}

		if c.key == "" || (len(s.keys) > 0 && !s.keys[c.key]) {
			s.write(w, errReply(c, http.StatusUnauthorized, "AuthenticationError", "",
				"The API key in the request is missing or invalid."))
			return
		}

		f := s.takeFault(op, c.key)
		if f != nil {
			s.log.Debug("arkemu: injecting fault", "op", op, "kind", f.Kind)
			switch f.Kind {
			case FaultHTTPError:
				s.write(w, faultErrorReply(c, f))
				return
			case FaultDrop:
				dropConnection(w)
				return
			case FaultSlow:
				select {
				case <-time.After(f.Delay):
				case <-r.Context().Done():
					return
				}
			}
		}

		rep := h(c)

		if f != nil {
			switch f.Kind {
			case FaultDropAfter:
				dropConnection(w)
				return
			case FaultMalformedJSON:
				// Still a 200 with a JSON content type, but not parseable.
				rep.body = append([]byte("{{"), rep.body...)
			case FaultTruncatedJSON:
				rep.body = rep.body[:len(rep.body)/2]
			}
		}
		s.write(w, rep)
	}
}

func (s *Server) write(w http.ResponseWriter, rep reply) {
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	if rep.body != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // a reset, like a proxy dying
			}
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *Server) handleUnknown(w http.ResponseWriter, r *http.Request) {
	c := &call{r: r, requestID: newRequestID(s.opts.Now())}
	w.Header().Set("X-Request-Id", c.requestID)
	s.write(w, errReply(c, http.StatusNotFound, "NotFound", "",
		fmt.Sprintf("The requested resource %s %s does not exist.", r.Method, r.URL.Path)))
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(key)
}

// newRequestID mimics Ark's request ids: "02", the time in ms, then random hex.
func newRequestID(now time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("02%d%s", now.UnixMilli(), hex.EncodeToString(b[:]))
}

func (s *Server) count(key string, op Op) {
	s.mu.Lock()
	s.calls[callKey{key, op}]++
	s.mu.Unlock()
}

// Calls returns how many calls of op the emulator received, from any key.
func (s *Server) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.calls {
		if k.op == op {
			n += v
		}
	}
	return n
}

// CallsByKey returns how many calls of op came with the bearer key.
func (s *Server) CallsByKey(key string, op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[callKey{key, op}]
}

// CreatedIDs lists the ids of every task created, in order (including tasks
// whose create answer was lost to a fault).
func (s *Server) CreatedIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.created)
}

// TaskInfo is a snapshot of one task: its wire object plus what tests may want
// to check about the request behind it.
type TaskInfo struct {
	Task
	APIKey   string       // the account
	Endpoint string       // the ep-… id when the create used one
	Request  task.Request // the normalized request
	Width    int          // output pixel size
	Height   int
	Deleted  bool // removed by DELETE or auto-deleted
}

// Tasks returns a snapshot of every task, deleted ones included, in creation order.
func (s *Server) Tasks() []TaskInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.advanceLocked(now)
	out := make([]TaskInfo, 0, len(s.order))
	for _, t := range s.order {
		out = append(out, s.infoLocked(t, now))
	}
	return out
}

// TaskByID returns a snapshot of one task.
func (s *Server) TaskByID(id string) (TaskInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.advanceLocked(now)
	t, ok := s.tasks[id]
	if !ok {
		return TaskInfo{}, false
	}
	return s.infoLocked(t, now), true
}

func (s *Server) infoLocked(t *emuTask, now time.Time) TaskInfo {
	return TaskInfo{
		Task:     s.wireLocked(t),
		APIKey:   t.key,
		Endpoint: t.endpoint,
		Request:  t.req,
		Width:    t.width,
		Height:   t.height,
		Deleted:  t.isDeleted(now),
	}
}

// Serve serves an emulator on ln until ctx ends (`seedgate fake-ark`). The
// listener is bound by the caller, who knows the address before serving.
func Serve(ctx context.Context, ln net.Listener, opts Options) error {
	srv := New(opts)
	defer srv.Close()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	srv.log.Info("fake Ark listening", "base_url", "http://"+ln.Addr().String()+BasePath)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("arkemu: serve: %w", err)
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("arkemu: shutdown: %w", err)
		}
		<-errc
		return nil
	}
}

// drain reads and discards a body so keep-alive connections can be reused.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
	_ = rc.Close()
}

// Package openrouteremu is an in-memory fake of OpenRouter's video API, built
// from its official SDK's schemas (the same declarations, package
// protocol/openrouter): POST /api/v1/videos, GET /api/v1/videos/{id}, GET
// /api/v1/videos/{id}/content?index=0 and GET /api/v1/videos/models. Every
// call needs a Bearer key, and each key is its own account. Jobs go pending →
// in_progress → completed over Options.QueueTime and RunTime; the content is
// a small real MP4. It is the upstream of the openrouter channel kind's tests.
//
// Use:
//
//	emu := openrouteremu.New(openrouteremu.Options{APIKeys: []string{"sk-or-1"}, Video: mp4})
//	ts := httptest.NewServer(emu)
//	baseURL := ts.URL + openrouteremu.BasePath // the SDK's serverURL
//
// Behaviour a test can steer:
//   - a prompt containing "[or:fail]" makes the job fail;
//   - InjectFault answers the next calls of an operation with an HTTP error,
//     drops the connection before the operation, or after it (a create then
//     did happen: an unknown outcome for the client);
//   - Calls and Jobs show what the clients did.
//
// Decisions where the SDK is silent: content of a job not completed answers
// 409; an unknown or foreign job answers 404; only the models it lists are
// accepted, by their OpenRouter ids.
package openrouteremu

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	orp "github.com/seedgate/seedgate/internal/protocol/openrouter"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// BasePath is where the API lives: a client's base URL is <server URL>/api/v1.
const BasePath = orp.BasePath

// FailMarker in a prompt makes the job fail.
const FailMarker = "[or:fail]"

// Op is an API operation, for faults and call counts.
type Op string

const (
	OpCreate  Op = "create"
	OpGet     Op = "get"
	OpContent Op = "content"
	OpModels  Op = "models"
)

// Options configure a Server.
type Options struct {
	// APIKeys are the accepted keys; empty: any non-empty key.
	APIKeys []string
	// Video is the MP4 every completed job serves (see TestVideo).
	Video []byte
	// QueueTime is how long a job stays pending (default 50ms); RunTime how
	// long it is in progress (default 200ms).
	QueueTime, RunTime time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PublicURL is the scheme://host of polling and content URLs (default:
	// from the request's Host).
	PublicURL string
}

// FaultKind is what an injected fault does.
type FaultKind string

const (
	// FaultHTTPError answers Status (default 500) in the error shape; the
	// operation does not happen.
	FaultHTTPError FaultKind = "http_error"
	// FaultDrop closes the connection before the operation.
	FaultDrop FaultKind = "drop"
	// FaultDropAfter performs the operation, then closes the connection
	// without an answer.
	FaultDropAfter FaultKind = "drop_after"
)

// Fault is one injected misbehaviour for the next Count (default 1) calls of Op.
type Fault struct {
	Op     Op
	Kind   FaultKind
	Status int
	Count  int
}

// Job is a job as the emulator keeps it.
type Job struct {
	ID        string
	Key       string
	Model     string
	Request   orp.CreateRequest
	Created   time.Time
	Fail      bool
	ContentOK int // content downloads served
}

// Server is the emulator; an http.Handler.
type Server struct {
	o   Options
	mux *http.ServeMux

	mu     sync.Mutex
	jobs   map[string]*Job
	order  []string
	faults []*Fault
	calls  map[Op]int
}

// models are the ids the emulator serves, and the catalog models they are.
var models = []string{"bytedance/seedance-2.0", "bytedance/seedance-2.0-fast", "bytedance/seedance-1-5-pro"}

// New returns an emulator.
func New(o Options) *Server {
	if o.QueueTime <= 0 {
		o.QueueTime = 50 * time.Millisecond
	}
	if o.RunTime <= 0 {
		o.RunTime = 200 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{o: o, mux: http.NewServeMux(), jobs: map[string]*Job{}, calls: map[Op]int{}}
	s.mux.HandleFunc("POST "+BasePath+orp.VideosPath, s.authed(OpCreate, s.create))
	s.mux.HandleFunc("GET "+BasePath+orp.ModelsPath, s.authed(OpModels, s.models))
	s.mux.HandleFunc("GET "+BasePath+orp.VideosPath+"/{id}", s.authed(OpGet, s.get))
	s.mux.HandleFunc("GET "+BasePath+orp.VideosPath+"/{id}/content", s.authed(OpContent, s.content))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, task.Errorf(task.CodeNotFound, "", "no route %s %s", r.Method, r.URL.Path))
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// InjectFault adds a fault.
func (s *Server) InjectFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Calls is how many calls of op arrived (faulted ones included).
func (s *Server) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Jobs are the jobs created, oldest first (copies).
func (s *Server) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Job, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.jobs[id])
	}
	return out
}

func writeError(w http.ResponseWriter, r *http.Request, err error) { orp.Errors.Write(w, r, err) }

// key is the caller's Bearer key ("" when none is accepted).
func (s *Server) key(r *http.Request) string {
	k, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	k = strings.TrimSpace(k)
	if !ok || k == "" || (len(s.o.APIKeys) > 0 && !slices.Contains(s.o.APIKeys, k)) {
		return ""
	}
	return k
}

type keyed func(w http.ResponseWriter, r *http.Request, key string)

// authed counts the call, applies faults and checks the key.
func (s *Server) authed(op Op, next keyed) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[op]++
		var fault *Fault
		for i, f := range s.faults {
			if f.Op == op {
				fault = f
				if f.Count--; f.Count <= 0 {
					s.faults = slices.Delete(s.faults, i, i+1)
				}
				break
			}
		}
		s.mu.Unlock()
		key := s.key(r)
		if key == "" {
			writeError(w, r, task.Errorf(task.CodeUnauthorized, "", "no valid API key: send Authorization: Bearer <key>"))
			return
		}
		if fault == nil {
			next(w, r, key)
			return
		}
		switch fault.Kind {
		case FaultDrop:
			drop(w)
		case FaultDropAfter:
			next(discard{}, r, key)
			drop(w)
		default:
			status := fault.Status
			if status == 0 {
				status = http.StatusInternalServerError
			}
			wire.WriteJSON(w, status, orp.ErrorEnvelope{Error: orp.APIError{Code: status, Message: "injected fault"}})
		}
	}
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// discard is a ResponseWriter for an operation whose answer is never sent.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func (s *Server) base(r *http.Request) string {
	if s.o.PublicURL != "" {
		return strings.TrimRight(s.o.PublicURL, "/") + BasePath
	}
	return "http://" + r.Host + BasePath
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, key string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		writeError(w, r, task.Errorf(task.CodeInvalidJSON, "", "reading the body: %v", err))
		return
	}
	var b orp.CreateRequest
	if err := wire.Unmarshal(body, &b, false); err != nil {
		writeError(w, r, err)
		return
	}
	model, req, err := b.Decode()
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !slices.Contains(models, model) {
		writeError(w, r, task.Errorf(task.CodeInvalidParameter, "model", "model %q is not a video model; available: %s", model, strings.Join(models, ", ")))
		return
	}
	m, _, _ := task.LookupModel(model)
	if d := req.Duration; d != nil && (*d < m.Durations.Min || *d > m.Durations.Max) {
		writeError(w, r, task.Errorf(task.CodeInvalidParameter, "duration", "duration must be between %d and %d", m.Durations.Min, m.Durations.Max))
		return
	}
	if req.Resolution != "" && !slices.Contains(m.Resolutions, req.Resolution) {
		writeError(w, r, task.Errorf(task.CodeInvalidParameter, "resolution", "resolution %s is not supported by %s", b.Resolution, model))
		return
	}
	if b.PreviousJobID != "" {
		s.mu.Lock()
		prev := s.jobs[b.PreviousJobID]
		done := prev != nil && prev.Key == key && s.status(prev) == orp.StatusCompleted
		s.mu.Unlock()
		if !done {
			writeError(w, r, task.Errorf(task.CodeInvalidParameter, "previous_job_id", "previous_job_id must name a completed job of yours"))
			return
		}
	}
	j := &Job{ID: newID(s.o.Now()), Key: key, Model: model, Request: b, Created: s.o.Now(),
		Fail: strings.Contains(req.Prompt, FailMarker)}
	s.mu.Lock()
	s.jobs[j.ID] = j
	s.order = append(s.order, j.ID)
	v := s.render(j, s.base(r))
	s.mu.Unlock()
	wire.WriteJSON(w, http.StatusAccepted, v)
}

// job is the caller's job of the path, or nil after answering 404.
func (s *Server) job(w http.ResponseWriter, r *http.Request, key string) *Job {
	id := r.PathValue("id")
	s.mu.Lock()
	j := s.jobs[id]
	s.mu.Unlock()
	if j == nil || j.Key != key {
		writeError(w, r, task.Errorf(task.CodeNotFound, "id", "video job %s not found", id))
		return nil
	}
	return j
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, key string) {
	if j := s.job(w, r, key); j != nil {
		s.mu.Lock()
		v := s.render(j, s.base(r))
		s.mu.Unlock()
		wire.WriteJSON(w, http.StatusOK, v)
	}
}

func (s *Server) content(w http.ResponseWriter, r *http.Request, key string) {
	j := s.job(w, r, key)
	if j == nil {
		return
	}
	if idx := r.URL.Query().Get("index"); idx != "" && idx != "0" {
		writeError(w, r, task.Errorf(task.CodeInvalidParameter, "index", "index %s is out of range", idx))
		return
	}
	s.mu.Lock()
	status := s.status(j)
	if status == orp.StatusCompleted {
		j.ContentOK++
	}
	s.mu.Unlock()
	if status != orp.StatusCompleted {
		writeError(w, r, task.Errorf(task.CodeConflict, "id", "video job %s is %s", j.ID, status))
		return
	}
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Content-Length", strconv.Itoa(len(s.o.Video)))
	_, _ = w.Write(s.o.Video)
}

func (s *Server) models(w http.ResponseWriter, r *http.Request, _ string) {
	out := orp.ModelList{Data: []orp.Model{}}
	for _, id := range models {
		m, _, _ := task.LookupModel(id)
		seed, audio := true, m.Features.Audio
		om := orp.Model{ID: id, CanonicalSlug: id, Name: "ByteDance: " + m.Name, AllowedPassthroughParameters: []string{},
			GenerateAudio: &audio, Seed: &seed, SupportedAspectRatios: task.FixedRatios, SupportedFrameImages: []string{orp.FrameFirst, orp.FrameLast},
			PricingSKUs: map[string]string{"video_output_per_second": "0.10"}}
		for d := m.Durations.Min; d <= m.Durations.Max; d++ {
			om.SupportedDurations = append(om.SupportedDurations, d)
		}
		for _, res := range m.Resolutions {
			if res == task.Res4K {
				res = "4K"
			}
			om.SupportedResolutions = append(om.SupportedResolutions, res)
		}
		out.Data = append(out.Data, om)
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// status is j's status now. Callers hold s.mu.
func (s *Server) status(j *Job) string {
	age := s.o.Now().Sub(j.Created)
	switch {
	case age < s.o.QueueTime:
		return orp.StatusPending
	case age < s.o.QueueTime+s.o.RunTime:
		return orp.StatusInProgress
	case j.Fail:
		return orp.StatusFailed
	}
	return orp.StatusCompleted
}

// render is the job's answer. Callers hold s.mu.
func (s *Server) render(j *Job, base string) orp.Video {
	v := orp.Video{ID: j.ID, PollingURL: base + orp.VideoPath(j.ID), Status: s.status(j)}
	switch v.Status {
	case orp.StatusCompleted:
		v.GenerationID = "gen-" + strings.TrimPrefix(j.ID, "gen-vid-")
		v.UnsignedURLs = []string{base + orp.ContentPath(j.ID, 0)}
		seconds := 5
		if j.Request.Duration != nil {
			seconds = *j.Request.Duration
		}
		cost := 0.10 * float64(seconds)
		v.Usage = &orp.Usage{Cost: &cost}
	case orp.StatusFailed:
		v.Error = "the provider refused the prompt (" + FailMarker + ")"
	}
	return v
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newID is a job id in OpenRouter's format: gen-vid-<timestamp>-<20 alphanumerics>.
func newID(now time.Time) string {
	b := make([]byte, 20)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
		b[i] = alnum[n.Int64()]
	}
	return fmt.Sprintf("gen-vid-%d-%s", now.Unix(), b)
}

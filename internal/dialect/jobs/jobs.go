// Package jobs is the gateway's native API (docs/dialects.md#jobs): /v1/jobs and /v1/files.
// It can express everything the other dialects can.
package jobs

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/auth"
	jp "github.com/seedgate/seedgate/internal/protocol/jobs"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Dialect is the name stored on tasks created here.
const Dialect = "jobs"

// Handler serves the jobs and files endpoints; routes.go mounts its methods.
type Handler struct {
	svc *service.Service
	Options
}

// Options tunes a Handler.
type Options struct {
	MaxBodyBytes int64
	// KeepAlive is the event streams' keep-alive interval (default 15 s).
	KeepAlive time.Duration
}

// New returns the dialect's handlers over svc.
func New(svc *service.Service, o Options) *Handler { return &Handler{svc: svc, Options: o} }

// WriteError writes err in the native error answer: the server writes what it refuses
// on this dialect's routes (auth, idempotency, body encoding) through it.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, err)
}

func toRequest(in *jp.Input) (task.Request, error) {
	if in.Prompt == nil {
		return task.Request{}, task.Errorf(task.CodeMissingParameter, "input.prompt", "input.prompt is required")
	}
	ratio := in.Ratio
	if in.AspectRatio != "" {
		if ratio != "" && ratio != in.AspectRatio {
			return task.Request{}, task.Errorf(task.CodeInvalidParameter, "input.aspect_ratio",
				"input.aspect_ratio %q and input.ratio %q disagree; they are synonyms, give one", in.AspectRatio, in.Ratio)
		}
		ratio = in.AspectRatio
	}
	tier := in.ServiceTier
	if tier == "auto" { // the reference example's value: let the gateway choose, i.e. the default tier
		tier = ""
	}
	return task.Request{
		Prompt: *in.Prompt, FirstFrame: in.FirstFrameURL, LastFrame: in.LastFrameURL,
		ReferenceImages: in.ReferenceImageURLs, ReferenceVideos: in.ReferenceVideoURLs, ReferenceAudio: in.ReferenceAudioURLs,
		DraftTaskID: in.DraftTaskID, Resolution: in.Resolution, Ratio: ratio, Duration: in.Duration, Frames: in.Frames,
		Seed: in.Seed, CameraFixed: in.CameraFixed, Watermark: in.Watermark, ReturnLastFrame: in.ReturnLastFrame,
		ServiceTier: tier, GenerateAudio: in.GenerateAudio, ExecutionExpiresAfter: in.ExecutionExpiresAfter,
		Draft: in.Draft, CallbackURL: in.CallbackURL, Priority: in.Priority, SafetyIdentifier: in.SafetyIdentifier,
		OutputFormat: strings.TrimSpace(in.OutputFormat), ReferenceTaskType: strings.TrimSpace(in.OmniReferenceTaskType),
	}, nil
}

// Create is POST /v1/jobs.
func (h *Handler) Create(w http.ResponseWriter, r *http.Request) {
	var cr jp.CreateRequest
	if err := wire.DecodeJSON(w, r, &cr, wire.DecodeOptions{MaxBytes: h.MaxBodyBytes, Strict: true}); err != nil {
		WriteError(w, r, err)
		return
	}
	if cr.Input == nil {
		WriteError(w, r, task.Errorf(task.CodeMissingParameter, "input", "input is required: {\"model\":…,\"input\":{\"prompt\":…}}"))
		return
	}
	req, err := toRequest(cr.Input)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	p, _ := auth.FromContext(r.Context())
	req.RequestID = wire.RequestID(r.Context())
	t, err := h.svc.Create(r.Context(), service.CreateInput{Tenant: p.Tenant, Dialect: Dialect, Model: cr.Model, Request: req, Relax: !cr.Strict})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, render(r, t))
}

// Get is GET /v1/jobs/{id}.
func (h *Handler) Get(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Get(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, render(r, t))
}

// Cancel is POST /v1/jobs/{id}/cancel.
func (h *Handler) Cancel(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Cancel(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, render(r, t))
}

// List is GET /v1/jobs?status=&model=&limit=&after=.
func (h *Handler) List(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := service.ListFilter{After: q.Get("after"), Dialect: q.Get("dialect"), Search: q.Get("q")}
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			WriteError(w, r, task.Errorf(task.CodeInvalidParameter, "limit", "limit must be an integer in [1, 100], got %q", v))
			return
		}
		limit = n
	}
	f.Limit = limit
	for _, s := range strings.Split(q.Get("status"), ",") {
		switch {
		case s == "":
		case s == "processing":
			f.Statuses = append(f.Statuses, task.StatusQueued, task.StatusRunning)
		case task.Status(s).Valid():
			f.Statuses = append(f.Statuses, task.Status(s))
		default:
			WriteError(w, r, task.Errorf(task.CodeInvalidParameter, "status", "unknown status %q: use processing, queued, running, succeeded, failed, cancelled or expired", s))
			return
		}
	}
	if m := q.Get("model"); m != "" {
		model, _, ok := task.LookupModel(m)
		if !ok {
			WriteError(w, r, task.Errorf(task.CodeUnknownModel, "model", "unknown model %q", m))
			return
		}
		f.Model = model.ID
	}
	p, _ := auth.FromContext(r.Context())
	page, err := h.svc.List(r.Context(), p.Tenant, f)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	out := jp.ListAnswer{Object: "list", Data: make([]jp.Job, 0, len(page.Tasks)), HasMore: page.HasMore}
	for _, t := range page.Tasks {
		out.Data = append(out.Data, render(r, t))
	}
	if page.HasMore && len(page.Tasks) > 0 {
		out.NextAfter = page.Tasks[len(page.Tasks)-1].ID
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// WriteError writes err as {"error":{"code","message","field","request_id"}} (jp.Errors).
func WriteError(w http.ResponseWriter, r *http.Request, err error) { jp.Errors.Write(w, r, err) }

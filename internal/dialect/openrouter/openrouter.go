// Package openrouter serves OpenRouter's video API over Seedance tasks, under
// /api/v1: POST /videos (202 with the job and its polling_url), GET
// /videos/{id}, GET /videos/{id}/content?index=0 (the MP4; it needs the key,
// as OpenRouter's does) and GET /videos/models (the catalog with what each
// model takes and its prices). previous_job_id continues a completed job: its
// video becomes the reference video of an extend. The official @openrouter/sdk
// works against it with serverURL set to the gateway's /api/v1.
package openrouter

import (
	"net/http"
	"strings"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/budget"
	orp "github.com/seedgate/seedgate/internal/protocol/openrouter"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Dialect is the name stored on tasks created here.
const Dialect = "openrouter"

// extendTaskType is what a job continuing another asks of the model: the
// SDK documents previous_job_id as "continue the generation".
const extendTaskType = "extend"

// Handler serves the endpoints; routes.go mounts its methods.
type Handler struct {
	svc *service.Service
	Options
}

// Options tunes a Handler.
type Options struct {
	MaxBodyBytes int64
	// PublicURL is the gateway's base URL: polling and content URLs start with it.
	PublicURL string
	// Prices is the price table (nil: balances in tokens), for the models'
	// pricing_skus and a completed job's cost.
	Prices *budget.Prices
}

// New returns the dialect's handlers over svc.
func New(svc *service.Service, o Options) *Handler {
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return &Handler{svc: svc, Options: o}
}

// WriteError writes err in OpenRouter's error answer: the server writes what
// it refuses on this dialect's routes (auth, idempotency, body encoding) through it.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, err)
}

// WriteError writes err as {"error":{"code":<status>,"message","metadata":{"param",…}}} (orp.Errors).
func WriteError(w http.ResponseWriter, r *http.Request, err error) { orp.Errors.Write(w, r, err) }

// Create is POST /api/v1/videos.
func (h *Handler) Create(w http.ResponseWriter, r *http.Request) {
	var b orp.CreateRequest
	if err := wire.DecodeJSON(w, r, &b, wire.DecodeOptions{MaxBytes: h.MaxBodyBytes}); err != nil {
		WriteError(w, r, err)
		return
	}
	model, req, err := b.Decode()
	if err != nil {
		WriteError(w, r, err)
		return
	}
	p, _ := auth.FromContext(r.Context())
	if id := strings.TrimSpace(b.PreviousJobID); id != "" {
		if model, err = h.continueJob(r, p.Tenant, id, model, &req); err != nil {
			WriteError(w, r, err)
			return
		}
	}
	req.RequestID = wire.RequestID(r.Context())
	t, err := h.svc.Create(r.Context(), service.CreateInput{Tenant: p.Tenant, Dialect: Dialect, Model: model, Request: req})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusAccepted, Render(t, h.PublicURL, h.Prices))
}

// continueJob makes req an extend of the completed job id: its video is the
// first reference video, and the job runs on the same model (OpenRouter: "the
// new job runs on the same model and endpoint that produced the previous one").
func (h *Handler) continueJob(r *http.Request, tenant, id, model string, req *task.Request) (string, error) {
	prev, err := h.svc.Get(r.Context(), tenant, id)
	if err != nil {
		if task.ErrorCode(err) == task.CodeNotFound {
			return "", task.Errorf(task.CodeNotFound, "previous_job_id", "previous_job_id %q names no job of yours", id)
		}
		return "", err
	}
	if prev.Status != task.StatusSucceeded || prev.Result == nil || prev.Result.VideoFileID == "" {
		return "", task.Errorf(task.CodeInvalidParameter, "previous_job_id",
			"previous_job_id %s is %s: only a completed job can be continued", id, orp.Status(prev.Status))
	}
	if m, _, ok := task.LookupModel(model); ok && m.ID != prev.Model {
		return "", task.Errorf(task.CodeInvalidParameter, "previous_job_id",
			"job %s was made by %s; a continuation runs on the same model, not %s", id, prev.ModelAlias, model)
	}
	req.ReferenceVideos = append([]string{h.svc.FileURL(prev.Result.VideoFileID)}, req.ReferenceVideos...)
	req.ReferenceTaskType = extendTaskType
	return prev.ModelAlias, nil
}

// Get is GET /api/v1/videos/{id}.
func (h *Handler) Get(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Get(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, Render(t, h.PublicURL, h.Prices))
}

// Content is GET /api/v1/videos/{id}/content?index=0: the job's MP4.
func (h *Handler) Content(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Get(r.Context(), p.Tenant, r.PathValue("id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if idx := r.URL.Query().Get("index"); idx != "" && idx != "0" {
		WriteError(w, r, task.Errorf(task.CodeInvalidParameter, "index", "index must be 0: job %s has one video, got %q", t.ID, idx))
		return
	}
	if t.Status != task.StatusSucceeded || t.Result == nil || t.Result.VideoFileID == "" {
		WriteError(w, r, task.Errorf(task.CodeConflict, "id", "job %s is %s: its content exists once it is completed", t.ID, orp.Status(t.Status)))
		return
	}
	f, obj, err := h.svc.OpenFile(r.Context(), t.Result.VideoFileID)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	defer obj.Close()
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	http.ServeContent(w, r, "", obj.ModTime(), obj)
}

// Package videos serves the xcompute dialect (docs/dialects.md#videos): POST
// /v1/videos/generations with top-level fields and image_urls or
// image_with_roles, answering {"code":200,"data":[{"status":"submitted","task_id":…}]},
// and the task status at GET /v1/videos/generations/{task_id} and GET /v1/tasks/{task_id}.
package videos

import (
	"net/http"
	"slices"
	"strings"

	"github.com/seedgate/seedgate/internal/auth"
	vp "github.com/seedgate/seedgate/internal/protocol/videos"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Dialect is the name stored on tasks created here.
const Dialect = "videos"

// Seed 002's defaults where they differ from the models' own.
const (
	defaultAspectRatio = "16:9"
	defaultResolution  = task.Res720p
)

// Handler serves the endpoints; routes.go mounts its methods.
type Handler struct {
	svc *service.Service
	Options
}

// Options tunes a Handler.
type Options struct {
	MaxBodyBytes int64
}

// New returns the dialect's handlers over svc.
func New(svc *service.Service, o Options) *Handler { return &Handler{svc: svc, Options: o} }

// WriteError writes err in this dialect's error answer: the server writes what it refuses
// on this dialect's routes (auth, idempotency, body encoding) through it.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, err)
}

func toRequest(b *vp.CreateBody) (string, task.Request, error) {
	var r task.Request
	if b.Model == nil || strings.TrimSpace(*b.Model) == "" {
		return "", r, task.Errorf(task.CodeMissingParameter, "model", "model is required, e.g. doubao-seedance-1-5-pro")
	}
	if b.Prompt == nil || strings.TrimSpace(*b.Prompt) == "" {
		return "", r, task.Errorf(task.CodeMissingParameter, "prompt", "prompt is required")
	}
	r.Prompt = *b.Prompt
	switch {
	case len(b.ImageURLs) > 0 && len(b.ImageWithRoles) > 0:
		return "", r, task.Errorf(task.CodeInvalidParameter, "image_with_roles",
			"image_urls and image_with_roles cannot be used together: give one of them")
	case len(b.ImageURLs) > 2:
		return "", r, task.Errorf(task.CodeInvalidParameter, "image_urls",
			"image_urls takes 1 image (the first frame) or 2 (first and last frame), got %d", len(b.ImageURLs))
	case len(b.ImageURLs) > 0:
		r.FirstFrame = b.ImageURLs[0]
		if len(b.ImageURLs) == 2 {
			r.LastFrame = b.ImageURLs[1]
		}
		for i, u := range b.ImageURLs {
			if strings.TrimSpace(u) == "" {
				return "", r, task.Errorf(task.CodeInvalidParameter, "image_urls", "image_urls[%d] is empty", i)
			}
		}
	}
	for i, im := range b.ImageWithRoles {
		if strings.TrimSpace(im.URL) == "" {
			return "", r, task.Errorf(task.CodeInvalidParameter, "image_with_roles", "image_with_roles[%d].url is empty", i)
		}
		var dst *string
		switch im.Role {
		case "first_frame":
			dst = &r.FirstFrame
		case "last_frame":
			dst = &r.LastFrame
		default:
			return "", r, task.Errorf(task.CodeInvalidParameter, "image_with_roles",
				"image_with_roles[%d].role %q is not valid: use first_frame or last_frame", i, im.Role)
		}
		if *dst != "" {
			return "", r, task.Errorf(task.CodeInvalidParameter, "image_with_roles",
				"image_with_roles has more than one %s: at most one first_frame and one last_frame", im.Role)
		}
		*dst = im.URL
	}
	r.Duration, r.Seed, r.CameraFixed, r.Watermark = b.Duration, b.Seed, b.CameraFixed, b.Watermark
	r.Ratio, r.Resolution, r.CallbackURL = b.AspectRatio, b.Resolution, strings.TrimSpace(b.CallbackURL)
	r.OutputFormat = strings.TrimSpace(b.OutputFormat)
	m, implied, known := task.LookupModel(*b.Model)
	mode := task.InputModeOf(&r)
	// This dialect's defaults apply where the model takes them; elsewhere
	// (a model that follows the image's shape, one without 720p) the model's own.
	if r.Ratio == "" && !(known && m.AdaptiveOnly(mode)) {
		r.Ratio = defaultAspectRatio
	}
	if r.Resolution == "" && implied == "" && (!known || slices.Contains(m.ResolutionsFor(mode), defaultResolution)) {
		r.Resolution = defaultResolution
	}
	// audio defaults to false here (the model's own default is true); the
	// catalog clears a false switch for models without audio.
	r.GenerateAudio = b.Audio
	if r.GenerateAudio == nil {
		r.GenerateAudio = task.Bool(false)
	}
	return *b.Model, r, nil
}

// Create is POST /v1/videos/generations.
func (h *Handler) Create(w http.ResponseWriter, r *http.Request) {
	var b vp.CreateBody
	if err := wire.DecodeJSON(w, r, &b, wire.DecodeOptions{MaxBytes: h.MaxBodyBytes}); err != nil {
		WriteError(w, r, err)
		return
	}
	model, req, err := toRequest(&b)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	req.RequestID = wire.RequestID(r.Context())
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Create(r.Context(), service.CreateInput{Tenant: p.Tenant, Dialect: Dialect, Model: model, Request: req})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, vp.CreateAnswer{Code: http.StatusOK, Data: []vp.Submitted{{Status: "submitted", TaskID: t.ID}}})
}

// Get is GET /v1/videos/generations/{task_id} and GET /v1/tasks/{task_id}.
func (h *Handler) Get(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Get(r.Context(), p.Tenant, r.PathValue("task_id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, WebhookPayload(t))
}

// WriteError writes err as {"error":{"code":<status>,"message","type"}} (vp.Errors).
func WriteError(w http.ResponseWriter, r *http.Request, err error) { vp.Errors.Write(w, r, err) }

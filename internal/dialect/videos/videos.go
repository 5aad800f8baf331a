// Package videos serves the xcompute dialect (seed 002): POST
// /v1/videos/generations with top-level fields and image_urls or
// image_with_roles, answering {"code":200,"data":[{"status":"submitted","task_id":…}]},
// and the task status at GET /v1/videos/generations/{task_id} and GET /v1/tasks/{task_id}.
package videos

import (
	"net/http"
	"strings"

	"github.com/seedgate/seedgate/internal/auth"
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
	Service      *service.Service
	MaxBodyBytes int64
}

type createBody struct {
	Model          *string     `json:"model"`
	Prompt         *string     `json:"prompt"`
	Duration       *int        `json:"duration"`
	AspectRatio    string      `json:"aspect_ratio"`
	Resolution     string      `json:"resolution"`
	Seed           *int64      `json:"seed"`
	Audio          *bool       `json:"audio"`
	CameraFixed    *bool       `json:"camerafixed"`
	Watermark      *bool       `json:"watermark"`
	ImageURLs      []string    `json:"image_urls"`
	ImageWithRoles []roleImage `json:"image_with_roles"`
	CallbackURL    string      `json:"callback_url"`
}

type roleImage struct {
	URL  string `json:"url"`
	Role string `json:"role"`
}

// DecodeCreate decodes a create body into the model name and request
// (exported for the fuzz target).
func DecodeCreate(body []byte) (model string, req task.Request, err error) {
	var b createBody
	if err := wire.Unmarshal(body, &b, false); err != nil {
		return "", task.Request{}, err
	}
	return b.toRequest()
}

func (b *createBody) toRequest() (string, task.Request, error) {
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
	if r.Ratio == "" {
		r.Ratio = defaultAspectRatio
	}
	if r.Resolution == "" && !impliesResolution(*b.Model) {
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

// impliesResolution: a model name like seedance-1.5-pro-1080p carries its resolution.
func impliesResolution(model string) bool {
	_, res, ok := task.LookupModel(model)
	return ok && res != ""
}

// Create is POST /v1/videos/generations.
func (h *Handler) Create(w http.ResponseWriter, r *http.Request) {
	var b createBody
	if err := wire.DecodeJSON(w, r, &b, wire.DecodeOptions{MaxBytes: h.MaxBodyBytes}); err != nil {
		WriteError(w, r, err)
		return
	}
	model, req, err := b.toRequest()
	if err != nil {
		WriteError(w, r, err)
		return
	}
	req.RequestID = wire.RequestID(r.Context())
	p, _ := auth.FromContext(r.Context())
	t, err := h.Service.Create(r.Context(), service.CreateInput{Tenant: p.Tenant, Dialect: Dialect, Model: model, Request: req})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, createAnswer{Code: http.StatusOK, Data: []submitted{{Status: "submitted", TaskID: t.ID}}})
}

type createAnswer struct {
	Code int         `json:"code"`
	Data []submitted `json:"data"`
}

type submitted struct {
	Status string `json:"status"`
	TaskID string `json:"task_id"`
}

// Get is GET /v1/videos/generations/{task_id} and GET /v1/tasks/{task_id}.
func (h *Handler) Get(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	t, err := h.Service.Get(r.Context(), p.Tenant, r.PathValue("task_id"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, WebhookPayload(t))
}

// errorRow is how one error code looks on this dialect's wire.
type errorRow struct {
	status int
	typ    string
}

// errorTable maps error codes to the seed's statuses and types (400
// invalid_request_error, 401 authentication_error, 402 payment_required, 429
// rate_limit_error, 500 server_error); the rest are decisions in the same style.
var errorTable = map[task.Code]errorRow{
	task.CodeInvalidParameter: {http.StatusBadRequest, "invalid_request_error"},
	task.CodeMissingParameter: {http.StatusBadRequest, "invalid_request_error"},
	task.CodeInvalidJSON:      {http.StatusBadRequest, "invalid_request_error"},
	task.CodeUnknownModel:     {http.StatusBadRequest, "invalid_request_error"},
	task.CodeBodyTooLarge:     {http.StatusRequestEntityTooLarge, "invalid_request_error"},
	task.CodeUnsupportedMedia: {http.StatusUnsupportedMediaType, "invalid_request_error"},
	task.CodeUnauthorized:     {http.StatusUnauthorized, "authentication_error"},
	task.CodeForbidden:        {http.StatusForbidden, "permission_error"},
	task.CodePaymentRequired:  {http.StatusPaymentRequired, "payment_required"},
	task.CodeNotFound:         {http.StatusNotFound, "not_found_error"},
	task.CodeConflict:         {http.StatusConflict, "invalid_request_error"},
	task.CodeRateLimited:      {http.StatusTooManyRequests, "rate_limit_error"},
	task.CodeQuotaExceeded:    {http.StatusTooManyRequests, "rate_limit_error"},
	task.CodeUpstream:         {http.StatusBadGateway, "server_error"},
	task.CodeUnavailable:      {http.StatusServiceUnavailable, "server_error"},
	task.CodeInternal:         {http.StatusInternalServerError, "server_error"},
}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   string `json:"param,omitempty"`
}

// WriteError writes err as {"error":{"code":<status>,"message","type"}} (plus
// "param" naming the field when there is one).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := task.AsError(err)
	row, ok := errorTable[e.Code]
	if !ok {
		row = errorTable[task.CodeInternal]
	}
	wire.SetRetryAfter(w, e)
	wire.WriteJSON(w, row.status, map[string]apiError{"error": {Code: row.status, Message: e.Message, Type: row.typ, Param: field(e.Field)}})
}

// field names a normalized request field as this dialect's clients write it.
func field(f string) string {
	switch f {
	case "ratio":
		return "aspect_ratio"
	case "generate_audio":
		return "audio"
	case "camera_fixed":
		return "camerafixed"
	case "first_frame", "last_frame":
		return "image_urls"
	}
	return f
}

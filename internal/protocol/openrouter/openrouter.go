// Package openrouter is the wire protocol of OpenRouter's video API
// (/api/v1/videos…), as its official TypeScript SDK (@openrouter/sdk) spells
// it on the wire: the create body, the video job, the model list and the
// error answer, and their mapping to and from seedgate's task.Request and
// task.Task. The openrouter dialect serves it; the openrouter channel kind
// and the emulator (internal/openrouteremu) call and answer it with the same
// declarations. No HTTP handlers live here.
package openrouter

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Paths under the API's base (https://openrouter.ai/api/v1).
const (
	BasePath    = "/api/v1"
	VideosPath  = "/videos"
	ModelsPath  = "/videos/models"
	contentPath = "/content"
)

// VideoPath is the job's polling path under the base.
func VideoPath(id string) string { return VideosPath + "/" + url.PathEscape(id) }

// ContentPath is the path of the job's index-th video under the base.
func ContentPath(id string, index int) string {
	return VideoPath(id) + contentPath + "?index=" + strconv.Itoa(index)
}

// Job statuses.
const (
	StatusPending    = "pending"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
	StatusExpired    = "expired"
)

// Frame types of FrameImage, and the item types of frames and references.
const (
	FrameFirst = "first_frame"
	FrameLast  = "last_frame"

	TypeImageURL = "image_url"
	TypeVideoURL = "video_url"
	TypeAudioURL = "audio_url"
)

// CreateRequest is POST /videos (VideoGenerationRequest$Outbound).
type CreateRequest struct {
	Model           string           `json:"model"`
	Prompt          *string          `json:"prompt,omitempty"`
	Duration        *int             `json:"duration,omitempty"`
	Resolution      string           `json:"resolution,omitempty"` // 360p 480p 720p 768p 1080p 1K 2K 4K
	AspectRatio     string           `json:"aspect_ratio,omitempty"`
	Size            string           `json:"size,omitempty"` // "WIDTHxHEIGHT"
	Seed            *int64           `json:"seed,omitempty"`
	GenerateAudio   *bool            `json:"generate_audio,omitempty"`
	FrameImages     []FrameImage     `json:"frame_images,omitempty"`
	InputReferences []InputReference `json:"input_references,omitempty"`
	PreviousJobID   string           `json:"previous_job_id,omitempty"`
	CallbackURL     string           `json:"callback_url,omitempty"`
	// Provider is passed through to the provider that runs the job
	// ({"options":{"<slug>":{…}}}); seedgate accepts and ignores it.
	Provider json.RawMessage `json:"provider,omitempty"`
	// Observability fields OpenRouter never sends to the provider.
	SessionID string          `json:"session_id,omitempty"`
	User      string          `json:"user,omitempty"`
	Trace     json.RawMessage `json:"trace,omitempty"`
	// Upscaling models only; a generation model refuses them.
	Creativity    *float64 `json:"creativity,omitempty"`
	UpscaleFactor *float64 `json:"upscale_factor,omitempty"`
}

// URL is {"url": …}.
type URL struct {
	URL string `json:"url"`
}

// FrameImage is an image used as the first or last frame.
type FrameImage struct {
	Type      string `json:"type"` // image_url
	ImageURL  URL    `json:"image_url"`
	FrameType string `json:"frame_type"` // first_frame | last_frame
}

// InputReference is a reference asset: an image, a video or an audio clip.
type InputReference struct {
	Type     string `json:"type"` // image_url | video_url | audio_url
	ImageURL *URL   `json:"image_url,omitempty"`
	VideoURL *URL   `json:"video_url,omitempty"`
	AudioURL *URL   `json:"audio_url,omitempty"`
}

// Video is the job: the answer of the create (202) and of GET /videos/{id}
// (VideoGenerationResponse).
type Video struct {
	ID           string   `json:"id"`
	PollingURL   string   `json:"polling_url"`
	Status       string   `json:"status"`
	GenerationID string   `json:"generation_id,omitempty"`
	UnsignedURLs []string `json:"unsigned_urls,omitempty"`
	Usage        *Usage   `json:"usage,omitempty"`
	// Error is a failed job's reason, as a string.
	Error string `json:"error,omitempty"`
}

// Usage is a completed job's cost (VideoGenerationUsage).
type Usage struct {
	Cost   *float64 `json:"cost"` // USD; null when unknown
	IsBYOK bool     `json:"is_byok"`
}

// ModelList is GET /videos/models.
type ModelList struct {
	Data []Model `json:"data"`
}

// Model is one video model and what it takes (VideoModel). The SDK requires
// every key but the optional ones, nullable where it says so.
type Model struct {
	ID                           string            `json:"id"`
	CanonicalSlug                string            `json:"canonical_slug"`
	Name                         string            `json:"name"`
	Description                  string            `json:"description,omitempty"`
	Created                      int64             `json:"created"`
	AllowedPassthroughParameters []string          `json:"allowed_passthrough_parameters"`
	Creativity                   []int             `json:"creativity"`
	GenerateAudio                *bool             `json:"generate_audio"`
	HuggingFaceID                *string           `json:"hugging_face_id,omitempty"`
	PricingSKUs                  map[string]string `json:"pricing_skus,omitempty"`
	Seed                         *bool             `json:"seed"`
	SupportedAspectRatios        []string          `json:"supported_aspect_ratios"`
	SupportedDurations           []int             `json:"supported_durations"`
	SupportedFrameImages         []string          `json:"supported_frame_images"`
	SupportedResolutions         []string          `json:"supported_resolutions"`
	SupportedSizes               []string          `json:"supported_sizes"`
	UpscaleFactor                *UpscaleFactor    `json:"upscale_factor"`
}

// UpscaleFactor is an upscaling model's factor range.
type UpscaleFactor struct {
	Min *float64 `json:"min"`
	Max *float64 `json:"max"`
}

// APIError is the error object: the HTTP status as a number, a message and
// free-form metadata (seedgate puts the field at fault there, as "param").
type APIError struct {
	Code     int            `json:"code"`
	Message  string         `json:"message"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// ErrorEnvelope is {"error":{"code":<status>,"message","metadata"}}.
type ErrorEnvelope struct {
	Error  APIError `json:"error"`
	UserID *string  `json:"user_id,omitempty"`
}

// ErrorTable maps error codes to the statuses the SDK expects (its error
// classes: 400, 401, 402, 403, 404, 409, 410, 413, 429, 500, 502); Code is
// the error_code seedgate adds to the metadata.
var ErrorTable = wire.ErrorTable{
	task.CodeInvalidParameter: {Status: http.StatusBadRequest, Code: "invalid_parameter"},
	task.CodeMissingParameter: {Status: http.StatusBadRequest, Code: "missing_parameter"},
	task.CodeInvalidJSON:      {Status: http.StatusBadRequest, Code: "invalid_json"},
	task.CodeUnknownModel:     {Status: http.StatusBadRequest, Code: "unknown_model"},
	task.CodeBodyTooLarge:     {Status: http.StatusRequestEntityTooLarge, Code: "body_too_large"},
	task.CodeUnsupportedMedia: {Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type"},
	task.CodeUnauthorized:     {Status: http.StatusUnauthorized, Code: "unauthorized"},
	task.CodeForbidden:        {Status: http.StatusForbidden, Code: "forbidden"},
	task.CodePaymentRequired:  {Status: http.StatusPaymentRequired, Code: "payment_required"},
	task.CodeNotFound:         {Status: http.StatusNotFound, Code: "not_found"},
	task.CodeConflict:         {Status: http.StatusConflict, Code: "conflict"},
	task.CodeRateLimited:      {Status: http.StatusTooManyRequests, Code: "rate_limited"},
	task.CodeQuotaExceeded:    {Status: http.StatusTooManyRequests, Code: "quota_exceeded"},
	task.CodeUpstream:         {Status: http.StatusBadGateway, Code: "upstream_error"},
	task.CodeUnavailable:      {Status: http.StatusServiceUnavailable, Code: "unavailable"},
	task.CodeInternal:         {Status: http.StatusInternalServerError, Code: "internal"},

	task.CodeUpstreamOutcomeUnknown: {Status: http.StatusBadGateway, Code: "upstream_outcome_unknown"},
}

// Errors writes errors as {"error":{"code":<status>,"message","metadata":{"param","error_code","request_id"}}}.
var Errors = wire.Errors{Table: ErrorTable, Shape: func(r *http.Request, e *task.Error, row wire.ErrorRow) any {
	md := map[string]any{"error_code": row.Code}
	if e.Field != "" {
		md["param"] = Param(e.Field)
	}
	if e.UpstreamCode != "" {
		md["upstream_code"] = e.UpstreamCode
	}
	if id := wire.RequestID(r.Context()); id != "" {
		md["request_id"] = id
	}
	return ErrorEnvelope{Error: APIError{Code: row.Status, Message: e.Message, Metadata: md}}
}}

// Param names a normalized request field as this API's clients write it.
func Param(f string) string {
	switch f {
	case "ratio":
		return "aspect_ratio"
	case "first_frame", "last_frame":
		return "frame_images"
	case "reference_images", "reference_videos", "reference_audio":
		return "input_references"
	}
	for _, p := range []string{"reference_images[", "reference_videos[", "reference_audio["} {
		if strings.HasPrefix(f, p) {
			return "input_references"
		}
	}
	return f
}

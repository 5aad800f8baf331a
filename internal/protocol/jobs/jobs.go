// Package jobs is the wire protocol of the gateway's native API (/v1/jobs):
// the create request, the job object, the list page, webhook deliveries and
// secrets, and the error answer. No HTTP handlers live here.
package jobs

import (
	"net/http"
	"strings"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

type CreateRequest struct {
	Model string `json:"model"`
	Input *Input `json:"input"`
	// Strict rejects what the model cannot take; by default the job is relaxed
	// (Model.Relax: the reference example sends more than 1.5 pro takes) and
	// the changes are returned as warnings.
	Strict bool `json:"strict,omitempty"`
}

// input is the seed's INPUT SCHEMA plus the fields the other dialects can set.
type Input struct {
	Prompt                *string  `json:"prompt"`
	FirstFrameURL         string   `json:"first_frame_url,omitempty"`
	LastFrameURL          string   `json:"last_frame_url,omitempty"`
	ReferenceImageURLs    []string `json:"reference_image_urls,omitempty"`
	ReferenceVideoURLs    []string `json:"reference_video_urls,omitempty"`
	ReferenceAudioURLs    []string `json:"reference_audio_urls,omitempty"`
	DraftTaskID           string   `json:"draft_task_id,omitempty"`
	Resolution            string   `json:"resolution,omitempty"`
	Duration              *int     `json:"duration,omitempty"`
	AspectRatio           string   `json:"aspect_ratio,omitempty"`
	Ratio                 string   `json:"ratio,omitempty"`
	Frames                *int     `json:"frames,omitempty"`
	Seed                  *int64   `json:"seed,omitempty"`
	CameraFixed           *bool    `json:"camera_fixed,omitempty"`
	Watermark             *bool    `json:"watermark,omitempty"`
	ReturnLastFrame       *bool    `json:"return_last_frame,omitempty"`
	ServiceTier           string   `json:"service_tier,omitempty"`
	GenerateAudio         *bool    `json:"generate_audio,omitempty"`
	ExecutionExpiresAfter *int     `json:"execution_expires_after,omitempty"`
	Draft                 *bool    `json:"draft,omitempty"`
	CallbackURL           string   `json:"callback_url,omitempty"`
	Priority              *int     `json:"priority,omitempty"`
	SafetyIdentifier      string   `json:"safety_identifier,omitempty"`
	// OutputFormat is the result's container: mp4 or mov (models that list it).
	OutputFormat string `json:"output_format,omitempty"`
	// OmniReferenceTaskType is what the references are for: auto, reference,
	// edit or extend (one reference video: the one to change or continue).
	OmniReferenceTaskType string `json:"omni_reference_task_type,omitempty"`
}

type ListAnswer struct {
	Object    string `json:"object"`
	Data      []Job  `json:"data"`
	HasMore   bool   `json:"has_more"`
	NextAfter string `json:"next_after,omitempty"`
}

// Job is the wire form of a task.
type Job struct {
	ID        string    `json:"id"`
	Object    string    `json:"object"`
	Status    string    `json:"status"` // processing | succeeded | failed | cancelled | expired
	Model     string    `json:"model"`
	Created   int64     `json:"created"`
	Updated   int64     `json:"updated"`
	Finished  *int64    `json:"finished,omitempty"`
	Progress  int       `json:"progress"`
	RequestID string    `json:"request_id"`
	Dialect   string    `json:"dialect"`
	Warnings  []string  `json:"warnings,omitempty"`
	Input     Input     `json:"input"`
	Output    Output    `json:"output"`
	Usage     *Usage    `json:"usage,omitempty"`
	Error     *JobError `json:"error"`
}

type Output struct {
	TaskID       string  `json:"task_id"`
	Status       string  `json:"status"` // the task's own status: queued, running, …
	Videos       []Video `json:"videos"`
	LastFrameURL string  `json:"last_frame_url,omitempty"`
	Seed         *int64  `json:"seed,omitempty"`
	Resolution   string  `json:"resolution,omitempty"`
	Ratio        string  `json:"ratio,omitempty"`
}

type Video struct {
	URL      string  `json:"url"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Duration float64 `json:"duration"`
	FPS      int     `json:"fps"`
	HasAudio bool    `json:"has_audio"`
}

type Usage struct {
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

type JobError struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	UpstreamCode string `json:"upstream_code,omitempty"`
}

type Delivery struct {
	ID             string    `json:"id"` // the webhook-id header of every attempt
	Object         string    `json:"object"`
	TaskID         string    `json:"task_id"`
	TaskStatus     string    `json:"task_status"` // the status the event announces
	URL            string    `json:"url"`
	State          string    `json:"state"` // pending | delivered | failed | gone | skipped
	Attempts       int       `json:"attempts"`
	NextAttemptAt  *int64    `json:"next_attempt_at"`
	LastStatusCode int       `json:"last_status_code,omitempty"`
	LastError      string    `json:"last_error,omitempty"`
	Created        int64     `json:"created"`
	DeliveredAt    *int64    `json:"delivered_at,omitempty"`
	AttemptLog     []Attempt `json:"attempt_log"`
}

type Attempt struct {
	N            int    `json:"n"`
	At           int64  `json:"at"`
	DurationMS   int64  `json:"duration_ms"`
	StatusCode   int    `json:"status_code,omitempty"`
	Error        string `json:"error,omitempty"`
	ResponseBody string `json:"response_body,omitempty"`
	Manual       bool   `json:"manual,omitempty"`
}

type SecretAnswer struct {
	Object                string `json:"object"`
	KeyID                 string `json:"key_id"`
	Secret                string `json:"secret"`
	PreviousSecretExpires *int64 `json:"previous_secret_expires_at,omitempty"`
	Created               int64  `json:"created"`
	Rotated               *int64 `json:"rotated,omitempty"`
}

// DeliveryList is GET /v1/jobs/{id}/deliveries.
type DeliveryList struct {
	Object string     `json:"object"`
	Data   []Delivery `json:"data"`
}

// ErrorBody is the error object.
type ErrorBody struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	Field        string `json:"field,omitempty"`
	UpstreamCode string `json:"upstream_code,omitempty"`
	RequestID    string `json:"request_id,omitempty"`
}

// ErrorEnvelope is {"error":{"code","message","field","request_id"}}.
type ErrorEnvelope struct {
	Error ErrorBody `json:"error"`
}

// ErrorTable is empty: the native API answers every code with its default
// status (wire.HTTPStatus) and the code itself.
var ErrorTable = wire.ErrorTable{}

// Errors writes errors as {"error":{"code","message","field","request_id"}}.
var Errors = wire.Errors{Table: ErrorTable, Shape: func(r *http.Request, e *task.Error, row wire.ErrorRow) any {
	return ErrorEnvelope{Error: ErrorBody{Code: row.Code, Message: e.Message, Field: Field(e.Field),
		UpstreamCode: e.UpstreamCode, RequestID: wire.RequestID(r.Context())}}
}}

// Field names a normalized request field as this API's clients write it.
func Field(f string) string {
	switch f {
	case "", "model", "input", "limit", "status", "id", "kind", "purpose", "file", "after", "Idempotency-Key", "delivery_id":
		return f
	case "first_frame":
		return "input.first_frame_url"
	case "last_frame":
		return "input.last_frame_url"
	case "ratio":
		return "input.aspect_ratio"
	}
	if strings.HasPrefix(f, "input.") {
		return f
	}
	for _, p := range [][2]string{{"reference_images", "reference_image_urls"}, {"reference_videos", "reference_video_urls"}, {"reference_audio", "reference_audio_urls"}} {
		if rest, ok := strings.CutPrefix(f, p[0]); ok {
			return "input." + p[1] + rest
		}
	}
	return "input." + f
}

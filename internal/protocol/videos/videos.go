// Package videos is the wire protocol of the xcompute dialect: the create body
// (top-level fields with image_urls or image_with_roles), the create answer
// {"code":200,"data":[…]}, the task status object, and the error answer. No
// HTTP handlers live here.
package videos

import (
	"net/http"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// CreateBody is POST /v1/videos/generations. omitempty leaves out what a
// client (the videos channel kind) does not set; the dialect decodes the same
// type and reads absent fields as the seed's defaults.
type CreateBody struct {
	Model          *string     `json:"model,omitempty"`
	Prompt         *string     `json:"prompt,omitempty"`
	Duration       *int        `json:"duration,omitempty"`
	AspectRatio    string      `json:"aspect_ratio,omitempty"`
	Resolution     string      `json:"resolution,omitempty"`
	Seed           *int64      `json:"seed,omitempty"`
	Audio          *bool       `json:"audio,omitempty"`
	CameraFixed    *bool       `json:"camerafixed,omitempty"`
	Watermark      *bool       `json:"watermark,omitempty"`
	ImageURLs      []string    `json:"image_urls,omitempty"`
	ImageWithRoles []RoleImage `json:"image_with_roles,omitempty"`
	CallbackURL    string      `json:"callback_url,omitempty"`
	// OutputFormat is the result's container, mp4 or mov (a gateway
	// addition in the body's own flat style).
	OutputFormat string `json:"output_format,omitempty"`
}

// RoleImage is an image with its role (first_frame or last_frame).
type RoleImage struct {
	URL  string `json:"url"`
	Role string `json:"role"`
}

// CreateAnswer is {"code":200,"data":[{"status":"submitted","task_id":…}]}.
type CreateAnswer struct {
	Code int         `json:"code"`
	Data []Submitted `json:"data"`
}

// Submitted is a created task.
type Submitted struct {
	Status string `json:"status"`
	TaskID string `json:"task_id"`
}

// StatusAnswer is {"code":200,"data":{task_id,status,video_url,…}}.
type StatusAnswer struct {
	Code int        `json:"code"`
	Data TaskStatus `json:"data"`
}

// TaskStatus is the task status object.
type TaskStatus struct {
	TaskID       string     `json:"task_id"`
	Status       string     `json:"status"` // submitted, processing, succeeded, failed, cancelled, expired
	Progress     int        `json:"progress"`
	Model        string     `json:"model"`
	VideoURL     string     `json:"video_url"`
	LastFrameURL string     `json:"last_frame_url,omitempty"`
	Duration     *int       `json:"duration,omitempty"`
	AspectRatio  string     `json:"aspect_ratio"`
	Resolution   string     `json:"resolution"`
	Width        int        `json:"width,omitempty"`
	Height       int        `json:"height,omitempty"`
	Audio        bool       `json:"audio"`
	Seed         *int64     `json:"seed,omitempty"`
	Usage        *Usage     `json:"usage,omitempty"`
	Error        *TaskError `json:"error,omitempty"`
	CreatedAt    int64      `json:"created_at"`
	UpdatedAt    int64      `json:"updated_at"`
	FinishedAt   *int64     `json:"finished_at,omitempty"`
}

// Usage is what a succeeded task is billed.
type Usage struct {
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// TaskError is a failed task's reason.
type TaskError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// APIError is the error object; Code repeats the HTTP status.
type APIError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   string `json:"param,omitempty"`
}

// ErrorEnvelope is {"error":{"code":<status>,"message","type"}}.
type ErrorEnvelope struct {
	Error APIError `json:"error"`
}

// ErrorTable maps error codes to the dialect's statuses and types (400
// invalid_request_error, 401 authentication_error, 402 payment_required, 429
// rate_limit_error, 500 server_error); the rest are decisions in the same style.
var ErrorTable = wire.ErrorTable{
	task.CodeInvalidParameter: {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeMissingParameter: {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeInvalidJSON:      {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeUnknownModel:     {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeBodyTooLarge:     {Status: http.StatusRequestEntityTooLarge, Code: "invalid_request_error"},
	task.CodeUnsupportedMedia: {Status: http.StatusUnsupportedMediaType, Code: "invalid_request_error"},
	task.CodeUnauthorized:     {Status: http.StatusUnauthorized, Code: "authentication_error"},
	task.CodeForbidden:        {Status: http.StatusForbidden, Code: "permission_error"},
	task.CodePaymentRequired:  {Status: http.StatusPaymentRequired, Code: "payment_required"},
	task.CodeNotFound:         {Status: http.StatusNotFound, Code: "not_found_error"},
	task.CodeConflict:         {Status: http.StatusConflict, Code: "invalid_request_error"},
	task.CodeRateLimited:      {Status: http.StatusTooManyRequests, Code: "rate_limit_error"},
	task.CodeQuotaExceeded:    {Status: http.StatusTooManyRequests, Code: "rate_limit_error"},
	task.CodeUpstream:         {Status: http.StatusBadGateway, Code: "server_error"},
	task.CodeUnavailable:      {Status: http.StatusServiceUnavailable, Code: "server_error"},
	task.CodeInternal:         {Status: http.StatusInternalServerError, Code: "server_error"},

	task.CodeUpstreamOutcomeUnknown: {Status: http.StatusBadGateway, Code: "server_error"},
}

// Errors writes errors as {"error":{"code":<status>,"message","type"}} (plus
// "param" naming the field when there is one).
var Errors = wire.Errors{Table: ErrorTable, Shape: func(_ *http.Request, e *task.Error, row wire.ErrorRow) any {
	return ErrorEnvelope{Error: APIError{Code: row.Status, Message: e.Message, Type: row.Code, Param: Param(e.Field)}}
}}

// Param names a normalized request field as this dialect's clients write it.
func Param(f string) string {
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

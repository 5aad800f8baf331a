// Package seedance is the wire protocol of the xhuoapi Seedance dialect: Ark's
// create body (content[] and top-level fields, plus "camerafixed"), the
// {"success","task_id","trace_id","data"} envelope, the retrieve call and its
// list, and the error answer. No HTTP handlers live here.
package seedance

import (
	"net/http"

	"github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// CreateBody is Ark's body (content[] and the top-level fields) plus the
// spelling "camerafixed".
type CreateBody struct {
	Model       string      `json:"model"`
	Content     ark.Content `json:"content"`
	CameraFixed *bool       `json:"camerafixed"`
	ark.Params
}

// Envelope is the answer about one task: task_id is the create call's request
// id (the one a callback_url client got at once), data.task_id the task's own.
type Envelope struct {
	Success bool      `json:"success"`
	TaskID  string    `json:"task_id"`
	TraceID string    `json:"trace_id"`
	Data    Data      `json:"data"`
	Error   *APIError `json:"error,omitempty"`
}

// Data is a task in the envelope.
type Data struct {
	TaskID       string `json:"task_id"`
	Status       string `json:"status"`
	VideoURL     string `json:"video_url,omitempty"`
	Model        string `json:"model,omitempty"`
	LastFrameURL string `json:"last_frame_url,omitempty"`
	Progress     *int   `json:"progress,omitempty"`
	// ErrorCode and ErrorMessage say why a task failed (Ark's code).
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
}

// RetrieveBody is POST /v1/seedance/tasks: {"id":…} or {"ids":[…]}.
type RetrieveBody struct {
	ID  string   `json:"id"`
	IDs []string `json:"ids"`
}

// ListAnswer answers a retrieve of several ids.
type ListAnswer struct {
	Success bool   `json:"success"`
	TraceID string `json:"trace_id"`
	Data    []Data `json:"data"`
}

// APIError is the error object.
type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// ErrorAnswer is {"success":false,"error":{"code","message"},"trace_id"}.
type ErrorAnswer struct {
	Success bool     `json:"success"`
	Error   APIError `json:"error"`
	TraceID string   `json:"trace_id"`
}

// ErrorTable maps error codes to the dialect's statuses and codes: bad
// requests are token_mismatched ("missing or invalid parameters"), unsupported
// ones api_not_implemented; 404, 402, 403 and 409 are decisions in the same style.
var ErrorTable = wire.ErrorTable{
	task.CodeInvalidParameter: {Status: http.StatusBadRequest, Code: "token_mismatched"},
	task.CodeMissingParameter: {Status: http.StatusBadRequest, Code: "token_mismatched"},
	task.CodeInvalidJSON:      {Status: http.StatusBadRequest, Code: "token_mismatched"},
	task.CodeUnknownModel:     {Status: http.StatusBadRequest, Code: "token_mismatched"},
	task.CodeBodyTooLarge:     {Status: http.StatusBadRequest, Code: "token_mismatched"},
	task.CodeUnsupportedMedia: {Status: http.StatusBadRequest, Code: "api_not_implemented"},
	task.CodeUnauthorized:     {Status: http.StatusUnauthorized, Code: "invalid_token"},
	task.CodeForbidden:        {Status: http.StatusForbidden, Code: "forbidden"},
	task.CodePaymentRequired:  {Status: http.StatusPaymentRequired, Code: "insufficient_balance"},
	task.CodeNotFound:         {Status: http.StatusNotFound, Code: "not_found"},
	task.CodeConflict:         {Status: http.StatusConflict, Code: "conflict"},
	task.CodeRateLimited:      {Status: http.StatusTooManyRequests, Code: "too_many_requests"},
	task.CodeQuotaExceeded:    {Status: http.StatusTooManyRequests, Code: "too_many_requests"},
	task.CodeUpstream:         {Status: http.StatusInternalServerError, Code: "api_error"},
	task.CodeUnavailable:      {Status: http.StatusInternalServerError, Code: "api_error"},
	task.CodeInternal:         {Status: http.StatusInternalServerError, Code: "api_error"},

	task.CodeUpstreamOutcomeUnknown: {Status: http.StatusInternalServerError, Code: "api_error"},
}

// Errors writes errors as {"success":false,"error":{"code","message"},"trace_id"}.
var Errors = wire.Errors{Table: ErrorTable, Shape: func(r *http.Request, e *task.Error, row wire.ErrorRow) any {
	return ErrorAnswer{Error: APIError{Code: row.Code, Message: e.Message, Field: Param(e.Field)}, TraceID: wire.RequestID(r.Context())}
}}

// Param names a normalized request field as this dialect's clients write it.
func Param(f string) string {
	if f == "camera_fixed" {
		return "camerafixed"
	}
	return ark.Param(f)
}
